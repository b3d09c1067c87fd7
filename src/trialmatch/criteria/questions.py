"""Plain-language Yes / No / Not sure questions for rules and criteria.

A question always asks whether the rule's statement is true of the patient ("Have you had a stem cell
transplant from a donor in the last 12 weeks?"); "Yes" means the leaf holds. Negations ask about the
thing negated. The wording lives in ``data/criteria/questions.yaml``.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from trialmatch.criteria.describe import written_unit
from trialmatch.criteria.rules import (
    Age,
    AllOf,
    AnyOf,
    Breastfeeding,
    Condition,
    Consent,
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


#: Who answers: the patient ("self") or someone answering for the person they care for ("carer").
Perspective = Literal["self", "carer"]
PERSPECTIVES: tuple[Perspective, ...] = ("self", "carer")


@cache
def _wording() -> dict[str, Any]:
    return read_yaml("criteria/questions.yaml")


@cache
def _carer_rewrites() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(pattern), replacement) for pattern, replacement in _wording()["carer_rewrites"])


#: The criterion's own words quoted in a 'Does this apply to you? "…"' question: never reworded.
_QUOTED = re.compile(r'("[^"]*")')


def worded_for(question: str, perspective: Perspective = "self") -> str:
    """``question`` as shown to whoever answers: unchanged for the patient, in the third person for a carer
    ("Have you had …" → "Has the patient had …"). Only the display changes: ids stay those of the patient's
    wording, so an answer means the same whoever gave it."""
    if perspective == "self":
        return question
    parts = _QUOTED.split(question)
    for i in range(0, len(parts), 2):  # even parts are outside quotes
        for pattern, replacement in _carer_rewrites():
            if i and pattern.pattern.startswith("^"):
                continue  # a sentence start only begins the question
            parts[i] = pattern.sub(replacement, parts[i])
    return "".join(parts)


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


def _said_age(leaf: Age, whole: bool = True) -> tuple[str, float, str]:
    """The limit as people say an age, meaning the same: whole years given in months as years (24 months =
    2 years; months are said only below 2 years), and "< 18 years" as "17 years or younger" — ages count whole
    years reached, so someone who is 17 and a half is "17"."""
    comparator, value, unit = leaf.comparator, leaf.value, leaf.unit
    if unit == "months" and value >= 24 and value % 12 == 0:
        value, unit = value / 12, "years"
    elif whole and unit == "years" and comparator == "<" and float(value).is_integer() and value >= 2:
        comparator, value = "<=", value - 1
    return comparator, value, unit


def _age_bound(comparator: str, value: float, unit: str) -> str:
    return str(_wording()["age_bounds"][comparator]).format(value=_age_value(value, unit))


def _age_question(leaf: Age) -> str:
    key = "age_at_diagnosis" if leaf.at == "diagnosis" else "age"
    return str(_wording()[key]).format(bound=_age_bound(*_said_age(leaf)))


def _age_range_question(first: Age, second: Age) -> str | None:
    """"Are you between 1 month and 17 years old?" for a lower and an upper limit on the same age."""
    low, high = sorted((first, second), key=lambda leaf: leaf.comparator[0] != ">")
    if low.at != high.at or low.comparator[0] != ">" or high.comparator[0] != "<":
        return None
    (low_c, low_v, low_u), (high_c, high_v, high_u) = _said_age(low), _said_age(high)
    at_diagnosis = "_at_diagnosis" if low.at == "diagnosis" else ""
    if low_c == ">=" and high_c == "<=":
        # "between 18 and 65 years old", "between 1 month and 17 years old"
        low_text = _number(low_v) if low_u == high_u else _age_value(low_v, low_u)
        return str(_wording()["age_range" + at_diagnosis]).format(low=low_text, high=_age_value(high_v, high_u))
    # "Are you older than 1 month and younger than 18 years?"
    return str(_wording()["age_limits" + at_diagnosis]).format(
        low=_age_bound(low_c, low_v, low_u), high=_age_bound(*_said_age(high, whole=False)))


def ask_leaf(leaf: Leaf) -> str:
    """The question that settles one leaf."""
    w = _wording()
    if isinstance(leaf, Age):
        return _age_question(leaf)
    if isinstance(leaf, Sex):
        return str(w["sex"][leaf.sex])
    if isinstance(leaf, Condition):
        template = w["condition"]["within" if leaf.within else leaf.status]
        return str(template).format(name=plain_name(leaf.concept, leaf.name), qualifiers=_qualifiers(leaf),
                                    window=str(leaf.within) if leaf.within else "")
    if isinstance(leaf, Lab):
        return _lab_question(leaf)
    if isinstance(leaf, Performance):
        if (plain := _plain_performance(leaf)) is not None:
            return str(w["performance_plain_question"]).format(question=plain[0], scale=plain[1])
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
    if isinstance(leaf, Consent):
        return str(w["consent"][leaf.aspect])
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


def _plain_performance(leaf: Performance) -> tuple[str, str] | None:
    """What a performance limit means in plain words, and the scale and grades it names; None for a grade the
    wording doesn't list. "ECOG ≤ 2" is "up and about for more than half of the day …" with "ECOG performance
    status 0, 1 or 2"."""
    wording = _wording()["performance_plain"][leaf.scale]
    comparator, value = leaf.comparator, leaf.value
    step = 1 if leaf.scale == "ecog" else 10
    if comparator in ("<", ">"):  # whole grades: "ECOG < 2" is "ECOG ≤ 1"
        comparator, value = comparator + "=", value - step if comparator == "<" else value + step
    if comparator not in ("<=", ">=") or not float(value).is_integer():
        return None
    better = (comparator == "<=") == (leaf.scale == "ecog")
    question = wording["better" if better else "worse"].get(int(value))
    if question is None:
        return None
    grades = _join([str(g) for g in range(int(value) + 1)], " or ") if value <= 2 else f"0 to {int(value)}"
    scale = str(wording["scale_better" if better else "scale_worse"]).format(value=int(value), grades=grades)
    return str(question), scale


def _performance_by_age(rule: AllOf | AnyOf) -> str | None:
    """One question for "Karnofsky ≥ 50% for participants ≥ 16 years, Lansky ≥ 50% for participants < 16 years":
    Lansky's plain words (play and activity, which read for an older patient too) with both scales named."""
    if not isinstance(rule, AllOf) or len(rule.children) != 2:
        return None
    branches: dict[str, tuple[Performance, Age]] = {}
    for child in rule.children:
        if not isinstance(child, AnyOf) or len(child.children) != 2:
            return None
        condition = next((c.child for c in child.children if isinstance(c, Not) and isinstance(c.child, Age)), None)
        score = next((c for c in child.children if isinstance(c, Performance)), None)
        if condition is None or score is None or score.comparator not in (">=", ">"):
            return None
        branches[score.scale] = (score, condition)  # type: ignore[assignment]
    if set(branches) != {"lansky", "karnofsky"}:
        return None
    (lansky, child_age), (karnofsky, _) = branches["lansky"], branches["karnofsky"]
    plain, other = _plain_performance(lansky), _plain_performance(karnofsky)
    if plain is None or other is None:
        return None
    return str(_wording()["performance_by_age"]).format(
        question=plain[0], child_scale=plain[1], child_age=_age_bound(*_said_age(child_age, whole=False)),
        other_scale=other[1])


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
    """A question for text the compiler could not read: a plain one for criteria many trials share ("able to
    give informed consent"), otherwise the criterion itself."""
    flat = " ".join(text.split())
    found = {question for pattern, unless, question in _text_questions()
             if pattern.search(flat) and not (unless and unless.search(flat))}
    # Only when one plain question covers it: "comply with visits … and give consent" is asked as written.
    return found.pop() if len(found) == 1 else quoted(text)


def quoted(text: str) -> str:
    """'Does this apply to you? "…"' with the criterion's whole text."""
    return str(_wording()["text"]).format(text=text.strip().rstrip(".;"))


@cache
def _text_questions() -> tuple[tuple[re.Pattern[str], re.Pattern[str] | None, str], ...]:
    return tuple((re.compile(entry["pattern"], re.IGNORECASE),
                  re.compile(entry["unless"], re.IGNORECASE) if entry.get("unless") else None, str(entry["question"]))
                 for entry in _wording()["text_questions"])


_SENTENCE_END = re.compile(r"[.;:](?=\s)|\s[-–]\s")


def shown(question: str) -> str:
    """The question as a page shows it: a long criterion asked as itself is cut to its first sentence (the page
    shows the whole text under it). Display only: the question's id stays that of the whole wording."""
    limit = int(_wording()["text_shown_chars"])
    prefix = str(_wording()["text"]).split("{text}")[0]
    if not question.startswith(prefix) or len(question) - len(prefix) - 1 <= limit:
        return question
    body = question[len(prefix):-1]
    end = _SENTENCE_END.search(body, 40)
    cut = body[:end.start()] if end and end.start() <= limit else body[:limit].rsplit(" ", 1)[0]
    return f"{prefix}{cut.rstrip(' ,;:')} …\""


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
        return _ask_limited_by_age(rule, limited)  # type: ignore[arg-type]
    if (by_age := _performance_by_age(rule)) is not None:
        return by_age
    children = _flattened(rule)
    if children is None:
        return None
    joiner = " or " if isinstance(rule, AnyOf) or all(isinstance(c, Not) for c in rule.children) else " and "
    ages = [c for c in children if isinstance(c, Age)]
    if len(ages) == len(children) == 2 and joiner == " and " and (ranged := _age_range_question(*ages)) is not None:
        return ranged
    if all(isinstance(c, Lab) for c in children):
        if (normal := _normal_range(children)) is not None:  # type: ignore[arg-type]
            return normal
        if joiner == " and " and (same := _same_limit(children)) is not None:  # type: ignore[arg-type]
            return same  # "each": only when every test must be within the limit
        parts = [_lab_phrase(c) for c in children if isinstance(c, Lab)]
        # "BMI < 19 or > 34" is met by either limit; body measures (BMI, blood pressure) are not blood tests.
        measured = all((concept := load_vocabulary().get(c.analyte)) is not None and concept.kind == "measure"
                       for c in children if isinstance(c, Lab))
        key = ("measures" if measured else "labs") + ("_any" if joiner == " or " else "")
        return str(_wording()[key]).format(list=_join(parts, joiner))
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
    if all(isinstance(c, Consent) for c in children) and len({c.aspect for c in children}) == 2:
        return str(_wording()["consent"]["both"])  # type: ignore[union-attr]
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


_OPPOSITE = {">=": "<", ">": "<=", "<": ">=", "<=": ">", "=": "="}


def _ask_limited_by_age(rule: AnyOf, limited: Leaf) -> str:
    """"Are you younger than 16 years, or able to … (Karnofsky score 50% or more)?": exactly the criterion, so
    a child's "Yes" is right even though the score is only asked of older patients."""
    question = ask_leaf(limited)
    condition = next(c.child for c in rule.children if isinstance(c, Not) and isinstance(c.child, Age))
    start = str(_wording()["limited_by_age_start"])
    if condition.comparator == "=" or not question.startswith(start):
        return question
    outside = condition.model_copy(update={"comparator": _OPPOSITE[condition.comparator]})
    return str(_wording()["limited_by_age"]).format(age=_age_bound(*_said_age(outside, whole=False)),
                                                    rest=question[len(start):])


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


def _normal_range(labs: list[Lab]) -> str | None:
    """"Is your bilirubin within the normal range?" for "≥ 1 × LLN and ≤ 1 × ULN" of one test."""
    bounds = {(lab.reference, lab.comparator, lab.value) for lab in labs}
    if len(labs) == 2 and len({lab.analyte for lab in labs}) == 1 and bounds == {("lln", ">=", 1), ("uln", "<=", 1)}:
        return str(_wording()["lab_normal"]).format(name=plain_name(labs[0].analyte, labs[0].name))
    return None


def _same_limit(labs: list[Lab]) -> str | None:
    """"Are your liver tests ALT and AST each less than 2.5 times the upper limit of normal?"."""
    if len({(lab.reference, lab.comparator, lab.value) for lab in labs}) != 1 or labs[0].reference == "absolute":
        return None
    groups = {_wording()["lab_groups"].get(lab.analyte) for lab in labs}
    group = f"{groups.pop()} " if len(groups) == 1 and None not in groups else ""
    names = _join(list(dict.fromkeys(plain_name(lab.analyte, lab.name) for lab in labs)), " and ")
    return str(_wording()["labs_same_limit"]).format(
        group=group, names=names, comparator=_wording()["comparators"][labs[0].comparator],
        value=_number(labs[0].value), limit="upper" if labs[0].reference == "uln" else "lower")


def _lab_question(leaf: Lab) -> str:
    w = _wording()["lab"]
    if leaf.reference == "absolute" and (own := _wording()["lab_by_analyte"].get(leaf.analyte)):
        unit = f" {written_unit(leaf.unit, leaf.value)}" if leaf.unit else ""
        return str(own).format(comparator=_wording()["comparators"][leaf.comparator], value=_number(leaf.value),
                               unit=unit)
    comparator = _wording()["comparators"][leaf.comparator]
    unit = f" {written_unit(leaf.unit, leaf.value)}" if leaf.unit else ""
    value = _number(leaf.value)
    if leaf.unit is None and leaf.reference == "absolute" and 0 < leaf.value < 0.01:
        value, unit = f"{leaf.value * 100:g}%", ""  # an MRD level of 0.0001 is said as 0.01%
    return str(w[leaf.reference]).format(name=plain_name(leaf.analyte, leaf.name), comparator=comparator,
                                         value=value, unit=unit)
