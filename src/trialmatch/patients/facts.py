"""Patient facts: everything the matcher may know about one patient, each fact with its source.

One model for every reader (profile file, FHIR R4 Bundle, questionnaire answers, clinical note), so the
matcher never cares where a fact came from, and the explanation always can say. Facts are positive or
negative: ``present=False`` records that the patient does *not* have something ("denies chest pain", "no
history of HIV"), which is evidence; a fact that is simply missing is unknown.

Concept ids (``concept``) are the vocabulary's (``trialmatch.vocabulary``); readers fill them from codes or
names, and the matcher compares them with ancestors, so a B-ALL fact satisfies a rule about leukaemia.
``PatientFacts.model_json_schema()`` is the documented JSON Schema (``docs/patient-facts.schema.json``).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Answer = Literal["yes", "no", "not_sure"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Model):
    """Where a fact came from: the reader, and a pointer inside what it read."""

    kind: Literal["profile", "fhir", "answer", "note", "derived"] = Field(
        description="profile: a JSON/YAML profile; fhir: a FHIR resource; answer: a questionnaire answer; "
        "note: a clinical note; derived: computed from other facts")
    reference: str | None = Field(
        default=None, description="e.g. 'Observation/abc123', 'profile:labs[2]', 'question q-1f2e…'")
    text: str | None = Field(default=None, description="The words the fact was read from (notes), if any")

    def __str__(self) -> str:
        return self.reference or self.kind


class Coding(_Model):
    system: str | None = None
    code: str
    display: str | None = None


class _Fact(_Model):
    source: Source = Field(default_factory=lambda: Source(kind="profile"))


class AgeFact(_Fact):
    """An age when no birth date is known: ``value`` ``unit`` old on ``as_of`` (default: when read)."""

    value: float
    unit: Literal["days", "weeks", "months", "years"] = "years"
    as_of: dt.date | None = None


class ConditionFact(_Fact):
    """A diagnosis or disease state, with the qualifiers eligibility criteria ask about.

    ``status``: ``active`` (has it now) or ``history`` (had it; resolved or in remission). ``present=False``:
    the patient does not have it. ``family=True``: a relative has it; it never counts as the patient's.
    Qualifier fields left ``None`` are unknown.
    """

    concept: str | None = Field(default=None, description="Vocabulary concept id, e.g. 'b_all'")
    name: str = Field(description="The condition as the source named it")
    codes: list[Coding] = Field(default_factory=list)
    present: bool = True
    family: bool = False
    status: Literal["active", "history"] = "active"
    diagnosed: dt.date | None = Field(default=None, description="Date of diagnosis (onset)")
    resolved: dt.date | None = None
    relapse_number: int | None = Field(default=None, description="0 = never relapsed; 1 = first relapse …")
    relapse_date: dt.date | None = None
    relapse_site: list[Literal["marrow", "cns", "testicular", "extramedullary"]] | None = None
    refractory: bool | None = None
    remission: Literal["complete", "partial", "none"] | None = Field(
        default=None, description="complete = CR/CRi; none = active disease")
    remission_number: int | None = Field(default=None, description="1 = first complete remission (CR1) …")
    newly_diagnosed: bool | None = None
    philadelphia: Literal["positive", "negative"] | None = None
    cd19: Literal["positive", "negative"] | None = None
    kmt2a: Literal["rearranged", "not_rearranged"] | None = None
    mrd: float | None = Field(default=None, description="Minimal residual disease as a fraction (1e-4 = 0.01 %)")
    mrd_assay_sensitivity: float | None = Field(default=None, description="The MRD assay's sensitivity, e.g. 1e-5")
    marrow_blasts_percent: float | None = None
    cns_status: Literal["CNS1", "CNS2", "CNS3"] | None = None
    after_transplant: bool | None = Field(default=None, description="Relapse after allogeneic HSCT")
    grade: int | None = Field(default=None, description="CTCAE grade, for toxicities and comorbidities")
    judgement: list[str] = Field(
        default_factory=list, description="Clinician's words the criteria use: uncontrolled, severe, unstable …")
    treated: bool | None = Field(default=None, description="Being treated for it now")
    treatment: Literal["none", "oral", "systemic", "intravenous"] | None = None
    qualifiers: dict[str, str | float | bool] = Field(
        default_factory=dict, description="Other details criteria ask about: extent, nyha_class, refractory_to …")


class LabFact(_Fact):
    """One lab result or measurement. ``low``/``high``: the lab's reference range (for × ULN / × LLN)."""

    analyte: str | None = Field(default=None, description="Vocabulary concept id, e.g. 'neutrophils'")
    name: str
    codes: list[Coding] = Field(default_factory=list)
    value: float
    unit: str | None = None
    date: dt.date | None = None
    low: float | None = Field(default=None, description="Lower limit of normal, in the result's unit")
    high: float | None = Field(default=None, description="Upper limit of normal, in the result's unit")


class PerformanceFact(_Fact):
    scale: Literal["ecog", "karnofsky", "lansky"]
    value: float
    date: dt.date | None = None


class TherapyFact(_Fact):
    """A drug, therapy, procedure or transplant. ``ongoing``: still being given. ``present=False``: never had.

    Dates are the first and last day given; a transplant or single procedure has ``start`` only.
    """

    concept: str | None = Field(default=None, description="Vocabulary concept id, e.g. 'blinatumomab'")
    name: str
    codes: list[Coding] = Field(default_factory=list)
    present: bool = True
    start: dt.date | None = None
    end: dt.date | None = None
    ongoing: bool | None = None
    in_study: bool = Field(default=False, description="Given as part of a clinical study")
    indication: str | None = Field(default=None, description="Vocabulary concept of the condition it treated, "
                                   "e.g. 'acute_myeloid_leukemia'; unknown when missing")


class PriorLinesFact(_Fact):
    """How many lines (regimens) of therapy the patient has had. With no ``therapy``, ``condition`` or
    ``setting`` it counts every line; with them, only the lines of that kind, for that disease, in that setting."""

    value: int = Field(ge=0, description="Number of prior lines of therapy (a regimen counts as a line)")
    therapy: str | None = Field(default=None, description="Vocabulary concept of the lines counted, e.g. "
                                "'chemotherapy'; none: every line")
    condition: str | None = Field(default=None, description="Vocabulary concept of the disease they treated")
    setting: str | None = Field(default=None, description="Disease setting they were given in, e.g. 'metastatic'")


class InfectionFact(_Fact):
    concept: str | None = None
    name: str
    codes: list[Coding] = Field(default_factory=list)
    present: bool = True
    status: Literal["active", "chronic", "resolved"] = "active"
    date: dt.date | None = None
    judgement: list[str] = Field(default_factory=list)
    treatment: Literal["none", "oral", "systemic", "intravenous"] | None = None


class AllergyFact(_Fact):
    """An allergy or intolerance. ``concept`` ``None`` with ``present=False``: no known drug allergies."""

    concept: str | None = None
    name: str
    codes: list[Coding] = Field(default_factory=list)
    present: bool = True
    severe: bool | None = None


class StudyFact(_Fact):
    """Taking part (now or before) in another interventional study."""

    name: str | None = None
    present: bool = True
    ongoing: bool | None = None
    end: dt.date | None = None


class AnswerFact(_Fact):
    """The answer to one question (``question_id`` from the matcher's questions)."""

    question_id: str
    answer: Answer
    question: str | None = Field(default=None, description="The question as it was asked")


class BooleanFact(_Fact):
    value: bool
    date: dt.date | None = None


class Location(_Model):
    text: str | None = Field(default=None, description="A city or postcode, for the nearest site")
    lat: float | None = None
    lon: float | None = None


class PatientFacts(_Model):
    """Everything known about one patient. Missing means unknown; nothing is assumed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "title": "TrialMatch patient facts",
        "description": "One patient's facts for trial matching. Missing fields are unknown, never 'no'."})

    id: str | None = Field(default=None, description="A local label; never sent anywhere")
    birth_date: dt.date | None = None
    age: AgeFact | None = Field(default=None, description="Used only when birth_date is missing")
    sex: Literal["female", "male"] | None = None
    sex_source: Source | None = None
    childbearing_potential: BooleanFact | None = None
    pregnant: BooleanFact | None = None
    breastfeeding: BooleanFact | None = None
    informed_consent: BooleanFact | None = Field(
        default=None, description="Able and willing to give written informed consent to take part in a trial (the "
        "patient, or for a child or an adult who can't, their parent, guardian or legal representative)")
    comply: BooleanFact | None = Field(
        default=None, description="Able and willing to come to study visits and follow a study's procedures")
    conditions: list[ConditionFact] = Field(default_factory=list)
    labs: list[LabFact] = Field(default_factory=list)
    performance: list[PerformanceFact] = Field(default_factory=list)
    therapies: list[TherapyFact] = Field(default_factory=list)
    prior_lines: list[PriorLinesFact] = Field(
        default_factory=list, description="Counts of prior lines of therapy (all lines, or of a kind)")
    infections: list[InfectionFact] = Field(default_factory=list)
    allergies: list[AllergyFact] = Field(default_factory=list)
    studies: list[StudyFact] = Field(default_factory=list)
    answers: list[AnswerFact] = Field(default_factory=list)
    location: Location | None = None
    warnings: list[str] = Field(default_factory=list, description="What a reader could not use, and why")

    def answer(self, question_id: str) -> AnswerFact | None:
        """The latest answer to ``question_id``."""
        for fact in reversed(self.answers):
            if fact.question_id == question_id:
                return fact
        return None

    def with_answer(self, question_id: str, answer: Answer, question: str | None = None) -> PatientFacts:
        """A copy with one more answer (replacing an earlier answer to the same question)."""
        kept = [a for a in self.answers if a.question_id != question_id]
        added = AnswerFact(question_id=question_id, answer=answer, question=question,
                           source=Source(kind="answer", reference=f"question {question_id}"))
        return self.model_copy(update={"answers": [*kept, added]})
