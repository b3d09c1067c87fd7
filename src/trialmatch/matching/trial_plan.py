"""A trial made ready for matching: its structured limits and compiled criteria, with question ids.

Built once per trial and reused for every patient (``screening.plans_for`` caches plans by trial and
criteria hash, and the store keeps them ready-made: ``stored_plan``), so matching many patients never
re-describes or re-hashes a rule. A plan keeps only what matching shows of the trial (``PlannedTrial``),
not the whole record.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from itertools import compress

from trialmatch.criteria.compiler import CONFIDENT, CompiledCriteria, CompiledCriterion
from trialmatch.criteria.describe import describe
from trialmatch.criteria.questions import ask_rule, asks_the_opposite
from trialmatch.criteria.rules import Age, AllOf, AnyOf, Not, Rule, Sex, is_computable, leaves
from trialmatch.matching.leaves import TrialContext
from trialmatch.matching.truth import Truth
from trialmatch.trials.record import AgeLimit, Trial
from trialmatch.trials.topics import condition_concepts

_AGE_UNITS = {"Years": "years", "Months": "months", "Weeks": "weeks", "Days": "days", "Hours": "hours"}


@dataclass(frozen=True)
class PlannedCriterion:
    id: str
    section: str
    category: str
    rule: Rule
    text: str
    span: tuple[int, int] | None
    description: str
    question_id: str
    question: str
    confidence: float
    #: From the record's age and sex fields, not from criteria text.
    structured: bool = False
    #: Equal for equal rules in the same disease context: one patient's evaluation of it is reused.
    rule_key: str = ""
    #: Read in full and with confidence: facts alone may settle it. Otherwise only an answer does.
    computable: bool = False
    #: Has a leaf that can "not apply" to a patient (contraception for a sex it doesn't name).
    may_not_apply: bool = False
    #: The question asks about what the criterion negates: a "Yes" means the criterion is not met.
    answer_negates: bool = False

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT



@dataclass(frozen=True, slots=True)
class PlannedTrial:
    """What a match shows of the trial itself."""

    id: str
    title: str | None
    status: str | None
    #: The record has eligibility criteria text (else only its age and sex limits say who may join).
    has_criteria_text: bool


@dataclass(frozen=True)
class TrialPlan:
    trial: PlannedTrial
    context: TrialContext
    criteria: tuple[PlannedCriterion, ...]
    #: The record has criteria text that was not compiled (or none at all): someone must read it.
    uncompiled: bool
    #: Each leaf's meaning (by ``id(leaf)``), so a patient's evaluation of it is reused across trials.
    leaf_keys: dict[int, str] = field(default_factory=dict)


def question_id(question: str) -> str:
    """Questions are identified by their wording: the same question in any trial takes the same answer."""
    canonical = " ".join(question.lower().split())
    return "q-" + hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:12]


def answer_truth(criterion: PlannedCriterion, answer: str) -> Truth:
    """What a Yes / No / Not sure answer to the criterion's question says of the criterion itself."""
    truth = _ANSWER_TRUTH[answer]
    if truth is not None and criterion.answer_negates:
        return not truth
    return truth


_ANSWER_TRUTH: dict[str, Truth] = {"yes": True, "no": False, "not_sure": None}


def _structured(trial: Trial) -> list[PlannedCriterion]:
    eligibility = trial.eligibility
    planned: list[PlannedCriterion] = []
    at = "diagnosis" if eligibility.age_reference == "diagnosis" else "today"
    limits: list[tuple[str, AgeLimit, Age]] = []
    if eligibility.minimum_age and eligibility.minimum_age.unit in _AGE_UNITS and eligibility.minimum_age.value > 0:
        limit = eligibility.minimum_age
        value, unit = _whole_years(limit)
        limits.append(("minimum", limit, Age(comparator=">=", value=value, unit=unit, at=at)))
    if eligibility.maximum_age and eligibility.maximum_age.unit in _AGE_UNITS:
        limit = eligibility.maximum_age
        value, unit = _whole_years(limit)
        # A maximum of "17 Years" admits anyone not yet 18 (ClinicalTrials.gov's convention).
        whole = unit in ("years", "months") and float(value).is_integer()
        rule = (Age(comparator="<", value=value + 1, unit=unit, at=at) if whole
                else Age(comparator="<=", value=value, unit=unit, at=at))
        limits.append(("maximum", limit, rule))
    diagnosis = " at diagnosis" if at == "diagnosis" else ""
    if len(limits) == 2:
        # One question for the range ("Are you between 1 month and 17 years old?"), not one per limit.
        (_, low, low_rule), (_, high, high_rule) = limits
        text = f"Age {low} to {high}{diagnosis} (the record's age limits)"
        rule = AllOf(children=(low_rule, high_rule))
        planned.append(_planned("age", "inclusion", "age", rule, text, None, 1.0, structured=True))
    for which, limit, rule in limits if len(limits) == 1 else ():
        text = f"{which.title()} age {limit}{diagnosis} (the record's age limit)"
        planned.append(_planned(f"{which}-age", "inclusion", "age", rule, text, None, 1.0, structured=True))
    if eligibility.sex in ("FEMALE", "MALE"):
        rule = Sex(sex=eligibility.sex.lower())
        text = f"{eligibility.sex.title()} participants only (the record's sex limit)"
        planned.append(_planned("sex", "inclusion", "sex", rule, text, None, 1.0, structured=True))
    return planned


def _whole_years(limit: AgeLimit) -> tuple[float, str]:
    """The limit's value and unit; whole years given in months ("204 Months") as years (17), as the
    sponsor meant them, so "204 Months" admits a 17-year-old as "17 Years" does."""
    unit = _AGE_UNITS[limit.unit]
    if unit == "months" and limit.value >= 24 and limit.value % 12 == 0:
        return limit.value / 12, "years"
    return limit.value, unit


def _planned(criterion_id: str, section: str, category: str, rule: Rule, text: str, span: tuple[int, int] | None,
             confidence: float, structured: bool = False) -> PlannedCriterion:
    return PlannedCriterion(
        id=criterion_id, section=section, category=category, rule=rule, text=text, span=span,
        description=describe(rule), question_id=question_id(ask_rule(rule, text)), question=ask_rule(rule, text),
        confidence=confidence, structured=structured)


def _from_compiled(criterion: CompiledCriterion) -> PlannedCriterion:
    return PlannedCriterion(
        id=criterion.id, section=criterion.section, category=criterion.category, rule=criterion.rule,
        text=criterion.text, span=criterion.span, description=describe(criterion.rule),
        question_id=question_id(criterion.question), question=criterion.question, confidence=criterion.confidence)


def build_plan(trial: Trial, compiled: CompiledCriteria | None) -> TrialPlan:
    criteria = _structured(trial)
    if compiled is not None:
        criteria.extend(_from_compiled(c) for c in compiled.criteria)
    has_text = bool((trial.eligibility.criteria_text or "").strip())
    uncompiled = compiled is None or (has_text and not compiled.criteria)
    context = TrialContext(condition_concepts(trial))
    leaf_keys: dict[int, str] = {}
    keyed = tuple(replace(c, rule_key=rule_key(c.rule, context, leaf_keys),
                          computable=c.confident and is_computable(c.rule),
                          may_not_apply=any(leaf.kind == "contraception" for leaf in leaves(c.rule)),
                          answer_negates=asks_the_opposite(c.rule, c.text))
                  for c in criteria)
    planned = PlannedTrial(trial.id, trial.title, trial.overall_status.value if trial.overall_status else None,
                           has_text)
    return TrialPlan(planned, context, keyed, uncompiled, leaf_keys)


def rule_key(rule: Rule, context: TrialContext, leaf_keys: dict[int, str] | None = None) -> str:
    """The rule's meaning, without spans; with the trial's diseases when a leaf refers to them.

    Equal keys mean equal rules (different keys may still mean the same rule: that only costs a memo miss).
    A leaf's key is a 128-bit digest of its JSON, so keys stay short and plans stored in the store carry
    them ready-made. ``leaf_keys`` collects each leaf's own key by ``id(leaf)``.
    """
    if isinstance(rule, AllOf | AnyOf):
        return f"{rule.kind}(" + ",".join(rule_key(child, context, leaf_keys) for child in rule.children) + ")"
    if isinstance(rule, Not):
        return "not(" + rule_key(rule.child, context, leaf_keys) + ")"
    meaning = rule.model_dump_json(exclude={"span"})
    if refers_to_trial_disease(rule):
        meaning += "|" + ",".join(sorted(context.disease_concepts))
    key = hashlib.blake2b(meaning.encode("utf-8"), digest_size=16).hexdigest()
    if leaf_keys is not None:
        leaf_keys[id(rule)] = key
    return key


def refers_to_trial_disease(leaf: Rule) -> bool:
    """The leaf's meaning depends on the trial's own diseases ("relapsed disease", "age at diagnosis")."""
    return (leaf.kind == "condition" and leaf.concept in ("disease_under_study", "other_malignancy")) or (
        leaf.kind == "age" and leaf.at == "diagnosis")


class PlanCache:
    """Plans kept in memory, most recently used first, keyed by the trial's record and criteria hashes."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._plans: OrderedDict[tuple[str, ...], TrialPlan] = OrderedDict()
        self._changing = threading.Lock()

    def get(self, key: tuple[str, ...]) -> TrialPlan | None:
        return self.get_many([key])[0]

    def get_many(self, keys: list[tuple[str, ...]]) -> list[TrialPlan | None]:
        """``get`` for each key, in C: a broad screening looks up tens of thousands of plans."""
        plans = list(map(self._plans.get, keys))
        # Recency matters only once plans are being dropped: tracked only when the cache is nearly full.
        if len(self._plans) + len(keys) > self.size:
            with self._changing:  # a server's threads share the cache: none drops a plan meanwhile
                found = [key for key in compress(keys, plans) if key in self._plans]
                deque(map(self._plans.move_to_end, found), maxlen=0)  # the ones found: most recent
        return plans

    def put(self, key: tuple[str, ...], plan: TrialPlan) -> None:
        with self._changing:
            self._plans[key] = plan
            if len(self._plans) > self.size:
                self._plans.popitem(last=False)

    def __len__(self) -> int:
        return len(self._plans)
