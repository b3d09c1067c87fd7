"""Evaluate one rule leaf against a patient: a truth (Kleene, or NA) and the evidence used.

One function per leaf kind, registered in ``EVALUATORS``. The rules they share:

- A missing fact is unknown. Only a fact settles a leaf: a positive fact, or a negative one
  (``present=False``: "no history of HIV") that covers the leaf's concept.
- When the patient has facts about a concept (their leukaemia, their transplant), those facts are the
  record of it: they settle the leaf between them.
- A fact that would settle a leaf but might fall under a stated exception ("apart from carcinoma in situ",
  "unless Gilbert's") settles it only when the exception is settled too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from trialmatch.criteria.rules import (
    DAYS_PER_UNIT,
    Age,
    Breastfeeding,
    Comparator,
    Condition,
    Consent,
    Contraception,
    Hypersensitivity,
    Infection,
    Lab,
    Leaf,
    Performance,
    Pregnancy,
    PriorLines,
    Question,
    RuleException,
    Sex,
    StudyEnrolment,
    Therapy,
)
from trialmatch.criteria.units import UnitError, convert, limit_of_normal, molar_mass, normalise_unit
from trialmatch.data import read_yaml
from trialmatch.matching.patient_view import PatientView, Tagged, anniversary, shift
from trialmatch.matching.truth import NA, Truth, kleene_all, kleene_any
from trialmatch.matching.verdicts import Evidence
from trialmatch.patients.facts import BooleanFact, ConditionFact, InfectionFact, LabFact, PriorLinesFact

#: Relative tolerance when comparing converted numbers, so 1.5 mg/dL read back from µmol/L still equals 1.5.
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class LeafResult:
    truth: Truth
    evidence: tuple[Evidence, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class TrialContext:
    """What a leaf may need to know about the trial: the concepts of the disease it studies."""

    disease_concepts: frozenset[str]


UNKNOWN = LeafResult(None)


@cache
def _conventions() -> dict[str, Any]:
    return read_yaml("matching/facts.yaml")


@cache
def _performance_table() -> dict[str, Any]:
    return read_yaml("criteria/performance.yaml")["conversion"]


def compare(left: float, comparator: Comparator, right: float) -> bool:
    close = abs(left - right) <= _TOLERANCE * max(abs(left), abs(right), 1e-12)
    if comparator == "=":
        return close
    if comparator == ">=":
        return left > right or close
    if comparator == "<=":
        return left < right or close
    if comparator == ">":
        return left > right and not close
    return left < right and not close


def _days(date: dt.date | None) -> str:
    return date.isoformat() if date else "undated"


# Age and sex -------------------------------------------------------------------------------------------


def evaluate_age(leaf: Age, view: PatientView, trial: TrialContext) -> LeafResult:
    if leaf.at == "diagnosis":
        return _age_at_diagnosis(leaf, view, trial)
    interval = view.birth_interval
    if interval is None:
        return LeafResult(None, note="age not known")
    truth = age_truth(interval, view.as_of, leaf.comparator, leaf.value, leaf.unit)
    return LeafResult(truth, (Evidence(statement=view.age_source(), source=view.age_fact_source()),))


def age_truth(birth: tuple[dt.date, dt.date], on: dt.date, comparator: Comparator, value: float,
              unit: str) -> Truth:
    """Is the age on ``on`` of someone born between ``birth[0]`` and ``birth[1]`` ``comparator value unit``?

    Ages count whole units reached: "≥ 18 years" from the 18th birthday, "< 18 years" until it. "≤ 1 year"
    is certainly met up to the first birthday and certainly not from the second; in between, trials differ
    in what they mean, so it is unknown.
    """
    earliest, latest = birth
    reached = (on >= anniversary(latest, value, unit), on >= anniversary(earliest, value, unit))
    if comparator == ">=":
        return _interval(reached)
    if comparator == "<":
        return _interval((not reached[1], not reached[0]))
    if comparator == ">":
        return _interval((on > anniversary(latest, value, unit), on > anniversary(earliest, value, unit)))
    next_unit = unit in ("months", "years") and value == int(value)
    after_next = (on >= anniversary(latest, value + 1, unit), on >= anniversary(earliest, value + 1, unit))
    within = (on <= anniversary(earliest, value, unit), on <= anniversary(latest, value, unit))
    if comparator == "<=":
        if within[0]:
            return True
        if (after_next[0] if next_unit else not within[1]):
            return False
        return None
    # "=": that many whole units reached, the next not yet.
    return kleene_all((_interval(reached), _interval((not after_next[1], not after_next[0]))))


def _interval(bounds: tuple[bool, bool]) -> Truth:
    """True if it holds at both ends of the birth interval, False if at neither, else unknown."""
    if bounds[0] and bounds[1]:
        return True
    if not bounds[0] and not bounds[1]:
        return False
    return None


def _age_at_diagnosis(leaf: Age, view: PatientView, trial: TrialContext) -> LeafResult:
    interval = view.birth_interval
    facts = [t for t in view.conditions if t.fact.present and t.concepts & trial.disease_concepts]
    dated = [t.fact for t in facts if t.fact.diagnosed is not None]
    if interval is None or not dated:
        return LeafResult(None, note="age at diagnosis not known")
    diagnosed = min(f.diagnosed for f in dated if f.diagnosed)
    truth = age_truth(interval, diagnosed, leaf.comparator, leaf.value, leaf.unit)
    source = next(f for f in dated if f.diagnosed == diagnosed).source
    return LeafResult(truth, (Evidence(statement=f"{view.age_source()}; diagnosed {diagnosed.isoformat()}",
                                       source=str(source)),))


def evaluate_sex(leaf: Sex, view: PatientView, trial: TrialContext) -> LeafResult:
    sex = view.facts.sex
    if sex is None:
        return LeafResult(None, note="sex not known")
    source = str(view.facts.sex_source or "profile")
    return LeafResult(sex == leaf.sex, (Evidence(statement=f"sex: {sex}", source=source),))


# Conditions and infections ----------------------------------------------------------------------------------


def _targets(concept: str, view: PatientView, trial: TrialContext) -> tuple[frozenset[str], frozenset[str]]:
    """(concepts that count, concepts that don't) for a condition leaf's concept."""
    if concept == "disease_under_study":
        return trial.disease_concepts, frozenset()
    if concept == "other_malignancy":
        # The trial's disease and its near relatives (a testicular relapse of the same leukaemia) are not
        # "another cancer"; only the broadest classes are left out of that family.
        broad = set(_conventions()["other_malignancy_broad_classes"])
        family = {a for c in trial.disease_concepts for a in (c, *view.vocabulary.ancestors(c)) if a not in broad}
        return frozenset({"cancer"}), frozenset(family)
    return frozenset({concept}), frozenset()


def evaluate_condition(leaf: Condition, view: PatientView, trial: TrialContext) -> LeafResult:
    targets, excluded = _targets(leaf.concept, view, trial)
    if not targets:
        return LeafResult(None, note="the trial's disease is not known")
    # "Another cancer" never means the cancer the trial is about.
    facts = [t for t in (*view.conditions, *view.infections)
             if t.concepts & targets and not (excluded and t.concepts & excluded)]
    positive = [t for t in facts if t.fact.present]
    if positive:
        result = _strongest([_condition_fact(leaf, t, view) for t in positive])
        # The record of the trial's own disease is complete; for anything else, facts about narrower
        # conditions ("B-ALL in remission") don't show the patient has no other ("no active cancer").
        if result.truth is False and leaf.concept != "disease_under_study" and not any(
                t.fact.concept == leaf.concept for t in positive):
            return LeafResult(None, result.evidence, note="other conditions of this kind are not known")
        return result
    implied = _implied_condition(leaf.concept, view)
    if implied is not None:
        return implied
    return _negated([*view.conditions, *view.infections], targets, view)


def _implied_condition(concept: str, view: PatientView) -> LeafResult | None:
    rule = _conventions()["implied_conditions"].get(concept)
    if rule is None:
        return None
    results = []
    for tagged in view.conditions:
        value = getattr(tagged.fact, rule["from"], None)
        if value is None or not tagged.fact.present:
            continue
        truth = value > rule["positive_above"] if "positive_above" in rule else rule["values"].get(value)
        results.append(LeafResult(truth, (Evidence(statement=f"{rule['from'].replace('_', ' ')}: {value:g}"
                                                   if isinstance(value, float) else f"{value}",
                                                   source=str(tagged.fact.source)),)))
    return _strongest(results) if results else None


def _negated(facts: list[Tagged], targets: frozenset[str], view: PatientView) -> LeafResult:
    """False if a negative fact covers every target concept (its concept is the target or broader), else unknown."""
    negatives = [t.fact for t in facts if not t.fact.present and t.fact.concept]
    if not negatives:
        return UNKNOWN
    used = []
    for target in targets:
        covering = next((f for f in negatives if view.vocabulary.is_a(target, f.concept)), None)
        if covering is None:
            return UNKNOWN
        used.append(covering)
    return LeafResult(False, tuple(Evidence(statement=f"no {f.name}", source=str(f.source)) for f in used))


def _strongest(results: list[LeafResult]) -> LeafResult:
    """Any true fact settles it; otherwise any unknown keeps it open; otherwise false."""
    truth = kleene_any(r.truth for r in results)
    if truth is NA:
        truth = None
    chosen = [r for r in results if r.truth is truth] or results
    evidence = tuple(e for r in chosen for e in r.evidence)
    notes = [r.note for r in chosen if r.note]
    return LeafResult(truth, evidence, notes[0] if notes else None)


def _condition_fact(leaf: Condition, tagged: Tagged[ConditionFact], view: PatientView) -> LeafResult:
    fact = tagged.fact
    status = getattr(fact, "status", "active")
    evidence = (Evidence(statement=_describe_condition(fact), source=str(fact.source)),)
    checks: list[Truth] = []
    if leaf.status == "active":
        checks.append(status in ("active", "chronic"))
    if leaf.within is not None:
        diagnosed = getattr(fact, "diagnosed", None) or getattr(fact, "date", None)
        checks.append(None if diagnosed is None else diagnosed >= shift(view.as_of, leaf.within.value,
                                                                         leaf.within.unit))
    for qualifier in leaf.qualifiers:
        checks.append(_qualifier(qualifier.name, qualifier.comparator, qualifier.value, fact, view))
    truth = kleene_all(checks)
    truth = True if truth is NA else truth
    if truth is not False and leaf.exceptions:
        exempt = _exempt(leaf.exceptions, tagged, view)
        if exempt is True:
            return LeafResult(False, evidence, note="an exception the criterion allows")
        if exempt is None and truth is True:
            return LeafResult(None, evidence, note="may fall under the criterion's exception")
    return LeafResult(truth, evidence)


def _describe_condition(fact: ConditionFact | InfectionFact) -> str:
    parts = [fact.name, getattr(fact, "status", "")]
    if isinstance(fact, ConditionFact):
        if fact.relapse_number is not None:
            parts.append("never relapsed" if fact.relapse_number == 0 else f"relapse {fact.relapse_number}")
        if fact.remission:
            parts.append(f"remission: {fact.remission}")
        if fact.refractory is not None:
            parts.append("refractory" if fact.refractory else "not refractory")
        for name in ("philadelphia", "cd19", "kmt2a", "cns_status"):
            value = getattr(fact, name)
            if value:
                parts.append(f"{name.replace('_', ' ')} {value}")
        if fact.diagnosed:
            parts.append(f"diagnosed {fact.diagnosed.isoformat()}")
    return ", ".join(p for p in parts if p)


def _qualifier(name: str, comparator: Comparator, value: object, fact: ConditionFact | InfectionFact,
               view: PatientView) -> Truth:
    if name == "judgement":
        judged = getattr(fact, "judgement", [])
        return True if value in judged else None
    if name == "after_transplant":
        return _after_transplant(str(value), fact, view)
    if name in ("requires_intravenous_treatment", "requires_systemic_treatment", "requires_treatment"):
        return _treatment_need(name, fact)
    if name == "untreated":
        untreated = _untreated(fact, view)
        return None if untreated is None else untreated == bool(value)
    field = _conventions()["qualifier_fields"].get(name)
    actual = getattr(fact, field, None) if field else None
    if actual is None:
        actual = (getattr(fact, "qualifiers", None) or {}).get(name)
    if actual is None:
        return None
    if name == "relapse_site":
        sites = actual if isinstance(actual, list) else [actual]
        wanted = _conventions()["qualifier_values"]["relapse_site"].get(str(value), str(value))
        return wanted in sites
    if isinstance(value, bool) or isinstance(actual, bool):
        return bool(actual) == bool(value)
    if isinstance(value, int | float) and isinstance(actual, int | float):
        return compare(float(actual), comparator, float(value))
    return str(actual) == str(value)


def _untreated(fact: ConditionFact | InfectionFact, view: PatientView) -> bool | None:
    """Has the condition (its current relapse, if it relapsed) had no treatment yet? Said by the fact itself, or
    shown false by treatment now or by a therapy given for it (since the relapse); otherwise unknown."""
    said = (getattr(fact, "qualifiers", None) or {}).get("untreated")
    if isinstance(said, bool):
        return said
    if getattr(fact, "treated", None) is True:
        return False
    concept = getattr(fact, "concept", None)
    if concept is None:
        return None
    since = getattr(fact, "relapse_date", None) if getattr(fact, "relapse_number", None) else None
    for tagged in view.therapies:
        therapy = tagged.fact
        indication = getattr(therapy, "indication", None)
        if not therapy.present or indication is None or not view.vocabulary.is_a(indication, concept):
            continue
        if since is None or (therapy.start is not None and therapy.start >= since) or therapy.ongoing:
            return False
    return None


def _treatment_need(name: str, fact: ConditionFact | InfectionFact) -> Truth:
    treatment = getattr(fact, "treatment", None)
    if treatment is None:
        treated = getattr(fact, "treated", None)
        return None if treated is None or name != "requires_treatment" else treated
    if name == "requires_treatment":
        return treatment != "none"
    if name == "requires_systemic_treatment":
        return treatment in ("systemic", "intravenous")
    return treatment == "intravenous"


def _after_transplant(kind: str, fact: ConditionFact | InfectionFact, view: PatientView) -> Truth:
    after = getattr(fact, "after_transplant", None)
    if after is False:
        return False
    transplants = [t for t in view.therapies if kind in t.concepts and t.fact.present]
    if after is True:
        # The fact says "relapse after a transplant"; which kind is in the therapies.
        if kind == "hsct" or transplants:
            return True
        return None
    relapse = getattr(fact, "relapse_date", None)
    if transplants and relapse is not None:
        return any(t.fact.start is not None and t.fact.start < relapse for t in transplants) or None
    return None


def _exempt(exceptions: tuple[RuleException, ...], tagged: Tagged, view: PatientView) -> Truth:
    """Does a stated exception cover this fact? Unknown when an exception is only partly read."""
    results: list[Truth] = []
    for exception in exceptions:
        if not exception.concepts:
            results.append(None)
            continue
        covered = any(c in tagged.concepts for c in exception.concepts)
        if not covered:
            results.append(None if not exception.complete else False)
            continue
        exempt: Truth = True
        if exception.ended_before is not None:
            end = _ended(tagged.fact)
            exempt = None if end is None else end <= shift(view.as_of, exception.ended_before.value,
                                                           exception.ended_before.unit)
        # An exception with conditions the compiler didn't read ("with continued CD19+ expression") may not
        # cover this fact after all.
        results.append(None if exempt is True and not exception.complete else exempt)
    truth = kleene_any(results)
    return False if truth is NA else truth


def evaluate_infection(leaf: Infection, view: PatientView, trial: TrialContext) -> LeafResult:
    facts = [t for t in (*view.infections, *view.conditions) if leaf.concept in t.concepts]
    positive = [t for t in facts if t.fact.present]
    if not positive:
        return _negated([*view.infections, *view.conditions], frozenset({leaf.concept}), view)
    results = []
    for tagged in positive:
        fact = tagged.fact
        status = getattr(fact, "status", "active")
        checks: list[Truth] = []
        if leaf.status == "chronic":
            checks.append(True if status == "chronic" else (False if status in ("resolved", "history") else None))
        elif leaf.status == "active":
            checks.append(status in ("active", "chronic"))
        else:
            checks.append(status != "resolved")
        if leaf.within is not None:
            when = getattr(fact, "date", None) or getattr(fact, "diagnosed", None)
            checks.append(None if when is None else when >= shift(view.as_of, leaf.within.value, leaf.within.unit))
        for qualifier in leaf.qualifiers:
            checks.append(_qualifier(qualifier.name, qualifier.comparator, qualifier.value, fact, view))
        truth = kleene_all(checks)
        results.append(LeafResult(True if truth is NA else truth,
                                  (Evidence(statement=_describe_condition(fact), source=str(fact.source)),)))
    return _strongest(results)


# Labs and performance -----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
@lru_cache(maxsize=4096)  # a pint conversion takes a while, and the same few unit pairs recur
def _factor(from_unit: str, to_unit: str, mass: float | None) -> float | None:
    try:
        return convert(1.0, from_unit, to_unit, mass)
    except UnitError:
        return None


def _measures(leaf: Lab, view: PatientView) -> list[LabFact]:
    measured = [t.fact for t in view.labs.get(leaf.analyte, [])]
    spec = _conventions()["measures_from_conditions"].get(leaf.analyte)
    if spec:
        for tagged in view.conditions:
            value = getattr(tagged.fact, spec["field"], None)
            if value is not None and tagged.fact.present:
                measured.append(LabFact(analyte=leaf.analyte, name=leaf.name, value=value, unit=spec["unit"],
                                        source=tagged.fact.source))
    return measured


def evaluate_lab(leaf: Lab, view: PatientView, trial: TrialContext) -> LeafResult:
    measured = _measures(leaf, view)
    if not measured:
        return LeafResult(None, note=f"no {leaf.name} result")
    fact = measured[0]  # newest
    shown = f"{fact.name} {fact.value:g}{' ' + fact.unit if fact.unit else ''} ({_days(fact.date)})"
    evidence = (Evidence(statement=shown, source=str(fact.source)),)
    value = _in_rule_terms(leaf, fact)
    if value is None:
        return LeafResult(None, evidence, note=f"can't compare {fact.unit or 'a unitless value'} with the rule")
    truth: Truth = compare(value, leaf.comparator, leaf.value)
    if leaf.assay_sensitivity is not None and truth:
        sensitivity = next((getattr(t.fact, "mrd_assay_sensitivity", None) for t in view.conditions
                            if getattr(t.fact, "mrd_assay_sensitivity", None)), None)
        if sensitivity is None or sensitivity > leaf.assay_sensitivity * (1 + _TOLERANCE):
            return LeafResult(None, evidence, note="the assay's sensitivity is not known or is too low")
    if truth and leaf.exceptions:
        exempt = _lab_exempt(leaf, view)
        if exempt is True:
            return LeafResult(False, evidence, note="an exception the criterion allows")
        if exempt is None:
            return LeafResult(None, evidence, note="may fall under the criterion's exception")
    return LeafResult(truth, evidence)


def _in_rule_terms(leaf: Lab, fact: LabFact) -> float | None:
    """The result in the rule's unit, or as a multiple of the limit of normal."""
    unit = normalise_unit(fact.unit) if fact.unit else None
    if leaf.reference in ("uln", "lln"):
        limit = fact.high if leaf.reference == "uln" else fact.low
        if limit:
            return fact.value / limit
        default = _default_limit(leaf.analyte, leaf.reference)
        if default is None:
            return None
        limit_value, limit_unit = default
        if unit == limit_unit or limit_unit is None or unit is None:
            return fact.value / limit_value
        factor = _factor(unit, limit_unit, _molar_mass(leaf.analyte))
        return None if factor is None else fact.value * factor / limit_value
    if leaf.unit in DAYS_PER_UNIT:  # a life expectancy: weeks, months …
        days = _in_days(fact)
        return None if days is None else days / DAYS_PER_UNIT[leaf.unit]
    if leaf.unit is None or unit is None:
        if leaf.analyte == "mrd" and unit == "%":
            return fact.value / 100
        return fact.value if leaf.unit is None and unit is None else None
    rule_unit = normalise_unit(leaf.unit)
    if rule_unit is None:
        return None
    if rule_unit == unit:
        return fact.value
    factor = _factor(unit, rule_unit, _molar_mass(leaf.analyte))
    return None if factor is None else fact.value * factor


def _in_days(fact: LabFact) -> float | None:
    """A measure given as a length of time ("6 months"), in days; None when its unit is no time unit."""
    unit = (fact.unit or "").strip().lower()
    for name, days in DAYS_PER_UNIT.items():
        if unit in (name, name[:-1]):
            return fact.value * days
    return None


def _molar_mass(analyte: str) -> float | None:
    try:
        return molar_mass(analyte)
    except UnitError:
        return None


def _default_limit(analyte: str, which: str) -> tuple[float, str | None] | None:
    try:
        return limit_of_normal(analyte, "uln" if which == "uln" else "lln")
    except UnitError:
        return None


def _lab_exempt(leaf: Lab, view: PatientView) -> Truth:
    results: list[Truth] = []
    for exception in leaf.exceptions:
        if not exception.concepts:
            results.append(None)
            continue
        facts = [t for t in view.conditions if t.concepts & set(exception.concepts)]
        if any(t.fact.present for t in facts):
            results.append(True)
        elif facts:
            results.append(False)
        else:
            results.append(None)
    truth = kleene_any(results)
    return False if truth is NA else truth


def evaluate_performance(leaf: Performance, view: PatientView, trial: TrialContext) -> LeafResult:
    if not view.performance:
        return LeafResult(None, note="performance status not known")
    fact = view.performance[0]
    evidence = (Evidence(statement=f"{fact.scale.upper() if fact.scale == 'ecog' else fact.scale.title()} "
                                   f"{fact.value:g} ({_days(fact.date)})", source=str(fact.source)),)
    converted = performance_range(fact.scale, fact.value, leaf.scale)
    if converted is None:
        return LeafResult(None, evidence, note=f"{fact.value:g} is not a valid {fact.scale} score")
    low, high = converted
    at_low, at_high = compare(low, leaf.comparator, leaf.value), compare(high, leaf.comparator, leaf.value)
    if leaf.comparator == "=":
        truth: Truth = True if low == high == leaf.value else (False if not (low <= leaf.value <= high) else None)
    else:
        truth = at_low if at_low == at_high else None
    return LeafResult(truth, evidence, note=None if truth is not None else "the scales don't convert exactly")


def performance_range(scale: str, value: float, to_scale: str) -> tuple[float, float] | None:
    """The score on ``to_scale`` a ``value`` on ``scale`` corresponds to, as a [low, high] range.

    None when ``value`` is not a grade of its scale (ECOG 7, Karnofsky 55): such a fact settles nothing.
    """
    table = _performance_table()
    same = table.get("same_as", {})
    source, target = same.get(scale, scale), same.get(to_scale, to_scale)
    grades = table["ecog_to_karnofsky"] if source == "ecog" else table["karnofsky_to_ecog"]
    if value != int(value) or int(value) not in grades:
        return None
    if source == target:
        return value, value
    if source == "ecog":
        low, high = grades[int(value)]
        return float(low), float(high)
    grade = grades[int(value)]
    return float(grade), float(grade)


# Therapies, studies, allergies -------------------------------------------------------------------------


def _ended(fact: Any) -> dt.date | None:
    if getattr(fact, "ongoing", None):
        return None
    return getattr(fact, "end", None) or getattr(fact, "start", None)


def evaluate_therapy(leaf: Therapy, view: PatientView, trial: TrialContext) -> LeafResult:
    facts = [t for t in view.therapies if leaf.concept in t.concepts]
    positive = [t for t in facts if t.fact.present]
    if not positive:
        negatives = [t for t in view.therapies if not t.fact.present and t.fact.concept
                     and t.fact.concept in (leaf.concept, *view.vocabulary.ancestors(leaf.concept))]
        if negatives:
            fact = negatives[0].fact
            return LeafResult(False, (Evidence(statement=f"never had {fact.name}", source=str(fact.source)),))
        return LeafResult(None, note=f"not known whether {leaf.name} was given")
    results = [_therapy_fact(leaf, t, view) for t in positive]
    if leaf.condition is not None:
        results = [_given_for(leaf, t, r, view, trial) for t, r in zip(positive, results, strict=True)]
    return _strongest(results)


def _given_for(leaf: Therapy, tagged: Tagged, result: LeafResult, view: PatientView, trial: TrialContext
               ) -> LeafResult:
    """A therapy rule about what the therapy treated ("prior radiotherapy for lymphoma"): a fact given for
    something else doesn't count; one whose indication is not known can't show the rule is met."""
    targets = trial.disease_concepts if leaf.condition == "disease_under_study" else frozenset({leaf.condition})
    indication = getattr(tagged.fact, "indication", None)
    if indication is None or not targets:
        if result.truth is True:
            return LeafResult(None, result.evidence, note="not known what it was given for")
        return result
    if not any(view.vocabulary.is_a(indication, target) for target in targets):
        concept = view.vocabulary.get(indication)
        given_for = concept.name if concept else indication
        return LeafResult(False, (*result.evidence, Evidence(statement=f"given for {given_for}",
                                                             source=str(tagged.fact.source))))
    return result


def _therapy_fact(leaf: Therapy, tagged: Tagged, view: PatientView) -> LeafResult:
    fact = tagged.fact
    when = f"{_days(fact.start)} to {'ongoing' if fact.ongoing else _days(fact.end)}"
    evidence = (Evidence(statement=f"{fact.name}, {when}", source=str(fact.source)),)
    if leaf.timing == "ever":
        truth: Truth = True
    elif leaf.timing == "current":
        if fact.ongoing:
            truth = True
        elif fact.ongoing is False or (fact.end is not None and fact.end < view.as_of):
            truth = False
        else:
            truth = None
    else:
        assert leaf.window is not None
        if fact.ongoing:
            truth = True
        else:
            last = fact.end or fact.start
            if last is None:
                truth = None
            elif fact.end is None and fact.ongoing is None and fact.start is not None and _is_course(fact, view):
                # A drug course with a start and no end may still be running.
                truth = True if fact.start >= shift(view.as_of, leaf.window.value, leaf.window.unit) else None
            else:
                truth = last >= shift(view.as_of, leaf.window.value, leaf.window.unit)
    if truth is not False and leaf.exceptions:
        exempt = _exempt(leaf.exceptions, tagged, view)
        if exempt is True:
            return LeafResult(False, evidence, note="an exception the criterion allows")
        if exempt is None and truth is True:
            return LeafResult(None, evidence, note="may fall under the criterion's exception")
    return LeafResult(truth, evidence)


def _is_course(fact: Any, view: PatientView) -> bool:
    concept = view.vocabulary.get(fact.concept) if fact.concept else None
    return concept is None or concept.kind != "procedure"


def evaluate_prior_lines(leaf: PriorLines, view: PatientView, trial: TrialContext) -> LeafResult:
    """A count of the same lines settles the rule; a count of more lines (all lines, or of a broader kind or
    disease) bounds it from above, which settles "at most" and "more than" rules it already meets or fails."""
    results = []
    for fact in view.facts.prior_lines:
        bounds = _line_bounds(leaf, fact, view)
        if bounds is None:
            continue
        low, high = bounds
        holds = [compare(n, leaf.comparator, leaf.value) for n in (low, high)]
        if leaf.comparator == "=":
            truth: Truth = (None if low <= leaf.value <= high else False) if low != high else holds[0]
        else:
            truth = holds[0] if holds[0] == holds[1] else None
        what = f"{fact.value} prior line{'s' if fact.value != 1 else ''} of " + " ".join(
            part for part in (fact.setting, _line_kind(fact.therapy, view), _line_disease(fact.condition, view))
            if part)
        results.append(LeafResult(truth, (Evidence(statement=what, source=str(fact.source)),)))
    if not results:
        return LeafResult(None, note="number of prior lines of therapy not known")
    return _strongest(results)


def _line_bounds(leaf: PriorLines, fact: PriorLinesFact, view: PatientView) -> tuple[int, int] | None:
    """(fewest, most) lines of the leaf's kind the fact allows, or None when it says nothing about them."""
    vocabulary = view.vocabulary
    parts = ((leaf.therapy, fact.therapy, True), (leaf.condition, fact.condition, True),
             (leaf.setting, fact.setting, False))
    exact = True
    for wanted, counted, by_concept in parts:
        if counted == wanted:
            continue
        # The fact counts more lines than the rule does (all lines, or a broader kind): an upper bound.
        if counted is None or (by_concept and wanted is not None and vocabulary.is_a(wanted, counted)):
            exact = False
            continue
        return None
    return (fact.value, fact.value) if exact else (0, fact.value)


def _line_kind(therapy: str | None, view: PatientView) -> str:
    concept = view.vocabulary.get(therapy) if therapy else None
    return concept.name.lower() if concept else (therapy or "therapy")


def _line_disease(condition: str | None, view: PatientView) -> str:
    concept = view.vocabulary.get(condition) if condition else None
    return f"for {concept.name if concept else condition}" if condition else ""


def evaluate_study(leaf: StudyEnrolment, view: PatientView, trial: TrialContext) -> LeafResult:
    studies = view.studies
    in_study_therapies = [t.fact for t in view.therapies if t.fact.in_study and t.fact.present]
    if not studies and not in_study_therapies:
        return LeafResult(None, note="not known whether in another study")
    results: list[LeafResult] = []
    for study in studies:
        evidence = (Evidence(statement=f"study: {study.name or 'another study'}"
                             f"{'' if study.present else ' (none)'}", source=str(study.source)),)
        if not study.present:
            results.append(LeafResult(False, evidence))
        elif study.ongoing:
            results.append(LeafResult(True, evidence))
        elif leaf.window is None:
            results.append(LeafResult(False if study.ongoing is False else None, evidence))
        elif study.end is not None:
            results.append(LeafResult(study.end >= shift(view.as_of, leaf.window.value, leaf.window.unit), evidence))
        else:
            results.append(LeafResult(None, evidence))
    for therapy in in_study_therapies:
        evidence = (Evidence(statement=f"{therapy.name} in a study", source=str(therapy.source)),)
        last = _ended(therapy)
        if therapy.ongoing:
            results.append(LeafResult(True, evidence))
        elif leaf.window is not None and last is not None:
            results.append(LeafResult(last >= shift(view.as_of, leaf.window.value, leaf.window.unit), evidence))
        else:
            results.append(LeafResult(None, evidence))
    return _strongest(results)


def evaluate_hypersensitivity(leaf: Hypersensitivity, view: PatientView, trial: TrialContext) -> LeafResult:
    facts = [t for t in view.allergies if leaf.concept in t.concepts]
    positive = [t for t in facts if t.fact.present]
    if positive:
        results = []
        for tagged in positive:
            evidence = (Evidence(statement=f"allergy: {tagged.fact.name}", source=str(tagged.fact.source)),)
            truth: Truth = True if not leaf.severe else tagged.fact.severe
            results.append(LeafResult(truth, evidence))
        return _strongest(results)
    none_known = [a for a in view.facts.allergies if not a.present and
                  (a.concept is None or a.concept in (leaf.concept, *view.vocabulary.ancestors(leaf.concept)))]
    if none_known:
        return LeafResult(False, (Evidence(statement=none_known[0].name, source=str(none_known[0].source)),))
    return LeafResult(None, note="allergies not known")


# Reproduction --------------------------------------------------------------------------------------------


def _cannot_bear_children(view: PatientView) -> Evidence | None:
    facts = view.facts
    if facts.sex == "male":
        return Evidence(statement="sex: male", source=str(facts.sex_source or "profile"))
    if facts.childbearing_potential is not None and not facts.childbearing_potential.value:
        return Evidence(statement="not of childbearing potential", source=str(facts.childbearing_potential.source))
    interval = view.birth_interval
    minimum = float(_conventions()["reproduction_minimum_age_years"])
    if interval is not None and age_truth(interval, view.as_of, "<", minimum, "years") is True:
        return Evidence(statement=f"{view.age_source()} (a young child)", source=view.age_fact_source())
    return None


def evaluate_pregnancy(leaf: Pregnancy, view: PatientView, trial: TrialContext) -> LeafResult:
    return _reproductive_state(leaf.planned, view.facts.pregnant, "pregnant", "pregnancy", view)


def evaluate_breastfeeding(leaf: Breastfeeding, view: PatientView, trial: TrialContext) -> LeafResult:
    return _reproductive_state(leaf.planned, view.facts.breastfeeding, "breastfeeding", "breastfeeding", view)


def _reproductive_state(planned: bool, fact: BooleanFact | None, state: str, noun: str,
                        view: PatientView) -> LeafResult:
    """Pregnant or breastfeeding: false for those who can't bear children; a plan ("expected to breastfeed
    during treatment") is never settled by the state now."""
    impossible = _cannot_bear_children(view)
    if impossible is not None:
        return LeafResult(False, (impossible,))
    if fact is None:
        return LeafResult(None, note=f"{noun} not known")
    evidence = (Evidence(statement=state if fact.value else f"not {state}", source=str(fact.source)),)
    if planned:
        return LeafResult(None, evidence, note=f"plans for {noun} not known")
    return LeafResult(fact.value, evidence)


def evaluate_contraception(leaf: Contraception, view: PatientView, trial: TrialContext) -> LeafResult:
    facts = view.facts
    if leaf.applies_to in ("female", "male"):
        if facts.sex is None:
            return LeafResult(None, note="sex not known")
        if facts.sex != leaf.applies_to:
            return LeafResult(NA, (Evidence(statement=f"sex: {facts.sex}", source=str(facts.sex_source or "profile")),))
    if leaf.applies_to == "childbearing_potential":
        impossible = _cannot_bear_children(view)
        if impossible is not None:
            return LeafResult(NA, (impossible,))
    # Willingness is only ever the patient's to say.
    return LeafResult(None, note="willingness to use contraception is asked")


def evaluate_consent(leaf: Consent, view: PatientView, trial: TrialContext) -> LeafResult:
    """Able and willing to consent or to follow the study: only the patient's own fact or answer says; never
    assumed. The answer is to the question every trial asks of this leaf, so an item that also asks something
    else ("Able to provide consent and comply with study procedures") is settled by the answers to the two."""
    noun = "give informed consent" if leaf.aspect == "informed_consent" else "follow the study's visits and procedures"
    fact = view.facts.informed_consent if leaf.aspect == "informed_consent" else view.facts.comply
    if fact is not None:
        statement = f"able and willing to {noun}" if fact.value else f"not able or not willing to {noun}"
        return LeafResult(fact.value, (Evidence(statement=statement, source=str(fact.source)),))
    for question, yes, no in _consent_questions(leaf.aspect):
        answer = view.answers.get(question)
        if answer in ("yes", "no") and (yes if answer == "yes" else no) is not None:
            value = yes if answer == "yes" else no
            statement = f"able and willing to {noun}" if value else f"not able or not willing to {noun}"
            return LeafResult(value, (Evidence(statement=f'{statement} (answered "{answer}")',
                                               source=f"answer {question}"),))
    return LeafResult(None, note="willingness to take part is asked")


@cache
def _consent_questions(aspect: str) -> tuple[tuple[str, bool | None, bool | None], ...]:
    """(question id, truth of a "yes", truth of a "no") of the shared questions that settle an aspect: its own,
    and the one asking both (whose "no" may be about the other)."""
    from trialmatch.criteria.questions import ask_leaf
    from trialmatch.matching.trial_plan import question_id  # trial_plan imports this module

    both = question_id(str(read_yaml("criteria/questions.yaml")["consent"]["both"]))
    return ((question_id(ask_leaf(Consent(aspect=aspect))), True, False), (both, True, None))  # type: ignore[arg-type]


def evaluate_question(leaf: Question, view: PatientView, trial: TrialContext) -> LeafResult:
    return LeafResult(None, note="only an answer settles this")


EVALUATORS: dict[str, Callable[[Any, PatientView, TrialContext], LeafResult]] = {
    "age": evaluate_age,
    "sex": evaluate_sex,
    "condition": evaluate_condition,
    "infection": evaluate_infection,
    "lab": evaluate_lab,
    "performance": evaluate_performance,
    "therapy": evaluate_therapy,
    "study_enrolment": evaluate_study,
    "prior_lines": evaluate_prior_lines,
    "hypersensitivity": evaluate_hypersensitivity,
    "pregnancy": evaluate_pregnancy,
    "breastfeeding": evaluate_breastfeeding,
    "contraception": evaluate_contraception,
    "consent": evaluate_consent,
    "question": evaluate_question,
}


def evaluate_leaf(leaf: Leaf, view: PatientView, trial: TrialContext) -> LeafResult:
    return EVALUATORS[leaf.kind](leaf, view, trial)
