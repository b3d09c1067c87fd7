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
from sys import intern
from typing import Any

from trialmatch.matching.evaluate import rule_truth
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import PlannedCriterion, TrialPlan, answer_truth
from trialmatch.matching.truth import NA, Truth
from trialmatch.matching.verdicts import TrialVerdict

_ANSWERS: dict[str, Truth] = {"yes": True, "no": False, "not_sure": None}
#: The question a trial whose criteria text was not compiled asks, and what it shows as the criterion.
UNCOMPILED_QUESTION = "Has the study team confirmed that you meet the trial's other eligibility criteria?"
UNCOMPILED_TEXT = "The eligibility criteria"


def uncompiled_question_id(trial_id: str) -> str:
    return f"q-{trial_id}-criteria"

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
    #: Positions in ``plan.criteria`` of the open criteria, when judged from the plan's ``VerdictIndex``.
    open_at: list[int] | None = None

    @property
    def settled_share(self) -> float:
        return 1 - len(self.open) / self.total if self.total else 0.0


def criterion_truth(criterion: PlannedCriterion, view: PatientView, plan: TrialPlan) -> Truth:
    """The criterion's truth for this patient after the safety caps and answers (see ``match_trial``)."""
    truth: Truth = None
    if criterion.computable or criterion.may_not_apply:
        truth = raw_truth(criterion, view, plan)
        if not criterion.computable and truth is not NA:
            truth = None  # only "does not apply" stands when facts alone can't settle the rule
    if truth is None and view.answers:
        answer = view.answers.get(criterion.question_id)
        if answer is not None:
            truth = answer_truth(criterion, answer)
    return truth


def raw_truth(criterion: PlannedCriterion, view: PatientView, plan: TrialPlan) -> Truth:
    """The rule's truth from the facts, before the caps: once per rule key and patient."""
    truth = view.truths.get(criterion.rule_key, _MISSING)
    if truth is _MISSING:
        truth = rule_truth(criterion.rule, view, plan.context, plan.leaf_keys)
        view.truths[intern(criterion.rule_key)] = truth  # interned: later lookups match by identity
    return truth


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
    """A plan's criteria arranged for judging from the patient's memo of rule truths (built once per plan).

    Positions are indexes into ``plan.criteria``; everything per criterion is a plain tuple of strings or
    small ints, so judging a trial touches a few arrays rather than every criterion object.
    """

    #: Every rule key the verdict reads, and the positions of the criteria with those rules.
    keys: frozenset[str]
    keyed_at: tuple[int, ...]
    #: Truths of the computable criteria, inclusion then exclusion (``split`` of them are inclusion: a False
    #: one decides; then exclusion: a True one decides), and their positions.
    computable: Callable[[dict[str, Truth]], tuple[Truth, ...]]
    computable_at: tuple[int, ...]
    split: int
    #: Truths of the criteria only "does not apply" settles from facts (open unless it does not apply).
    unsure: Callable[[dict[str, Truth]], tuple[Truth, ...]]
    unsure_at: tuple[int, ...]
    #: Criteria open whatever the facts (only an answer settles them).
    always_open: list[int]
    #: Each criterion's question id, by position.
    question_at: tuple[str, ...]
    question_ids: frozenset[str]


#: The parts of ``index_rows``, in order.
_GROUPS = ("inclusion", "exclusion", "unsure")


def verdict_index(plan: TrialPlan) -> VerdictIndex:
    """The plan's index, built on first use and kept on the plan (plans are shared by every patient)."""
    index = plan.__dict__.get("_verdict_index")
    if index is None:
        rows = plan.__dict__.get("_verdict_index_rows")
        index = index_from_rows(rows if rows is not None else index_rows(plan))
        object.__setattr__(plan, "_verdict_index", index)  # a cache beside the frozen fields
    return index


def keep_index_rows(plan: TrialPlan, rows: list[list[Any]]) -> None:
    """Keep a stored plan's ready-made index rows, made into its ``VerdictIndex`` when first needed."""
    object.__setattr__(plan, "_verdict_index_rows", rows)


def index_rows(plan: TrialPlan) -> list[list[Any]]:
    """The index as plain lists (stored with the plan): rule keys and positions of the inclusion, exclusion
    and "does not apply" criteria, the positions of the always-open ones, and every criterion's question id."""
    groups: dict[str, tuple[list[str], list[int]]] = {name: ([], []) for name in (*_GROUPS, "always")}
    for position, criterion in enumerate(plan.criteria):
        name = ("inclusion" if criterion.section == "inclusion" else "exclusion") if criterion.computable else (
            "unsure" if criterion.may_not_apply else "always")
        groups[name][0].append(criterion.rule_key)
        groups[name][1].append(position)
    rows: list[list[Any]] = []
    for name in _GROUPS:
        rows.extend(groups[name])
    rows.append(groups["always"][1])
    rows.append([c.question_id for c in plan.criteria])
    return rows


def index_from_rows(rows: list[list[Any]]) -> VerdictIndex:
    inclusion_keys, inclusion_at, exclusion_keys, exclusion_at, unsure_keys, unsure_at, always, questions = rows
    # Interned, so equal keys from different plans are one string: memo lookups compare by identity.
    inclusion_keys, exclusion_keys, unsure_keys = (tuple(map(intern, keys))
                                                   for keys in (inclusion_keys, exclusion_keys, unsure_keys))
    question_at = tuple(map(intern, questions))
    return VerdictIndex(
        frozenset(inclusion_keys + exclusion_keys + unsure_keys), (*inclusion_at, *exclusion_at, *unsure_at),
        _reader(inclusion_keys + exclusion_keys), (*inclusion_at, *exclusion_at), len(inclusion_at),
        _reader(unsure_keys), tuple(unsure_at), list(always), question_at, frozenset(question_at))


def judge_trial(view: PatientView, plan: TrialPlan, *, stop_when_excluded: bool = True) -> Judgement:
    index = verdict_index(plan)
    truths, answers = view.truths, view.answers
    if not answers or answers.keys().isdisjoint(index.question_ids):
        if not truths.keys() >= index.keys:
            # Every rule the trial needs, even past a criterion that excludes: the next patient-trial pair with
            # these rules takes the fast path, and most rules are in the memo from other trials already.
            for position in index.keyed_at:
                criterion = plan.criteria[position]
                if criterion.rule_key not in truths:
                    raw_truth(criterion, view, plan)
        return _from_index(view, plan, index, stop_when_excluded)
    opened: list[OpenCriterion | PlannedCriterion] = []
    deciding: list[str] = []
    # criterion_truth, inlined: this loop runs for every criterion of every candidate trial.
    for criterion in plan.criteria:
        truth: Truth = None
        if criterion.computable or criterion.may_not_apply:
            truth = truths.get(criterion.rule_key, _MISSING)
            if truth is _MISSING:
                truth = raw_truth(criterion, view, plan)
            if not criterion.computable and truth is not NA:
                truth = None
        if truth is None:
            answer = answers.get(criterion.question_id) if answers else None
            # answer_truth: a question about what the criterion negates takes the opposite truth.
            truth = answer_truth(criterion, answer) if answer is not None else None
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
    values = index.computable(truths)
    # Open: the always-open criteria, computable ones of unknown truth, and the rest unless they don't apply.
    opened = index.always_open + [p for p, truth in zip(index.computable_at, values, strict=True) if truth is None]
    if index.unsure_at:
        opened += [p for p, truth in zip(index.unsure_at, index.unsure(truths), strict=True) if truth is not NA]
    opened.sort()
    deciding: list[str] = []
    split = index.split
    # Values are True, False, None or NA (no 0 or 1 look-alikes), so ``in`` finds exactly these.
    if False in values[:split] or True in values[split:]:
        positions = [p for i, (p, truth) in enumerate(zip(index.computable_at, values, strict=True))
                     if truth is (i >= split)]  # an inclusion decides when False, an exclusion when True
        positions.sort()
        if stop_when_excluded:  # the criteria after the first deciding one are not looked at
            del positions[1:]
            opened = [p for p in opened if p < positions[0]]
        deciding = [plan.criteria[p].id for p in positions]
    judgement = _judged(view, plan, list(map(plan.criteria.__getitem__, opened)), deciding)
    judgement.open_at = opened
    return judgement


def _judged(view: PatientView, plan: TrialPlan, opened: list[OpenCriterion | PlannedCriterion],
            deciding: list[str]) -> Judgement:
    total = len(plan.criteria)
    if plan.uncompiled and not deciding:
        qid = uncompiled_question_id(plan.trial.id)
        answer = _ANSWERS.get(view.answers.get(qid, "not_sure"))
        if answer is None:
            opened.append(OpenCriterion("criteria-text", qid, UNCOMPILED_QUESTION, UNCOMPILED_TEXT))
        elif answer is False:
            deciding.append("criteria-text")
        total += 1
    verdict = (TrialVerdict.NOT_ELIGIBLE if deciding
               else TrialVerdict.POSSIBLY_ELIGIBLE if opened else TrialVerdict.ELIGIBLE)
    return Judgement(plan.trial.id, verdict, tuple(opened), tuple(deciding), total, plan)
