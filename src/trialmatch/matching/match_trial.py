"""One patient against one trial: a verdict per criterion, then the trial's verdict.

The safety rule lives here. A criterion decides "not eligible" only when facts settle a rule the compiler
read with confidence, or when the patient answered its question. Everything else stays unknown and
becomes a question; "Not sure" is an answer that settles nothing.
"""

from __future__ import annotations

from trialmatch.matching.evaluate import evaluate_rule
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import PlannedCriterion, TrialPlan, answer_truth
from trialmatch.matching.truth import NA, Truth
from trialmatch.matching.verdicts import CriterionResult, CriterionVerdict, Evidence, TrialMatch, TrialVerdict

_ANSWERS: dict[str, Truth] = {"yes": True, "no": False, "not_sure": None}
_UNSURE_READING = "the compiler was not sure of its reading of this text, so a person should check it"
_PART_UNREAD = "part of this text could not be read automatically, so the facts alone can't settle it"


def judge_criterion(criterion: PlannedCriterion, view: PatientView, plan: TrialPlan) -> CriterionResult:
    outcome = view.evaluated.get(criterion.rule_key) if criterion.rule_key else None
    if outcome is None:
        outcome = evaluate_rule(criterion.rule, view, plan.context, plan.leaf_keys)
        if criterion.rule_key:
            view.evaluated[criterion.rule_key] = outcome
    truth, evidence, notes = outcome.truth, list(outcome.evidence), list(outcome.notes)
    if truth is not None and truth is not NA and not criterion.computable:
        notes.insert(0, _UNSURE_READING if not criterion.confident else _PART_UNREAD)
        truth = None
    answer = view.answers.get(criterion.question_id)
    if truth is None and answer is not None:
        truth = answer_truth(criterion, answer)
        reply = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}[answer]
        evidence.append(Evidence.model_construct(statement=f'answered "{reply}" to: {criterion.question}',
                                                 source=f"answer {criterion.question_id}"))
    verdict = _verdict(truth)
    decides = (criterion.section == "inclusion" and verdict == CriterionVerdict.NOT_MET) or (
        criterion.section == "exclusion" and verdict == CriterionVerdict.MET)
    is_open = verdict == CriterionVerdict.UNKNOWN
    # Built from checked parts, so pydantic's validation is skipped (it was a third of matching time).
    return CriterionResult.model_construct(
        id=criterion.id, section=criterion.section, category=criterion.category, verdict=verdict, decides=decides,
        evidence=tuple(evidence), text=criterion.text, span=criterion.span, rule=criterion.description,
        question_id=criterion.question_id if is_open else None, question=criterion.question if is_open else None,
        note=notes[0] if notes and is_open else None, confidence=criterion.confidence)


def _verdict(truth: Truth) -> CriterionVerdict:
    if truth is NA:
        return CriterionVerdict.NOT_APPLICABLE
    if truth is True:
        return CriterionVerdict.MET
    if truth is False:
        return CriterionVerdict.NOT_MET
    return CriterionVerdict.UNKNOWN


def trial_verdict(results: tuple[CriterionResult, ...] | list[CriterionResult]) -> TrialVerdict:
    if any(r.decides for r in results):
        return TrialVerdict.NOT_ELIGIBLE
    if any(r.is_open for r in results):
        return TrialVerdict.POSSIBLY_ELIGIBLE
    return TrialVerdict.ELIGIBLE


def match_trial(view: PatientView, plan: TrialPlan, *, stop_when_excluded: bool = False) -> TrialMatch:
    """Judge every criterion of ``plan``; ``stop_when_excluded`` stops at the first deciding one (for ranking)."""
    results: list[CriterionResult] = []
    for criterion in plan.criteria:
        result = judge_criterion(criterion, view, plan)
        results.append(result)
        if stop_when_excluded and result.decides:
            break
    if plan.uncompiled:
        results.append(_unread_criteria(plan, view))
    trial = plan.trial
    return TrialMatch.model_construct(trial_id=trial.id, title=trial.title, nearest_site=None, distance_km=None,
                      status=trial.status,
                      verdict=trial_verdict(results), criteria=tuple(results))


def _unread_criteria(plan: TrialPlan, view: PatientView) -> CriterionResult:
    text = ("The eligibility criteria could not be read automatically." if plan.trial.has_criteria_text
            else "The record lists no eligibility criteria beyond its age and sex limits.")
    question = "Has the study team confirmed that you meet the trial's other eligibility criteria?"
    question_id = f"q-{plan.trial.id}-criteria"
    answer = _ANSWERS.get(view.answers.get(question_id, "not_sure"))
    verdict = _verdict(answer)
    evidence = () if answer is None else (Evidence(statement=f"answered {view.answers[question_id]!r} to: {question}",
                                                   source=f"answer {question_id}"),)
    return CriterionResult(
        id="criteria-text", section="inclusion", category="other", verdict=verdict,
        decides=verdict == CriterionVerdict.NOT_MET, evidence=evidence, text=text, rule="ask the study team",
        question_id=question_id if answer is None else None, question=question if answer is None else None,
        note="only the study team can confirm this" if answer is None else None)
