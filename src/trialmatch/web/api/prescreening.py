"""``POST /api/trials/{id}/prescreen``: one trial's Yes / No / Not sure questionnaire, judged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from trialmatch.criteria.questions import Perspective
from trialmatch.patients.facts import PatientFacts
from trialmatch.prescreening import InvalidAnswer, Prescreen, PrescreenQuestion, UnknownQuestion, prescreen
from trialmatch.store.sqlite import TrialStore
from trialmatch.web.api.bodies import JSON_TYPES, json_body, patient_from_json, refuse_media_type, validated
from trialmatch.web.api.models import PrescreenQuestionOut, PrescreenResponse, error_responses
from trialmatch.web.api.trials import trial_or_404
from trialmatch.web.errors import ApiError
from trialmatch.web.stores import StoreDep
from trialmatch.web.work import in_turn

router = APIRouter(tags=["matching"])


class PrescreenRequest(BaseModel):
    """Answers so far, and optionally what else is known about the patient."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "answers": {"q-d276855750d7": "yes", "q-d4f10a6c96bb": "no", "q-0718aac7c063": "not_sure"},
        "facts": {"birth_date": "2016-03-02", "sex": "male"}, "as_of": "2026-06-01"}]})

    answers: dict[str, Any] = Field(
        default_factory=dict, max_length=1000,
        description="question_id → yes, no or not_sure (ids from the questions in the response, or from "
                    "GET /api/trials/{id}/criteria)")
    facts: dict[str, Any] | None = Field(
        default=None, description="Known facts: a profile (docs/patient-facts.md) or a FHIR R4 Bundle")
    as_of: dt.date | None = Field(default=None, description="Judge ages and windows on this date; default today")
    perspective: Perspective = Field(
        default="self", description="Who answers: \"self\" (the patient: \"Have you had …\") or \"carer\" "
                                    "(for the person they care for: \"Has the patient had …\"). Only the wording "
                                    "changes; question ids stay the same.")


@router.post(
    "/trials/{trial_id:path}/prescreen", response_model=PrescreenResponse, summary="Pre-screen one trial",
    description="Send the answers given so far (`{}` to start): the result is likely_eligible, not_eligible "
                "(with the deciding criteria) or possibly_eligible (with the criteria to talk to the study "
                "team about), plus the questions still unanswered. \"not_sure\" never rules anyone out. "
                "Nothing is stored.",
    responses=error_responses(400, 404, 413, 415, 422),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": PrescreenRequest.model_json_schema()}}}})
async def prescreen_trial(trial_id: str, request: Request, store: StoreDep) -> PrescreenResponse:
    refuse_media_type(request, JSON_TYPES)
    body: PrescreenRequest = validated(PrescreenRequest, await json_body(request))
    facts = await run_in_threadpool(patient_from_json, body.facts) if body.facts is not None else None
    day = body.as_of or dt.date.today()
    result = await in_turn(request.app, _prescreen, store, trial_id, body.answers, facts, day)
    return PrescreenResponse(
        trial_id=result.trial.id, title=result.trial.title, as_of=day.isoformat(), result=result.result,
        summary=result.summary(), deciding=list(result.deciding), open=list(result.open),
        perspective=body.perspective,
        next_questions=[_question_out(q, body.perspective) for q in result.next_questions],
        questions=[_question_out(q, body.perspective) for q in result.questions], criteria=list(result.match.criteria))


def _prescreen(store: TrialStore, trial_id: str, answers: dict[str, Any], facts: PatientFacts | None,
               day: dt.date) -> Prescreen:
    trial = trial_or_404(store, trial_id)
    try:
        return prescreen(trial, store.compiled(trial.id), answers, facts, day)
    except UnknownQuestion as error:
        details = [{"field": f"answers.{qid}", "message": "not a question of this trial"} for qid in error.unknown]
        raise ApiError(422, "unknown_question", _sentence(str(error)), details) from None
    except InvalidAnswer as error:
        raise ApiError(422, "invalid_answer", _sentence(str(error)),
                       [{"field": f"answers.{error.question_id}", "message": "answer yes, no or not_sure"}]) from None


def _sentence(message: str) -> str:
    return message[0].upper() + message[1:] + "."


def _question_out(question: PrescreenQuestion, perspective: Perspective) -> PrescreenQuestionOut:
    return PrescreenQuestionOut(question_id=question.question_id, question=question.worded(perspective),
                                text=question.text,
                                section=question.section, criterion_ids=list(question.criterion_ids),
                                answer=question.answer)
