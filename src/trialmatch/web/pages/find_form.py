"""The "Find trials for me" form: what a patient or carer types, checked, and turned into patient facts.

Nothing is kept on the server. The form's values and the answers given so far travel in the page's own
fields and come back with every POST, so each request carries the whole state of the questionnaire.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, get_args

from starlette.datastructures import FormData

from trialmatch.patients.concepts import concept_for
from trialmatch.patients.facts import AgeFact, Answer, ConditionFact, Location, PatientFacts, Source, TherapyFact
from trialmatch.places import Place, UnknownPlace, parse_place
from trialmatch.vocabulary import load_vocabulary

#: The form's own fields (the answers travel separately).
FIELDS = ("age", "sex", "diagnosis", "diagnosis_text", "disease_status", "near", "include_closed", "perspective")
ANSWERS: tuple[str, ...] = get_args(Answer)
ANSWER_WORDS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
SEX_CHOICES = [("female", "Female"), ("male", "Male"), ("", "Prefer not to say")]

#: Disease status choices: (label, fields of the diagnosis they set). What a choice doesn't say stays unknown,
#: so the matcher asks about it rather than guessing: "third or later relapse" leaves the number open because
#: any number written down (3) could wrongly rule out a trial for a later one.
DISEASE_STATUSES: dict[str, tuple[str, dict[str, Any]]] = {
    "": ("Not sure", {}),
    "newly_diagnosed": ("Newly diagnosed, not treated yet or just started", {"newly_diagnosed": True,
                                                                             "relapse_number": 0}),
    "remission_mrd": ("In remission, but tests still find a little disease (MRD positive)", {"remission": "complete"}),
    "first_relapse": ("First relapse: the disease came back once", {"newly_diagnosed": False, "relapse_number": 1}),
    "second_relapse": ("Second relapse", {"newly_diagnosed": False, "relapse_number": 2}),
    "later_relapse": ("Third or later relapse", {"newly_diagnosed": False}),
    "refractory": ("Refractory: not responding to treatment", {"refractory": True, "remission": "none"}),
    "after_transplant": ("Relapsed after a stem cell (bone marrow) transplant", {"newly_diagnosed": False,
                                                                                "after_transplant": True}),
}
#: Diagnosis groups shown in the list, by the broad concept their members fall under (first match wins).
_GROUPS = (("leukemia", "Leukaemias"), ("lymphoma", "Lymphomas"), ("hematologic_malignancy", "Other blood cancers"),
           ("cancer", "Solid cancers and tumours"))
#: Concepts under "cancer" that are a site or a stage of a disease rather than a diagnosis someone would pick.
_NOT_DIAGNOSES = ("extramedullary_disease", "cns_metastases", "other_malignancy", "cancer")
_AGE = re.compile(r"^\s*(\d{1,3}(?:[.,]\d{1,2})?)\s*(years?|yrs?|y|months?|mos?|m|weeks?|wks?|w)?(?:\s+old)?\s*$",
                  re.IGNORECASE)
_QUESTION_ID = re.compile(r"^q-[\w.:-]{1,160}$")
_MAX_ANSWERS = 200
_MAX_TEXT = 1000


@dataclass(frozen=True)
class Answered:
    """One answer given on the page: the question's id, the answer and the question as it was asked."""

    question_id: str
    answer: str
    question: str

    @property
    def words(self) -> str:
        return ANSWER_WORDS[self.answer]


@dataclass
class FindForm:
    """What the person typed, as typed (to fill the form again), the problems found, and the answers so far."""

    values: dict[str, str]
    answers: list[Answered] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    place: Place | None = None
    age: AgeFact | None = None
    diagnosis: tuple[str, str] | None = None  # (concept id, name)

    @property
    def statuses(self) -> list[str]:
        """Open trials unless the person asked for closed ones too (an empty list means any status)."""
        return [] if self.values["include_closed"] else ["OPEN"]

    def answer_to(self, question_id: str) -> Answered | None:
        return next((a for a in self.answers if a.question_id == question_id), None)

    def with_answer(self, question_id: str, answer: str, question: str) -> None:
        """Record (or replace) an answer; a question answered is no longer skipped."""
        kept = [a for a in self.answers if a.question_id != question_id]
        self.answers = [*kept, Answered(question_id, answer, question)]
        self.skipped = [q for q in self.skipped if q != question_id]

    def clear_answer(self, question_id: str) -> None:
        self.answers = [a for a in self.answers if a.question_id != question_id]

    def facts(self) -> PatientFacts:
        """The person as patient facts: the form's fields, then the answers in the order given."""
        assert not self.errors, "facts of a form with errors"
        facts = PatientFacts(age=self.age, sex=self.values["sex"] or None,
                             sex_source=_source("sex") if self.values["sex"] else None)
        conditions: list[ConditionFact] = []
        therapies: list[TherapyFact] = []
        status = self.values["disease_status"]
        if self.diagnosis is not None:
            concept, name = self.diagnosis
            conditions.append(ConditionFact(concept=concept, name=name, status="active", source=_source("diagnosis"),
                                            **DISEASE_STATUSES[status][1]))
        if status == "remission_mrd":
            conditions.append(ConditionFact(concept="minimal_residual_disease", name="minimal residual disease",
                                            source=_source("disease status")))
        if status == "after_transplant":
            # Which kind of transplant isn't asked; criteria about a particular kind stay open.
            therapies.append(TherapyFact(concept="hsct", name="stem cell transplant", source=_source("disease status")))
        location = None
        if self.place is not None:
            location = Location(text=self.values["near"].strip(), lat=self.place.lat, lon=self.place.lon)
        facts = facts.model_copy(update={"conditions": conditions, "therapies": therapies, "location": location})
        for answered in self.answers:
            facts = facts.with_answer(answered.question_id, answered.answer, answered.question)  # type: ignore[arg-type]
        return facts


def read_find_form(form: FormData, today: dt.date) -> FindForm:
    """The form as sent, checked field by field; answers and skips that aren't well formed are dropped."""
    values = {name: _text(form.get(name)) for name in FIELDS}
    values["include_closed"] = "1" if values["include_closed"] else ""
    values["perspective"] = "carer" if values["perspective"] == "carer" else "self"  # who answers the questions
    found = FindForm(values, _answers(form), _skipped(form))
    found.age = _age(values["age"], today, found.errors)
    found.diagnosis = _diagnosis(values["diagnosis"], values["diagnosis_text"], found.errors)
    if values["sex"] not in {value for value, _ in SEX_CHOICES}:
        found.errors["sex"] = "Choose female, male, or prefer not to say."
    if values["disease_status"] not in DISEASE_STATUSES:
        found.errors["disease_status"] = "Choose one of the listed stages, or Not sure."
    if values["near"].strip():
        try:
            found.place = parse_place(values["near"])
        except UnknownPlace:
            found.errors["near"] = ("We can't find that place. Try a larger town or city nearby, add the country "
                                    "(for example Leeds, UK), or leave this empty.")
    return found


def empty_form() -> FindForm:
    return FindForm({**dict.fromkeys(FIELDS, ""), "perspective": "self"})


def _text(value: object) -> str:
    return value[:_MAX_TEXT] if isinstance(value, str) else ""


def _age(text: str, today: dt.date, errors: dict[str, str]) -> AgeFact | None:
    if not text.strip():
        errors["age"] = "Enter an age in years, for example 10. For a baby, write months, for example 8 months."
        return None
    match = _AGE.match(text)
    if match is None:
        errors["age"] = "Enter the age as a number of years, for example 10 (or months for a baby: 8 months)."
        return None
    value = float(match.group(1).replace(",", "."))
    unit = {"y": "years", "m": "months", "w": "weeks"}[(match.group(2) or "y")[0].lower()]
    if unit == "years" and not value.is_integer():
        value, unit = float(int(value * 12)), "months"  # 1.5 years: a whole number of months says it exactly
    years = value / {"years": 1, "months": 12, "weeks": 52.18}[unit]
    if years > 120:
        errors["age"] = "That age is over 120 years. Check the number."
        return None
    return AgeFact(value=value, unit=unit, as_of=today, source=_source("age"))


def _diagnosis(choice: str, typed: str, errors: dict[str, str]) -> tuple[str, str] | None:
    if choice and choice != "other":
        concept = load_vocabulary().get(choice)
        if concept is None or concept.kind != "condition":
            errors["diagnosis"] = "Choose a diagnosis from the list."
            return None
        return concept.id, concept.name
    if typed.strip():
        concept_id = concept_for(typed.strip(), [], {"condition"})
        if concept_id is None:
            errors["diagnosis_text"] = (f"We don't recognise \u201c{typed.strip()}\u201d. Try another name for it "
                                        "(for example acute lymphoblastic leukaemia), or choose from the list.")
            return None
        return concept_id, typed.strip()
    errors["diagnosis"] = "Choose the diagnosis from the list, or type it in the box below the list."
    return None


def _answers(form: FormData) -> list[Answered]:
    answers: dict[str, Answered] = {}
    for question_id, answer, question in zip(form.getlist("answer_id"), form.getlist("answer_value"),
                                             form.getlist("answer_text"), strict=False):
        if (isinstance(question_id, str) and _QUESTION_ID.match(question_id) and answer in ANSWERS
                and isinstance(question, str)):
            answers.pop(question_id, None)
            answers[question_id] = Answered(question_id, answer, question[:_MAX_TEXT])
    return list(answers.values())[-_MAX_ANSWERS:]


def _skipped(form: FormData) -> list[str]:
    skipped = [q for q in form.getlist("skipped") if isinstance(q, str) and _QUESTION_ID.match(q)]
    return list(dict.fromkeys(skipped))[:_MAX_ANSWERS]


def _source(field_name: str) -> Source:
    return Source(kind="profile", reference=f"find form: {field_name}")


@cache
def diagnosis_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The diagnosis list: (group label, [(concept id, name)]) built from the vocabulary's cancers."""
    vocabulary = load_vocabulary()
    groups: dict[str, list[tuple[str, str]]] = {label: [] for _, label in _GROUPS}
    for concept in vocabulary.concepts.values():
        if concept.kind != "condition" or concept.id in _NOT_DIAGNOSES or not vocabulary.is_a(concept.id, "cancer"):
            continue
        if any(vocabulary.is_a(concept.id, excluded) for excluded in _NOT_DIAGNOSES[:1]):
            continue
        label = next(label for broad, label in _GROUPS if vocabulary.is_a(concept.id, broad))
        short = next((a for a in concept.abbreviations if a.isupper() or "-" in a), None)
        groups[label].append((concept.id, f"{concept.name} ({short})" if short else concept.name))
    return [(label, sorted(items, key=lambda item: item[1].lower())) for label, items in groups.items() if items]
