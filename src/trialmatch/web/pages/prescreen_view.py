"""The pre-screening questionnaire on a trial page: its questions, and the result of the answers given.

Answers come from the form and go straight back into the page; nothing is stored or logged. The
result names what decides it: the criteria that rule someone out, or the ones still open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from trialmatch.criteria.compiler import CompiledCriteria
from trialmatch.criteria.questions import PERSPECTIVES, Perspective, quoted, shown, worded_for
from trialmatch.matching.verdicts import CriterionResult
from trialmatch.prescreening import InvalidAnswer, Prescreen, PrescreenResult, UnknownQuestion, prescreen
from trialmatch.trials.record import Trial

#: The choices of every question, as (value, label); the values are the API's.
CHOICES: tuple[tuple[str, str], ...] = (("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure"))
#: Form fields holding answers start with this (question ids are "q-" and a hash).
ANSWER_PREFIX = "q-"
#: Who is answering, as (value, label): the questions are worded for the patient or for their carer.
PERSPECTIVE_CHOICES: tuple[tuple[Perspective, str], ...] = (("self", "Myself"), ("carer", "Someone I care for"))

_HEADINGS: dict[PrescreenResult, tuple[str, str]] = {
    "likely_eligible": ("Likely eligible",
                        "From your answers, you meet every criterion this page can check. The study team makes "
                        "the final decision, so contact them or ask your doctor."),
    "not_eligible": ("Not eligible",
                     "From your answers, you can’t take part in this trial because of:"),
    "possibly_eligible": ("Possibly eligible",
                          "Nothing in your answers rules you out. Talk to the study team about:"),
}

#: The same, for someone answering for the person they care for.
_CARER_HEADINGS: dict[PrescreenResult, tuple[str, str]] = {
    "likely_eligible": ("Likely eligible",
                        "From your answers, the patient meets every criterion this page can check. The study team "
                        "makes the final decision, so contact them or ask the patient’s doctor."),
    "not_eligible": ("Not eligible",
                     "From your answers, the patient can’t take part in this trial because of:"),
    "possibly_eligible": ("Possibly eligible",
                          "Nothing in your answers rules the patient out. Talk to the study team about:"),
}

#: What the page says around a result; prescreen.js reads the same words from the page.
MESSAGES = {
    "disclaimer": "This is a first check from your own answers, not a medical decision.",
    "cleared": "Your responses have been cleared.",
    "none": "Answer at least one question to see a result.",
    "unavailable": "The live check is not available just now. Use “Check my answers” to see your result.",
}


def wording(perspective: Perspective = "self") -> dict[str, object]:
    """Everything prescreen.js says, so the live result reads exactly like the page's own; ``carer`` holds the
    headings for someone answering for the patient, used when the script switches the wording."""
    return {**{kind: list(words) for kind, words in _headings(perspective).items()}, **MESSAGES,
            "carer": {kind: list(words) for kind, words in _CARER_HEADINGS.items()},
            "self": {kind: list(words) for kind, words in _HEADINGS.items()}}


def read_perspective(value: object) -> Perspective:
    """The perspective asked for in a form or query ("self" unless "carer")."""
    return "carer" if value == "carer" else "self"


def _headings(perspective: Perspective) -> dict[PrescreenResult, tuple[str, str]]:
    return _CARER_HEADINGS if perspective == "carer" else _HEADINGS


@dataclass(frozen=True)
class QuestionView:
    question_id: str
    #: Worded for the page's perspective; ``wordings`` has it for each perspective (the script switches them).
    question: str
    #: The trial's own words, when the question is not simply those words.
    source_text: str | None
    section: str
    answer: str | None
    wordings: dict[str, str]


@dataclass(frozen=True)
class ResultView:
    kind: PrescreenResult
    heading: str
    lead: str
    #: The criteria that decide ("not eligible") or that are still open ("possibly eligible").
    items: tuple[str, ...]
    unanswered: int


@dataclass(frozen=True)
class PrescreenView:
    questions: tuple[QuestionView, ...]
    result: ResultView | None
    #: Said when some answers were dropped (the trial's questions changed since the page was loaded).
    notice: str | None = None
    perspective: Perspective = "self"

    @property
    def inclusion(self) -> tuple[QuestionView, ...]:
        return tuple(q for q in self.questions if q.section == "inclusion")

    @property
    def exclusion(self) -> tuple[QuestionView, ...]:
        return tuple(q for q in self.questions if q.section != "inclusion")


def answers_from_form(form: Mapping[str, object]) -> dict[str, str]:
    """The answers in a submitted form: fields named by question id, blank ones left out."""
    return {key: value for key, value in form.items()
            if key.startswith(ANSWER_PREFIX) and isinstance(value, str) and value.strip()}


def build_prescreen_view(trial: Trial, compiled: CompiledCriteria | None, answers: Mapping[str, str] | None = None,
                         perspective: Perspective = "self") -> PrescreenView:
    """The questionnaire with ``answers`` filled in, worded for ``perspective``; a result only when some answers
    were given."""
    answers = dict(answers or {})
    try:
        screened = prescreen(trial, compiled, answers)
    except (UnknownQuestion, InvalidAnswer) as error:
        # A page loaded before the trial's criteria changed: keep the answers that still fit.
        bad = set(error.unknown) if isinstance(error, UnknownQuestion) else {error.question_id}
        answers = {k: v for k, v in answers.items() if k not in bad}
        notice = ("Some answers did not match this trial’s current questions and were left out. "
                  "Check your answers below.")
        return replace(build_prescreen_view(trial, compiled, answers, perspective), notice=notice)
    questions = tuple(QuestionView(q.question_id, shown(q.worded(perspective)), _source_text(q.question, q.text),
                                   q.section, q.answer, {p: shown(worded_for(q.question, p)) for p in PERSPECTIVES})
                      for q in screened.questions)
    result = _result(screened, perspective) if answers else None
    return PrescreenView(questions, result, perspective=perspective)


def _source_text(question: str, text: str) -> str | None:
    """The trial's own words under the question, unless the question as shown already quotes them whole."""
    return None if question == quoted(text) and shown(question) == question else " ".join(text.split())


def _result(screened: Prescreen, perspective: Perspective) -> ResultView:
    heading, lead = _headings(perspective)[screened.result]
    criteria: tuple[CriterionResult, ...] = ()
    if screened.result == "not_eligible":
        criteria = screened.deciding
    elif screened.result == "possibly_eligible":
        criteria = screened.open
    items = tuple(dict.fromkeys(" ".join(c.text.split()) for c in criteria))
    return ResultView(screened.result, heading, lead, items, len(screened.next_questions))
