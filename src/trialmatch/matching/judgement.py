"""A trial's verdict without its explanation: the fast path for ranking many trials.

Same rules as ``match_trial`` (which builds the per-criterion explanation), but it keeps only what ranking
and question selection need, and reuses each rule's truth across trials for the same patient. Screening
judges every candidate this way, then explains only the trials it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def judge_trial(view: PatientView, plan: TrialPlan, *, stop_when_excluded: bool = True) -> Judgement:
    opened: list[OpenCriterion | PlannedCriterion] = []
    deciding: list[str] = []
    truths, answers = view.truths, view.answers
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
