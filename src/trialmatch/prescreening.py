"""Pre-screen one trial from Yes / No / Not sure answers, with or without some facts about the patient.

This is the questionnaire behind a trial's "Could I join?" page and ``POST /api/trials/{id}/prescreen``. The
trial's plan (its structured age and sex limits plus its compiled criteria, ``matching.trial_plan``) is
judged by the same matcher as full screening: facts first, then answers, with the same safety rule — only a
confident reading or an answer can make a criterion decide "not eligible", and "Not sure" settles nothing.

The questions are the criteria the given facts can't settle, in the trial's order, one per question id.
With no facts at all that includes the record's age and sex limits. Nothing is stored or logged.

Questions are worded for the patient ("Have you had …"); ``PrescreenQuestion.worded("carer")`` gives the
same question for someone answering for the person they care for ("Has the patient had …"). The id, and so
what an answer means, is the same in both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from trialmatch.criteria.compiler import CompiledCriteria
from trialmatch.criteria.questions import Perspective, worded_for
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import TrialPlan, build_plan
from trialmatch.matching.verdicts import CriterionResult, TrialMatch, TrialVerdict
from trialmatch.patients.facts import Answer, PatientFacts
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import Trial

PrescreenResult = Literal["likely_eligible", "not_eligible", "possibly_eligible"]
ANSWERS: tuple[str, ...] = get_args(Answer)

#: Self-reported answers can't make anyone certainly eligible: the study team still checks.
_RESULTS: dict[TrialVerdict, PrescreenResult] = {
    TrialVerdict.ELIGIBLE: "likely_eligible",
    TrialVerdict.NOT_ELIGIBLE: "not_eligible",
    TrialVerdict.POSSIBLY_ELIGIBLE: "possibly_eligible",
}


class PrescreenError(ValueError):
    """Answers that can't be used as given; the message says which and what is accepted."""


class UnknownQuestion(PrescreenError):
    """An answer to a question this trial doesn't ask."""

    def __init__(self, unknown: list[str], valid: list[str]) -> None:
        self.unknown, self.valid = unknown, valid
        listed = ", ".join(valid) if valid else "none"
        super().__init__(f"this trial asks no question with id {', '.join(map(repr, unknown))}; "
                         f"its question ids are: {listed}")


class InvalidAnswer(PrescreenError):
    """An answer other than yes, no or not_sure."""

    def __init__(self, question_id: str, value: object) -> None:
        self.question_id, self.value = question_id, value
        super().__init__(f"the answer to {question_id!r} is {value!r}; answer with one of: {', '.join(ANSWERS)}")


class TrialNotFound(LookupError):
    def __init__(self, trial_id: str) -> None:
        self.trial_id = trial_id
        super().__init__(f"no trial with id {trial_id!r} in the store")


@dataclass(frozen=True)
class PrescreenQuestion:
    """One question the facts can't settle, asked once however many criteria share it."""

    question_id: str
    question: str
    #: The first asking criterion's own words, section and id; ``criterion_ids`` lists every criterion asking.
    text: str
    section: str
    criterion_ids: tuple[str, ...]
    #: The answer given so far, if any.
    answer: Answer | None

    def worded(self, perspective: Perspective = "self") -> str:
        """The question as shown to the patient ("self") or to someone answering for them ("carer")."""
        return worded_for(self.question, perspective)

    @property
    def question_for_carer(self) -> str:
        return self.worded("carer")


@dataclass(frozen=True)
class Prescreen:
    trial: Trial
    #: Every criterion's verdict and evidence (answers appear as evidence).
    match: TrialMatch
    result: PrescreenResult
    #: The criteria that make the result "not eligible".
    deciding: tuple[CriterionResult, ...]
    #: The criteria still open: answered "Not sure", unanswered, or only the study team can judge.
    open: tuple[CriterionResult, ...]
    #: Every question the facts leave open, in the trial's order.
    questions: tuple[PrescreenQuestion, ...]

    @property
    def next_questions(self) -> tuple[PrescreenQuestion, ...]:
        """The questions not answered yet, in the trial's order."""
        return tuple(q for q in self.questions if q.answer is None)

    def summary(self) -> str:
        if self.result == "not_eligible":
            return "Not eligible: " + "; ".join(c.text for c in self.deciding)
        if self.result == "likely_eligible":
            return "Likely eligible on every criterion; the study team makes the final check."
        return "Possibly eligible. Talk to the study team about: " + "; ".join(c.text for c in self.open)


def question_ids(plan: TrialPlan) -> list[str]:
    """Every question id the trial can take an answer to, in the trial's order."""
    ids = list(dict.fromkeys(c.question_id for c in plan.criteria))
    if plan.uncompiled:
        ids.append(f"q-{plan.trial.id}-criteria")  # matching's question for criteria it could not read
    return ids


def checked_answers(answers: Mapping[str, object], plan: TrialPlan) -> dict[str, Answer]:
    """``answers`` with each value read as yes / no / not_sure ("Not sure" and "NOT-SURE" are accepted).

    Raises ``UnknownQuestion`` for ids the trial doesn't ask and ``InvalidAnswer`` for other values.
    """
    valid = question_ids(plan)
    unknown = [qid for qid in answers if qid not in set(valid)]
    if unknown:
        raise UnknownQuestion(unknown, valid)
    checked: dict[str, Answer] = {}
    for qid, value in answers.items():
        key = value.strip().lower().replace(" ", "_").replace("-", "_") if isinstance(value, str) else None
        if key not in ANSWERS:
            raise InvalidAnswer(qid, value)
        checked[qid] = key  # type: ignore[assignment]
    return checked


def prescreen(trial: Trial, compiled: CompiledCriteria | None, answers: Mapping[str, object] | None = None,
              facts: PatientFacts | None = None, as_of: dt.date | None = None,
              plan: TrialPlan | None = None) -> Prescreen:
    """Pre-screen ``trial`` (with its stored ``compiled`` criteria) from ``answers`` {question_id: answer}.

    ``facts`` are whatever else is known (a partial profile); answers given here replace the facts' own
    answers to the same questions. ``plan`` may be passed when already built (e.g. from a cache).
    """
    plan = plan or build_plan(trial, compiled)
    day = as_of or dt.date.today()
    given = checked_answers(answers or {}, plan)
    known = facts or PatientFacts()
    # Which criteria need a question: those the facts alone leave open (answers aside).
    unanswered = match_trial(PatientView(known.model_copy(update={"answers": []}), day), plan)
    answered = known
    for qid, answer in given.items():
        answered = answered.with_answer(qid, answer, _question_text(unanswered, qid))
    match = match_trial(PatientView(answered, day), plan)
    current = {a.question_id: a.answer for a in answered.answers}
    return Prescreen(trial=trial, match=match, result=_RESULTS[match.verdict], deciding=match.deciding,
                     open=match.open, questions=_questions(unanswered, current))


def prescreen_stored(store: TrialStore, trial_id: str, answers: Mapping[str, object] | None = None,
                     facts: PatientFacts | None = None, as_of: dt.date | None = None) -> Prescreen:
    """``prescreen`` for a stored trial, by any of its registry ids; ``TrialNotFound`` if there is none."""
    trial = store.get(trial_id)
    if trial is None:
        raise TrialNotFound(trial_id)
    return prescreen(trial, store.compiled(trial.id), answers, facts, as_of)


def _questions(unanswered: TrialMatch, current: Mapping[str, Answer]) -> tuple[PrescreenQuestion, ...]:
    by_id: dict[str, PrescreenQuestion] = {}
    for criterion in unanswered.criteria:
        qid = criterion.question_id
        if not criterion.is_open or qid is None or criterion.question is None:
            continue
        if qid in by_id:
            first = by_id[qid]
            by_id[qid] = PrescreenQuestion(qid, first.question, first.text, first.section,
                                           (*first.criterion_ids, criterion.id), first.answer)
            continue
        by_id[qid] = PrescreenQuestion(qid, criterion.question, criterion.text, criterion.section,
                                       (criterion.id,), current.get(qid))
    return tuple(by_id.values())


def _question_text(unanswered: TrialMatch, qid: str) -> str | None:
    return next((c.question for c in unanswered.criteria if c.question_id == qid), None)
