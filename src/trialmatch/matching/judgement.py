"""A trial's verdict without its explanation: the fast path for ranking many trials.

Same rules as ``match_trial`` (which builds the per-criterion explanation), but it keeps only what ranking
and question selection need, and reuses each rule's truth across trials for the same patient. Screening
judges every candidate this way, then explains only the trials it shows.

A trial is judged from its ``VerdictIndex`` (built once per plan): the truths of its computable inclusion
and exclusion criteria are read from the patient's memo in one C-level call each (rules not in the memo
yet are evaluated first, all of them, so the memo fills within the first trials of a screening), the
verdict is a membership test (a ``False`` inclusion, a ``True`` exclusion) and only the open criteria are
listed one by one. A trial whose questions the patient has answered takes the criterion-by-criterion loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

from trialmatch.matching.evaluate import rule_truth
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import PlannedCriterion, TrialPlan, answer_truth
from trialmatch.matching.truth import NA, Truth
from trialmatch.matching.verdicts import TrialVerdict

_ANSWERS: dict[str, Truth] = {"yes": True, "no": False, "not_sure": None}
_MISSING = object()


@dataclass(frozen=True, slots=True)
class OpenCriterion:
    id: str
    question_id: str
    question: str
    text: str


@dataclass(slots=True)
class Judgement:
    trial_id: str
    verdict: TrialVerdict
    open: tuple[OpenCriterion | PlannedCriterion, ...]
    deciding: tuple[str, ...]
    total: int
    plan: TrialPlan
    distance_km: float | None = None

    @property
    def settled_share(self) -> float:
        return 1 - len(self.open) / self.total if self.total else 0.0


def criterion_truth(criterion: PlannedCriterion, view: PatientView, plan: TrialPlan) -> Truth:
    """The criterion's truth for this patient after the safety caps and answers (see ``match_trial``)."""
    truth: Truth = None
    if criterion.computable or criterion.may_not_apply:
        truth = _raw_truth(criterion, view, plan)
        if not criterion.computable and truth is not NA:
            truth = None  # only "does not apply" stands when facts alone can't settle the rule
    if truth is None and view.answers:
        answer = view.answers.get(criterion.question_id)
        if answer is not None:
            truth = answer_truth(criterion, answer)
    return truth


def _raw_truth(criterion: PlannedCriterion, view: PatientView, plan: TrialPlan) -> Truth:
    """The rule's truth from the facts, before the caps: once per rule key and patient."""
    truth = view.truths.get(criterion.rule_key, _MISSING)
    if truth is _MISSING:
        truth = view.truths[criterion.rule_key] = rule_truth(criterion.rule, view, plan.context, plan.leaf_keys)
    return truth


#: How an entry of ``VerdictIndex.entries`` is open: always (only an answer settles it), when its rule's
#: truth is unknown, or unless its rule does not apply to the patient.
_ALWAYS, _IF_UNKNOWN, _UNLESS_NA = 0, 1, 2


def _reader(keys: tuple[str, ...]) -> Callable[[dict[str, Truth]], tuple[Truth, ...]]:
    """The truths of ``keys`` from a memo, as a tuple, in one call (``itemgetter`` returns a bare value for one)."""
    if not keys:
        return lambda truths: ()
    if len(keys) == 1:
        key = keys[0]
        return lambda truths: (truths[key],)
    return itemgetter(*keys)


@dataclass(frozen=True, slots=True)
class VerdictIndex:
    """A plan's criteria arranged for judging from the patient's memo of rule truths (built once per plan)."""

    #: Every rule key the verdict reads, and the criteria with those rules.
    keys: frozenset[str]
    keyed: tuple[PlannedCriterion, ...]
    #: Truths of the computable inclusion criteria (a False one decides), and their positions in the plan.
    inclusion: Callable[[dict[str, Truth]], tuple[Truth, ...]]
    inclusion_at: tuple[int, ...]
    #: Truths of the computable exclusion criteria (a True one decides), and their positions.
    exclusion: Callable[[dict[str, Truth]], tuple[Truth, ...]]
    exclusion_at: tuple[int, ...]
    #: Truths of the criteria only "does not apply" settles from facts.
    unsure: Callable[[dict[str, Truth]], tuple[Truth, ...]]
    #: Per criterion, in plan order: (criterion, how it is open, its slot in inclusion + exclusion + unsure).
    entries: tuple[tuple[PlannedCriterion, int, int], ...]
    question_ids: frozenset[str]


def verdict_index(plan: TrialPlan) -> VerdictIndex:
    """The plan's index, built on first use and kept on the plan (plans are shared by every patient)."""
    index = plan.__dict__.get("_verdict_index")
    if index is None:
        index = _index(plan)
        object.__setattr__(plan, "_verdict_index", index)  # a cache beside the frozen fields
    return index


def _index(plan: TrialPlan) -> VerdictIndex:
    groups: dict[str, list[tuple[int, PlannedCriterion]]] = {"inclusion": [], "exclusion": [], "unsure": []}
    for position, criterion in enumerate(plan.criteria):
        if criterion.computable:
            groups["inclusion" if criterion.section == "inclusion" else "exclusion"].append((position, criterion))
        elif criterion.may_not_apply:
            groups["unsure"].append((position, criterion))
    slots: dict[int, tuple[int, int]] = {}
    for group in groups.values():
        for position, criterion in group:
            slots[position] = (_IF_UNKNOWN if criterion.computable else _UNLESS_NA, len(slots))
    entries = tuple((criterion, *slots.get(position, (_ALWAYS, -1)))
                    for position, criterion in enumerate(plan.criteria))
    keys = {name: tuple(c.rule_key for _, c in group) for name, group in groups.items()}
    return VerdictIndex(
        frozenset(c.rule_key for group in groups.values() for _, c in group),
        tuple(c for group in groups.values() for _, c in group),
        _reader(keys["inclusion"]), tuple(p for p, _ in groups["inclusion"]),
        _reader(keys["exclusion"]), tuple(p for p, _ in groups["exclusion"]),
        _reader(keys["unsure"]), entries, frozenset(c.question_id for c in plan.criteria))


def judge_trial(view: PatientView, plan: TrialPlan, *, stop_when_excluded: bool = True) -> Judgement:
    index = verdict_index(plan)
    truths, answers = view.truths, view.answers
    if not answers or answers.keys().isdisjoint(index.question_ids):
        if not truths.keys() >= index.keys:
            # Every rule the trial needs, even past a criterion that excludes: the next patient-trial pair with
            # these rules takes the fast path, and most rules are in the memo from other trials already.
            for criterion in index.keyed:
                if criterion.rule_key not in truths:
                    _raw_truth(criterion, view, plan)
        return _from_index(view, plan, index, stop_when_excluded)
    opened: list[OpenCriterion | PlannedCriterion] = []
    deciding: list[str] = []
    # criterion_truth, inlined: this loop runs for every criterion of every candidate trial.
    for criterion in plan.criteria:
        truth: Truth = None
        if criterion.computable or criterion.may_not_apply:
            truth = truths.get(criterion.rule_key, _MISSING)
            if truth is _MISSING:
                truth = _raw_truth(criterion, view, plan)
            if not criterion.computable and truth is not NA:
                truth = None
        if truth is None:
            answer = answers.get(criterion.question_id) if answers else None
            truth = _ANSWERS[answer] if answer is not None else None
            if truth is None:
                opened.append(criterion)  # it has the id, question_id, question and text an open item needs
                continue
        if truth is not NA and (truth is False) == (criterion.section == "inclusion"):
            deciding.append(criterion.id)
            if stop_when_excluded:
                break
    return _judged(view, plan, opened, deciding)


def _from_index(view: PatientView, plan: TrialPlan, index: VerdictIndex, stop_when_excluded: bool) -> Judgement:
    """``judge_trial`` when every rule's truth is in the memo and no answer concerns the trial (same result)."""
    truths = view.truths
    inclusion, exclusion = index.inclusion(truths), index.exclusion(truths)
    deciding: list[str] = []
    entries = index.entries
    if False in inclusion or True in exclusion:  # values are True, False, None or NA: no 0/1 look-alikes
        positions = [p for p, truth in zip(index.inclusion_at, inclusion, strict=True) if truth is False]
        positions += [p for p, truth in zip(index.exclusion_at, exclusion, strict=True) if truth is True]
        positions.sort()
        if stop_when_excluded:
            del positions[1:]
            entries = entries[: positions[0]]
        deciding = [plan.criteria[p].id for p in positions]
    values = inclusion + exclusion + index.unsure(truths)
    opened: list[OpenCriterion | PlannedCriterion] = [
        criterion for criterion, how, slot in entries
        if how == _ALWAYS or (values[slot] is None if how == _IF_UNKNOWN else values[slot] is not NA)]
    return _judged(view, plan, opened, deciding)


def _judged(view: PatientView, plan: TrialPlan, opened: list[OpenCriterion | PlannedCriterion],
            deciding: list[str]) -> Judgement:
    total = len(plan.criteria)
    if plan.uncompiled and not deciding:
        question = "Has the study team confirmed that you meet the trial's other eligibility criteria?"
        qid = f"q-{plan.trial.id}-criteria"
        answer = _ANSWERS.get(view.answers.get(qid, "not_sure"))
        if answer is None:
            opened.append(OpenCriterion("criteria-text", qid, question, "The eligibility criteria"))
        elif answer is False:
            deciding.append("criteria-text")
        total += 1
    verdict = (TrialVerdict.NOT_ELIGIBLE if deciding
               else TrialVerdict.POSSIBLY_ELIGIBLE if opened else TrialVerdict.ELIGIBLE)
    return Judgement(plan.trial.id, verdict, tuple(opened), tuple(deciding), total, plan)
