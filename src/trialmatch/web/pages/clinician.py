"""``/clinician``: screen one patient record (FHIR R4 Bundle, profile or note) against the store.

For nurse navigators, oncologists and research coordinators: every trial's verdict with each criterion's
verdict, evidence and source, the trial's own words and the compiled rule; the criteria that decide a
"not eligible" are highlighted, and the open questions listed. The results page carries the record in a
hidden field, so "Export" posts it again to ``/clinician/export`` and nothing is stored between requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from trialmatch.matching.export import matches_csv, matches_json
from trialmatch.matching.verdicts import CriterionResult, TrialMatch
from trialmatch.patients.facts import PatientFacts
from trialmatch.screening import Screening
from trialmatch.web.pages.clinician_form import (
    KIND_CHOICES,
    MAX_LIMIT,
    STATUS_CHOICES,
    ClinicianForm,
    blank_form,
    place_for,
    read_clinician_form,
    read_record,
)
from trialmatch.web.pages.screening_thread import screen_in_thread
from trialmatch.web.security import CSRF_FIELD, check_csrf
from trialmatch.web.templates import render

router = APIRouter()
TITLE = "Clinician view: screen a patient record"


@dataclass(frozen=True)
class Outcome:
    """One screening as the page shows it."""

    facts: PatientFacts
    screening: Screening
    warnings: list[str]
    place_name: str | None


@router.get("/clinician", response_class=HTMLResponse)
def clinician_page(request: Request) -> HTMLResponse:
    return _page(request, blank_form())


@router.post("/clinician", response_class=HTMLResponse)
async def clinician_post(request: Request) -> HTMLResponse:
    form, outcome = await _screen_upload(request)
    if outcome is None:
        return _page(request, form, status_code=422)
    return _page(request, form, outcome)


@router.post("/clinician/export")
async def clinician_export(request: Request,
                           format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
                           ) -> Response:
    """The same screening as a download: JSON with everything, or CSV with one row per trial × criterion."""
    form, outcome = await _screen_upload(request)
    if outcome is None:
        return _page(request, form, status_code=422)
    screening = outcome.screening
    stem = f"trialmatch-screening-{form.as_of.isoformat()}"
    if format == "csv":
        return Response(matches_csv(screening.matches), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{stem}.csv"'})
    body = matches_json(screening.matches, as_of=form.as_of, considered=screening.considered,
                        counts=screening.counts, questions=screening.questions[:20], warnings=outcome.warnings,
                        options=form.options() | {"near": outcome.place_name})
    return Response(json.dumps(body, indent=2, ensure_ascii=False) + "\n", media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="{stem}.json"'})


async def _screen_upload(request: Request) -> tuple[ClinicianForm, Outcome | None]:
    """Read the form and the record, and screen; any problem leaves its message in the form's errors."""
    data = await request.form(max_part_size=request.app.state.settings.max_upload_bytes, max_files=1)
    check_csrf(request, token if isinstance(token := data.get(CSRF_FIELD), str) else None)
    form = await read_clinician_form(data)
    if form.errors:
        return form, None
    facts = read_record(form)
    if facts is None:
        return form, None
    place, place_note = place_for(form, facts)
    warnings = [*facts.warnings, *([place_note] if place_note else [])]
    screening = await screen_in_thread(request, facts, form.query(place))
    return form, Outcome(facts, screening, warnings, place.name if place else None)


def open_questions(match: TrialMatch) -> list[CriterionResult]:
    """The trial's open criteria with a question, each question once."""
    seen: set[str] = set()
    found = []
    for result in match.open:
        if result.question and result.question_id not in seen:
            seen.add(result.question_id or "")
            found.append(result)
    return found


def _page(request: Request, form: ClinicianForm, outcome: Outcome | None = None,
          status_code: int = 200) -> HTMLResponse:
    context = {
        "title": TITLE,
        "form": form,
        "outcome": outcome,
        "kind_choices": KIND_CHOICES,
        "status_choices": [(value, label) for value, label, _ in STATUS_CHOICES],
        "max_limit": MAX_LIMIT,
        "open_questions": open_questions,
    }
    return render(request, "clinician.html", context, status_code=status_code)
