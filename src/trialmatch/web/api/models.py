"""The API's response shapes (pydantic), shared by the route modules and shown in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trialmatch.matching.verdicts import CriterionResult, TrialMatch, TrialVerdict
from trialmatch.prescreening import PrescreenResult
from trialmatch.trials.record import Trial


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- errors --------------------------------------------------------------------------------------------------

class ErrorDetail(_Out):
    field: str = Field(description="The input that is wrong: a query parameter, or a dotted path in the body")
    message: str


class ErrorBody(_Out):
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. trial_not_found, invalid_input")
    message: str = Field(description="What is wrong and what to do next, in words")
    details: list[ErrorDetail] = []


class ErrorResponse(_Out):
    """Every API error has this shape."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"error": {
        "status": 404, "code": "trial_not_found", "message": "No trial with id 'NCT00000000' in the store.",
        "details": []}}]})

    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer with."""
    meaning = {400: "The body is not valid JSON", 404: "No such trial", 413: "The body is too large",
               415: "The body is not application/json (or multipart/form-data where a file is allowed)",
               422: "A parameter or body field is invalid; details name it"}
    return {status: {"model": ErrorResponse, "description": meaning[status]} for status in statuses}


# --- trials --------------------------------------------------------------------------------------------------

class SiteOut(_Out):
    facility: str | None = None
    city: str | None = None
    country: str | None = None
    distance_km: float | None = Field(default=None, description="From the place given as `near`, when given")


class TrialSummary(_Out):
    """What a list of trials shows for each one."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "NCT06054113", "title": "Study of Blinatumomab Administration in Chinese Pediatric Participants …",
        "status": "ACTIVE_NOT_RECRUITING", "phases": ["PHASE2"], "conditions": ["B-cell acute lymphoblastic leukemia"],
        "minimum_age": "1 Month", "maximum_age": "204 Months", "age_range": "1 Month to 204 Months", "sex": "ALL",
        "nearest_site": {"facility": "Beijing Children's Hospital", "city": "Beijing", "country": "China",
                         "distance_km": None},
        "url": "/api/trials/NCT06054113"}]})

    id: str
    title: str
    status: str | None = Field(default=None, description="ClinicalTrials.gov overall status, e.g. RECRUITING")
    phases: list[str] = []
    conditions: list[str] = []
    minimum_age: str | None = None
    maximum_age: str | None = Field(default=None, description="Inclusive: '17 Years' admits anyone not yet 18")
    age_range: str = Field(description="The age limits in words, e.g. '1 Month to 17 Years', 'any age'")
    sex: str | None = Field(default=None, description="ALL, FEMALE or MALE")
    nearest_site: SiteOut | None = None
    url: str = Field(description="This trial's record in the API")


class SearchResponse(_Out):
    total: int = Field(description="Trials matching the filters (at most 1000; see total_is_exact)")
    total_is_exact: bool
    page: int
    per_page: int
    results: list[TrialSummary]


class TrialRecord(Trial):
    """The trial's whole normalised record (ClinicalTrials.gov API v2 field names)."""


class RuleNote(_Out):
    kind: str = Field(description="definition, disclaimer or exception")
    text: str
    span: tuple[int, int]


class CriterionOut(_Out):
    """One compiled criterion: its words, its rule, and the question that settles it."""

    id: str
    section: str = Field(description="inclusion (must be met) or exclusion (must not be met)")
    category: str
    text: str = Field(description="The criterion's own words")
    span: tuple[int, int] | None = Field(default=None, description="Character offsets in criteria_text")
    rule: dict[str, Any] = Field(description="The compiled rule as JSON (see docs/criteria-rules.md)")
    description: str = Field(description="The rule in compact clinical notation, e.g. 'age ≥ 18 years'")
    question_id: str = Field(description="Answer this id in POST /api/trials/{id}/prescreen")
    question: str = Field(description="Plain-language Yes / No / Not sure question")
    confidence: float
    computable: bool = Field(description="Read with confidence and in full: facts alone may settle it")
    structured: bool = Field(default=False, description="From the record's age or sex fields, not the text")
    notes: list[RuleNote] = []
    children: list[CriterionOut] = Field(default=[], description="Sub-items of a group, for display")


class CriteriaResponse(_Out):
    trial_id: str
    compiler_version: str | None = None
    criteria_hash: str | None = None
    uncompiled: bool = Field(description="The criteria text could not be compiled; only the study team can judge it")
    criteria_text: str | None = Field(default=None, description="The text the spans point into")
    limits: list[CriterionOut] = Field(description="The record's structured age and sex limits, as criteria")
    criteria: list[CriterionOut]
    notes: list[RuleNote] = Field(default=[], description="Disclaimers and definitions found in the text")


class SimilarOut(_Out):
    trial: TrialSummary
    score: float = Field(description="0–1: 1 shares every disease, drug and phase")
    reasons: list[str] = Field(description="e.g. 'same condition: B-ALL', 'same drug: Blinatumomab'")


class SimilarResponse(_Out):
    trial_id: str
    results: list[SimilarOut]


# --- matching ------------------------------------------------------------------------------------------------

class MatchedTrial(_Out):
    """One trial's verdict with every criterion's verdict, evidence and open question."""

    trial_id: str
    title: str | None = None
    status: str | None = None
    verdict: TrialVerdict
    nearest_site: str | None = Field(default=None, description="The site nearest to `near`, when given")
    distance_km: float | None = None
    open_questions: int = Field(description="How many criteria are still open")
    settled_share: float = Field(description="Share of criteria with a verdict")
    criteria: list[CriterionResult]

    @classmethod
    def of(cls, match: TrialMatch) -> MatchedTrial:
        return cls(trial_id=match.trial_id, title=match.title, status=match.status, verdict=match.verdict,
                   nearest_site=match.nearest_site, distance_km=match.distance_km, open_questions=len(match.open),
                   settled_share=round(match.settled_share, 3), criteria=list(match.criteria))


class RankedQuestionOut(_Out):
    question_id: str
    question: str
    could_settle: int = Field(description="How many trials this answer could settle")
    trials: list[str]


class PlaceOut(_Out):
    name: str
    lat: float
    lon: float


class MatchResponse(_Out):
    as_of: str
    considered: int = Field(description="Trials that passed the prefilter (status, age, sex, disease) and were judged")
    counts: dict[str, int] = Field(description="Judged trials per verdict: eligible, possibly_eligible, not_eligible")
    warnings: list[str] = Field(description="What the reader could not use from the patient record, and why")
    near: PlaceOut | None = None
    matches: list[MatchedTrial]
    next_questions: list[RankedQuestionOut] = Field(description="The questions that could settle the most trials")


class PrescreenQuestionOut(_Out):
    question_id: str
    question: str = Field(description="The question, worded for the request's perspective (patient or carer)")
    text: str = Field(description="The criterion's own words")
    section: str
    criterion_ids: list[str]
    answer: str | None = Field(description="yes, no, not_sure, or null when not answered yet")


class PrescreenResponse(_Out):
    trial_id: str
    title: str
    as_of: str
    result: PrescreenResult
    summary: str
    perspective: str = Field(default="self", description="Who the questions are worded for: self or carer")
    deciding: list[CriterionResult] = Field(description="The criteria that make the result not_eligible")
    open: list[CriterionResult] = Field(description="Criteria still open: talk to the study team about these")
    next_questions: list[PrescreenQuestionOut] = Field(description="Unanswered questions, in the trial's order")
    questions: list[PrescreenQuestionOut] = Field(description="Every question the given facts leave open")
    criteria: list[CriterionResult] = Field(description="Every criterion's verdict and evidence")
