"""``POST /api/match``: one patient against the whole store, ranked, with the questions worth asking next."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.notes import read_note
from trialmatch.places import Place, UnknownPlace, parse_place
from trialmatch.screening import ScreeningQuery, screen
from trialmatch.store.search import SearchError, expand_statuses
from trialmatch.web.api.bodies import (
    JSON_TYPES,
    MULTIPART,
    json_body,
    media_type,
    patient_from_json,
    patient_from_upload,
    refuse_media_type,
    upload,
    validated,
)
from trialmatch.web.api.fields import status_list
from trialmatch.web.api.models import MatchedTrial, MatchResponse, PlaceOut, RankedQuestionOut, error_responses
from trialmatch.web.errors import ApiError
from trialmatch.web.stores import StorePool
from trialmatch.web.work import in_turn

router = APIRouter(tags=["matching"])

_DEFAULT_LIMIT = 20
_NEXT_QUESTIONS = 10


class MatchOptions(BaseModel):
    """How to screen: the same options as the query parameters (body values win)."""

    model_config = ConfigDict(extra="forbid")

    status: list[str] | None = Field(default=None, description="Trial statuses: open (default), closed, any, …")
    as_of: dt.date | None = Field(default=None, description="Judge ages and washout windows on this date")
    near: str | None = Field(default=None, max_length=200, description="A city or 'lat,lon' for nearest sites")
    limit: int | None = Field(default=None, ge=1, le=100, description="How many trials to return (default 20)")
    include_not_eligible: bool | None = Field(default=None, description="Also return trials ruled out")

    @field_validator("status", mode="before")
    @classmethod
    def _one_status(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class MatchRequest(MatchOptions):
    """A patient with options. A bare profile or FHIR Bundle as the whole body works too."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "patient": {"birth_date": "2016-03-02", "sex": "male",
                    "conditions": [{"name": "B-cell acute lymphoblastic leukaemia", "relapse_number": 1}]},
        "status": ["open"], "as_of": "2026-06-01", "near": "Leeds, UK", "limit": 10}]})

    patient: dict[str, Any] | None = Field(
        default=None, description="A profile (docs/patient-facts.md) or a FHIR R4 Bundle (with resourceType)")
    note: str | None = Field(default=None, max_length=200_000, description="A clinical note, instead of patient")

    @model_validator(mode="after")
    def _one_patient(self) -> MatchRequest:
        if (self.patient is None) == (self.note is None):
            raise ValueError("give exactly one of patient (a profile or FHIR Bundle) or note (text)")
        return self


_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {"oneOf": [MatchRequest.model_json_schema(),
                                 {"type": "object", "title": "Patient",
                                  "description": "A bare profile (docs/patient-facts.md) or FHIR R4 Bundle"}]},
            "examples": {
                "profile": {"summary": "A profile, options in the query",
                            "value": {"birth_date": "2016-03-02", "sex": "male",
                                      "conditions": [{"name": "B-ALL", "relapse_number": 1, "cd19": "positive"}]}},
                "envelope": {"summary": "A patient with options",
                             "value": MatchRequest.model_config["json_schema_extra"]["examples"][0]},  # type: ignore[index]
                "fhir": {"summary": "A FHIR R4 Bundle",
                         "value": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
                             "resourceType": "Patient", "birthDate": "1980-05-01", "gender": "female"}}]}},
            },
        },
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "FHIR JSON, a JSON/YAML profile, or a clinical note (.txt)"},
            "status": {"type": "array", "items": {"type": "string"}}, "as_of": {"type": "string", "format": "date"},
            "near": {"type": "string"}, "limit": {"type": "integer"}, "include_not_eligible": {"type": "boolean"}}}},
    },
}


@router.post(
    "/match", response_model=MatchResponse, summary="Match a patient against the store",
    description="Send a patient as JSON (a profile, a FHIR R4 Bundle, or `{\"patient\": …, options}`) or upload a "
                "file as multipart/form-data (field `file`). Returns the trials ranked eligible first, each with "
                "every criterion's verdict and evidence, the counts per verdict, and the questions whose answers "
                "would settle the most trials. Nothing is stored or logged.",
    responses=error_responses(400, 413, 415, 422),
    openapi_extra={"requestBody": _BODY})
async def match(
    request: Request,
    status: Annotated[list[str] | None, Query(description="open (default), closed, any, or a status")] = None,
    as_of: Annotated[dt.date | None, Query(description="YYYY-MM-DD; default today")] = None,
    near: Annotated[str | None, Query(max_length=200, description="A city or 'lat,lon'")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100, description="Trials to return (default 20)")] = None,
    include_not_eligible: Annotated[bool | None, Query(description="Also return ruled-out trials")] = None,
) -> Response:
    refuse_media_type(request, (*JSON_TYPES, MULTIPART))
    options = MatchOptions(status=status, as_of=as_of, near=near, limit=limit,
                           include_not_eligible=include_not_eligible)
    read_patient: Callable[[], PatientFacts]
    if media_type(request) == MULTIPART:
        uploaded = await upload(request)
        given = {key: values if key == "status" else values[0] for key, values in uploaded.fields.items()}
        options = _merged(options, validated(MatchOptions, given))
        day = options.as_of or dt.date.today()
        read_patient = partial(patient_from_upload, uploaded, day)
    else:
        data = await json_body(request)
        if isinstance(data, dict) and ("patient" in data or "note" in data):
            envelope: MatchRequest = validated(MatchRequest, data)
            options = _merged(options, envelope)
            day = options.as_of or dt.date.today()
            read_patient = partial(_envelope_patient, envelope, day)
        else:
            day = options.as_of or dt.date.today()
            read_patient = partial(patient_from_json, data)
    # One trip to a worker thread for reading, screening and writing the answer: each trip costs a thread
    # switch, and the answer is serialised once, straight to JSON (the models are built and checked here).
    body = await in_turn(request.app, _answer, request.app.state.stores, read_patient, options, day)
    return Response(body, media_type="application/json")


def _answer(stores: StorePool, read_patient: Callable[[], PatientFacts], options: MatchOptions,
            day: dt.date) -> bytes:
    facts = read_patient()
    statuses = status_list(options.status, default=["OPEN"])
    try:
        expand_statuses(statuses)
    except SearchError as error:
        message = str(error)
        raise ApiError(422, "invalid_input", message[0].upper() + message[1:] + ".",
                       [{"field": "status", "message": message}]) from None
    warnings = list(facts.warnings)
    place = _place(options.near, facts, warnings)
    query = ScreeningQuery(as_of=day, statuses=statuses, near=place, limit=options.limit or _DEFAULT_LIMIT,
                           include_not_eligible=bool(options.include_not_eligible))
    with stores.checkout() as store:
        result = screen(store, facts, query)
    answer = MatchResponse(
        as_of=day.isoformat(), considered=result.considered, counts=result.counts, warnings=warnings,
        near=PlaceOut(name=place.name, lat=place.lat, lon=place.lon) if place else None,
        matches=[MatchedTrial.of(m) for m in result.matches],
        next_questions=[RankedQuestionOut(question_id=q.question_id, question=q.question,
                                          could_settle=q.could_settle, trials=q.trial_ids)
                        for q in result.questions[:_NEXT_QUESTIONS]])
    return MatchResponse.__pydantic_serializer__.to_json(answer)


def _merged(query: MatchOptions, body: MatchOptions) -> MatchOptions:
    """Options from the body override those in the query."""
    chosen = {name: getattr(body, name) if getattr(body, name) is not None else getattr(query, name)
              for name in MatchOptions.model_fields}
    return MatchOptions(**chosen)


def _envelope_patient(envelope: MatchRequest, day: dt.date) -> PatientFacts:
    if envelope.note is not None:
        try:
            return read_note(envelope.note, as_of=day)
        except PatientReadError as error:
            raise ApiError(422, "invalid_patient", str(error)) from None
    return patient_from_json(envelope.patient)


def _place(near: str | None, facts: PatientFacts, warnings: list[str]) -> Place | None:
    """The place to measure sites from: ``near``, else the patient's own location (like the CLI)."""
    if near:
        try:
            return parse_place(near)
        except UnknownPlace as error:
            raise ApiError(422, "invalid_input", str(error)[0].upper() + str(error)[1:] + ".",
                           [{"field": "near", "message": str(error)}]) from None
    located = facts.location
    if located is None:
        return None
    if located.lat is not None and located.lon is not None:
        return Place("the patient's location", located.lat, located.lon)
    if not located.text:
        return None
    try:
        return parse_place(located.text)
    except UnknownPlace:
        warnings.append("The patient's location is not a place we know; give `near` to see the nearest sites.")
        return None
