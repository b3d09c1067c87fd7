"""Plain-language Yes / No / Not sure questions for rules and criteria.

A question always asks whether the rule's statement is true of the patient ("Have you had a stem cell
transplant from a donor in the last 12 weeks?"); "Yes" means the leaf holds. Negations ask about the
thing negated. The wording lives in ``data/criteria/questions.yaml``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from trialmatch.criteria.describe import written_unit
from trialmatch.criteria.rules import (
    Age,
    AllOf,
    AnyOf,
    Breastfeeding,
    Condition,
    Contraception,
    Duration,
    Hypersensitivity,
    Infection,
    Lab,
    Leaf,
    Not,
    Performance,
    Pregnancy,
    PriorLines,
    Qualifier,
    Question,
    Rule,
    Sex,
    StudyEnrolment,
    Therapy,
    leaves,
)
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import load_vocabulary

if TYPE_CHECKING:
    from trialmatch.criteria.compiler import CompiledCriterion


@cache
def _wording() -> dict[str, Any]:
    return read_yaml("criteria/questions.yaml")


def plain_name(concept_id: str, fallback: str) -> str:
    """How to name a concept to a patient."""
    named = _wording()["plain_names"].get(concept_id)
    if named:
        return str(named)
    concept = load_vocabulary().get(concept_id)
    name = concept.name if concept else fallback
    return name if name.isupper() or any(c.isupper() for c in name[1:]) else name[0].lower() + name[1:]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 and value == int(value) else f"{value:g}"


def _age_value(value: float, unit: str) -> str:
    return str(Duration(value=value, unit=unit))  # type: ignore[arg-type]


def ask_leaf(leaf: Leaf) -> str:
    """The question that settles one leaf."""
    w = _wording()
    if isinstance(leaf, Age):
        key = "age_at_diagnosis" if leaf.at == "diagnosis" else "age"
        return str(w[key][leaf.comparator]).format(value=_age_value(leaf.value, leaf.unit))
    if isinstance(leaf, Sex):
        return str(w["sex"][leaf.sex])
    if isinstance(leaf, Condition):
        template = w["condition"]["within" if leaf.within else leaf.status]
        return str(template).format(name=plain_name(leaf.concept, leaf.name), qualifiers=_qualifiers(leaf),
                                    window=str(leaf.within) if leaf.within else "")
    if isinstance(leaf, Lab):
        return _lab_question(leaf)
    if isinstance(leaf, Performance):
        comparator = w["comparators"][leaf.comparator]
        return str(w["performance"][leaf.scale]).format(comparator=comparator, value=_number(leaf.value))
    if isinstance(leaf, Therapy):
        return str(w["therapy"][leaf.timing]).format(name=_therapy_name(leaf),
                                                     window=str(leaf.window) if leaf.window else "")
    if isinstance(leaf, PriorLines):
        return _prior_lines_question(leaf)
    if isinstance(leaf, Pregnancy):
        return str(w["pregnancy_planned" if leaf.planned else "pregnancy"])
    if isinstance(leaf, Breastfeeding):
        return str(w["breastfeeding_planned" if leaf.planned else "breastfeeding"])
    if isinstance(leaf, Contraception):
        return str(w["contraception"][leaf.applies_to])
    if isinstance(leaf, Infection):
        name = plain_name(leaf.concept, leaf.name)
        # "an active infection" already says it is active
        status = "any" if leaf.status in name.lower().split()[:2] else leaf.status
        question = str(w["infection"][status]).format(name=name)
        details = _qualifier_phrases(leaf.qualifiers)
        if details or leaf.within:
            question = question.rstrip("?") + (" " + ", ".join(details) if details else "") + (
                f" in the last {leaf.within}" if leaf.within else "") + "?"
        return question
    if isinstance(leaf, Hypersensitivity):
        components = w["hypersensitivity_components"] if leaf.components else ""
        template = w["hypersensitivity_severe" if leaf.severe else "hypersensitivity"]
        return str(template).format(name=plain_name(leaf.concept, leaf.name), components=components)
    if isinstance(leaf, StudyEnrolment):
        if leaf.window is None:
            return str(w["study_enrolment"]["now"])
        return str(w["study_enrolment"]["within"]).format(window=str(leaf.window))
    return ask_text(leaf.text)


def _therapy_name(leaf: Therapy) -> str:
    """ "radiotherapy", or "radiotherapy for lymphoma" when the rule counts only the therapy of a condition."""
    name = plain_name(leaf.concept, leaf.name)
    if leaf.condition == "disease_under_study":
        return name + str(_wording()["therapy_for_own_disease"])
    if leaf.condition:
        return f"{name} for {plain_name(leaf.condition, leaf.condition_name or leaf.condition)}"
    return name


def _prior_lines_question(leaf: PriorLines) -> str:
    w = _wording()["prior_lines"]
    lines = str(w["lines"]) if leaf.therapy is None else str(w["lines_of"]).format(
        kind=plain_name(leaf.therapy, leaf.therapy_name or leaf.therapy))
    if leaf.condition:
        lines += str(w["condition"]).format(name=plain_name(leaf.condition, leaf.condition_name or leaf.condition))
    if leaf.setting:
        lines += str(w["setting"]).format(setting=leaf.setting.replace("/", " or "))
    return str(w[leaf.comparator]).format(value=leaf.value, lines=lines) + str(w["explained"])


def ask_text(text: str) -> str:
    """A question for text the compiler could not read: the criterion itself."""
    return str(_wording()["text"]).format(text=text.strip().rstrip(".;"))


def ask(criterion: CompiledCriterion) -> str:
    """The one question that settles a whole criterion, as plain as its rule allows."""
    return ask_rule(criterion.rule, criterion.text)


def ask_rule(rule: Rule, text: str) -> str:
    found = list(leaves(rule))
    if any(isinstance(leaf, Question) for leaf in found):
        return ask_text(text)
    core = _without_implied(rule)
    if isinstance(core, Not):
        core = core.child
    if not isinstance(core, AllOf | AnyOf):
        return ask_leaf(core)  # type: ignore[arg-type]
    merged = _merged(core) if _list_polarity(core) is not None else None
    return merged if merged is not None else ask_text(text)


def asks_the_opposite(rule: Rule, text: str = "") -> bool:
    """True when ``ask_rule`` asks about what the criterion negates ("No HIV" asks "Do you have HIV?").

    A "Yes" to such a question means the criterion is *not* met; the matcher turns the answer round.
    """
    if any(isinstance(leaf, Question) for leaf in leaves(rule)):
        return False
    core = _without_implied(rule)
    flipped = isinstance(core, Not)
    if flipped:
        core = core.child  # type: ignore[union-attr]
    if isinstance(core, AllOf | AnyOf):
        if _merged(core) is None or (same := _list_polarity(core)) is None:
            return False  # asked in the criterion's own words
        flipped ^= not same
    return flipped


def _list_polarity(rule: AllOf | AnyOf) -> bool | None:
    """Whether one merged question about the list's leaves asks the list itself (True), its opposite (False),
    or neither (None: the list is then asked in its own words).

    "A and B" / "A or B" are asked as they are; "not A and not B" is asked as "A or B?", its opposite.
    "Not A or not B", and lists mixing negated and plain items, have no one question that fits.
    """
    negated = [isinstance(child, Not) for child in rule.children]
    if not any(negated) or _limited_by_age(rule) is not None:
        return True
    if all(negated) and isinstance(rule, AllOf):
        return False
    return None


def _without_implied(rule: Rule) -> Rule:
    """Drop a "female" leaf next to pregnancy or breastfeeding: the question implies it."""
    if isinstance(rule, AllOf):
        kept = [c for c in rule.children if not (isinstance(c, Sex) and any(
            isinstance(o, Pregnancy | Breastfeeding | Contraception) for o in rule.children))]
        if len(kept) == 1:
            return kept[0]
        return rule.model_copy(update={"children": tuple(kept)})
    return rule


def _merged(rule: AllOf | AnyOf) -> str | None:
    """One question for a list of like leaves: "Do you have HIV, hepatitis B or hepatitis C?"."""
    if (limited := _limited_by_age(rule)) is not None:
        return ask_leaf(limited)  # type: ignore[arg-type]
    children = _flattened(rule)
    if children is None:
        return None
    joiner = " or " if isinstance(rule, AnyOf) or all(isinstance(c, Not) for c in rule.children) else " and "
    if all(isinstance(c, Age) for c in children) and len(children) == 2:
        ages = sorted(children, key=lambda c: c.comparator)  # type: ignore[union-attr]
        high, low = ages[0], ages[1]
        if isinstance(low, Age) and isinstance(high, Age) and low.at == high.at and low.comparator[0] == ">":
            key = "age_range_at_diagnosis" if low.at == "diagnosis" else "age_range"
            return str(_wording()[key]).format(low=_age_value(low.value, low.unit),
                                               high=_age_value(high.value, high.unit))
    if all(isinstance(c, Lab) for c in children):
        parts = [_lab_phrase(c) for c in children if isinstance(c, Lab)]
        return str(_wording()["labs"]).format(list=_join(parts, " and "))
    if all(isinstance(c, Pregnancy | Breastfeeding) for c in children):
        if any(getattr(c, "planned", False) for c in children):
            return "Are you pregnant or breastfeeding, or planning to be during the study or soon after it?"
        return "Are you pregnant or breastfeeding?"
    if all(isinstance(c, Condition | Infection) for c in children):
        names = list(dict.fromkeys(plain_name(c.concept, c.name) + (_qualifiers(c) if isinstance(c, Condition) else "")
                                   for c in children if isinstance(c, Condition | Infection)))
        if len(names) == 1:
            return ask_leaf(children[0])  # type: ignore[arg-type]
        return f"Do you have {_join(names, joiner)}?"
    if all(isinstance(c, Hypersensitivity) for c in children):
        names = [plain_name(c.concept, c.name) for c in children if isinstance(c, Hypersensitivity)]
        return str(_wording()["hypersensitivity"]).format(name=_join(names, " or "), components="")
    if all(isinstance(c, Therapy) for c in children):
        therapies = [c for c in children if isinstance(c, Therapy)]
        if len({(t.timing, str(t.window)) for t in therapies}) == 1:
            first = therapies[0]
            names = _join([_therapy_name(t) for t in therapies], joiner)
            return str(_wording()["therapy"][first.timing]).format(name=names, window=str(first.window))
    return None


def _limited_by_age(rule: AllOf | AnyOf) -> Rule | None:
    """The leaf of "Karnofsky ≥ 50% for participants ≥ 16 years" (not aged ≥ 16, or Karnofsky ≥ 50): ask the score."""
    if isinstance(rule, AnyOf) and len(rule.children) == 2:
        conditional = [c for c in rule.children if isinstance(c, Not) and isinstance(c.child, Age)]
        others = [c for c in rule.children if c not in conditional]
        if conditional and len(others) == 1 and not isinstance(others[0], AllOf | AnyOf | Not):
            return others[0]
    return None


def _flattened(rule: AllOf | AnyOf) -> list[Rule] | None:
    """The leaves of a list of like nodes ("not HIV and not (hepatitis B or C)"), or None if it is mixed."""
    out: list[Rule] = []
    for child in rule.children:
        inner = child.child if isinstance(child, Not) else child
        if isinstance(inner, AllOf | AnyOf):
            nested = _flattened(inner)
            if nested is None or any(isinstance(n, AllOf | AnyOf | Not) for n in nested):
                return None
            out.extend(nested)
        elif isinstance(inner, Not):
            return None
        else:
            out.append(inner)
    return out


def _join(parts: list[str], joiner: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + joiner + parts[-1]


def _qualifiers(leaf: Condition) -> str:
    parts = _qualifier_phrases(leaf.qualifiers)
    return (" " + ", ".join(parts)) if parts else ""


def _qualifier_phrases(qualifiers: tuple[Qualifier, ...]) -> list[str]:
    table = _wording()["qualifiers"]
    parts = []
    for qualifier in qualifiers:
        templates = table.get(qualifier.name, {})
        template = templates.get(qualifier.comparator) or templates.get("=")
        if qualifier.value is False and "false" in templates:
            template = templates["false"]  # "previously treated" is not "untreated = no" said aloud
        if template:
            if isinstance(qualifier.value, float | int) and not isinstance(qualifier.value, bool):
                value = _number(qualifier.value)
            elif isinstance(qualifier.value, str) and load_vocabulary().get(qualifier.value):
                value = plain_name(qualifier.value, qualifier.value)
            else:
                value = str(qualifier.value).replace("_", " ")
            parts.append(str(template).format(value=value))
    return parts


def _lab_phrase(leaf: Lab) -> str:
    comparator = _wording()["comparators"][leaf.comparator]
    name = plain_name(leaf.analyte, leaf.name)
    if leaf.reference == "absolute":
        unit = f" {written_unit(leaf.unit, leaf.value)}" if leaf.unit else ""
        return f"{name} {comparator} {_number(leaf.value)}{unit}"
    limit = "upper" if leaf.reference == "uln" else "lower"
    return f"{name} {comparator} {_number(leaf.value)} times the {limit} limit of normal"


def _lab_question(leaf: Lab) -> str:
    w = _wording()["lab"]
    comparator = _wording()["comparators"][leaf.comparator]
    unit = f" {written_unit(leaf.unit, leaf.value)}" if leaf.unit else ""
    value = _number(leaf.value)
    if leaf.unit is None and leaf.reference == "absolute" and 0 < leaf.value < 0.01:
        value, unit = f"{leaf.value * 100:g}%", ""  # an MRD level of 0.0001 is said as 0.01%
    return str(w[leaf.reference]).format(name=plain_name(leaf.analyte, leaf.name), comparator=comparator,
                                         value=value, unit=unit)
