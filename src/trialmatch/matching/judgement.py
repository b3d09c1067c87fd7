"""A trial's verdict without its explanation: the fast path for ranking many trials.

Same rules as ``match_trial`` (which builds the per-criterion explanation), but it keeps only what ranking
and question selection need, and reuses each rule's truth across trials for the same patient. Screening
judges every candidate this way, then explains only the trials it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from trialmatch.matching.evaluate import evaluate_rule
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
    if not criterion.computable and not criterion.may_not_apply:
        truth: Truth = None  # facts can't settle it: only an answer can, so there is nothing to evaluate
    else:
        key = criterion.rule_key
        cache_key = (key, criterion.computable)
        truth = view.truths.get(cache_key, _MISSING)
        if truth is _MISSING:
            outcome = view.evaluated.get(key)
            if outcome is None:
                outcome = evaluate_rule(criterion.rule, view, plan.context, plan.leaf_keys)
                view.evaluated[key] = outcome
            truth = outcome.truth
            if truth is not None and truth is not NA and not criterion.computable:
                truth = None
            view.truths[cache_key] = truth
    if truth is None and view.answers:
        answer = view.answers.get(criterion.question_id)
        if answer is not None:
            truth = answer_truth(criterion, answer)
    return truth


def judge_trial(view: PatientView, plan: TrialPlan, *, stop_when_excluded: bool = True) -> Judgement:
    opened: list[OpenCriterion | PlannedCriterion] = []
    deciding: list[str] = []
    for criterion in plan.criteria:
        truth = criterion_truth(criterion, view, plan)
        if truth is None:
            opened.append(criterion)  # it has the id, question_id, question and text an open item needs
        elif truth is not NA and (truth is False) == (criterion.section == "inclusion"):
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
