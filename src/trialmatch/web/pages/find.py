"""``/find``: "Find trials for me", for patients and carers.

A short form (age, sex, diagnosis, stage, place) becomes patient facts; the store is screened and the
trials that may fit are listed in plain words, nearest site first among equals. Then the question that
could settle the most trials is asked, one at a time (Yes / No / Not sure, or skip), and the list re-ranks
after each answer. Every POST carries the form and all answers back in hidden fields, so nothing about the
person is kept on the server; "Save my answers" downloads them as a profile ``trialmatch match`` reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from trialmatch.criteria.questions import shown, worded_for
from trialmatch.matching.next_question import RankedQuestion
from trialmatch.matching.verdicts import TrialMatch, TrialVerdict
from trialmatch.patients.profile import dump_profile
from trialmatch.screening import Screening, ScreeningQuery
from trialmatch.web.pages.find_form import (
    ANSWER_WORDS,
    ANSWERS,
    DISEASE_STATUSES,
    SEX_CHOICES,
    FindForm,
    diagnosis_groups,
    empty_form,
    read_find_form,
)
from trialmatch.web.pages.prescreen_view import PERSPECTIVE_CHOICES, read_perspective
from trialmatch.web.pages.screening_thread import screen_in_thread
from trialmatch.web.security import CSRF_FIELD, check_csrf
from trialmatch.web.templates import render

router = APIRouter()
TITLE = "Find trials for me"
_MAX_QUESTION_TEXT = 1000


@dataclass(frozen=True)
class MatchRow:
    """One trial as the list shows it to a patient or carer."""

    match: TrialMatch
    verdict_words: str
    settled: int
    total: int

    @property
    def distance(self) -> str | None:
        if self.match.distance_km is None:
            return None
        km = self.match.distance_km
        return f"{km:,.0f} km ({km / 1.609344:,.0f} miles)"


@router.get("/find", response_class=HTMLResponse)
def find_page(request: Request) -> HTMLResponse:
    return _page(request, empty_form())


@router.post("/find", response_class=HTMLResponse)
async def find_post(request: Request) -> HTMLResponse:
    data = await request.form(max_part_size=request.app.state.settings.max_upload_bytes)
    check_csrf(request, _str(data.get(CSRF_FIELD)))
    form = read_find_form(data, dt.date.today())
    _apply(form, _str(data.get("action")) or "search", _str(data.get("q_id")), _str(data.get("q_text")))
    if form.errors:
        return _page(request, form, status_code=422)
    facts = form.facts()
    screening = await screen_in_thread(request, facts, ScreeningQuery(statuses=form.statuses, near=form.place))
    return _page(request, form, screening)


@router.post("/find/save")
async def find_save(request: Request) -> Response:
    """The answers so far as a profile file, downloaded: the only way anything from this page is kept."""
    data = await request.form(max_part_size=request.app.state.settings.max_upload_bytes)
    check_csrf(request, _str(data.get(CSRF_FIELD)))
    form = read_find_form(data, dt.date.today())
    if form.errors:
        return _page(request, form, status_code=422)
    profile = dump_profile(form.facts())
    return Response(profile, media_type="application/json", headers={
        "content-disposition": 'attachment; filename="trialmatch-my-answers.json"'})


def _apply(form: FindForm, action: str, question_id: str, question: str) -> None:
    """Change the answers as the button pressed says: answer, skip, change or clear one, or ask skipped again."""
    verb, _, rest = action.partition(":")
    question = question[:_MAX_QUESTION_TEXT]
    if verb == "answer" and rest in ANSWERS and question_id.startswith("q-") and question:
        form.with_answer(question_id, rest, question)
    elif verb == "skip" and question_id.startswith("q-") and question_id not in form.skipped:
        form.skipped.append(question_id)
    elif verb == "change":
        target, _, answer = rest.rpartition(":")
        previous = form.answer_to(target)
        if previous is not None and answer in ANSWERS:
            form.with_answer(target, answer, previous.question)
    elif verb == "clear":
        form.clear_answer(rest)
    elif verb == "unskip":
        form.skipped = []


def next_question(screening: Screening, form: FindForm) -> RankedQuestion | None:
    """The most useful question not yet answered (a "Not sure" counts as answered) nor skipped."""
    done = {a.question_id for a in form.answers} | set(form.skipped)
    return next((q for q in screening.questions if q.question_id not in done), None)


def match_rows(screening: Screening) -> list[MatchRow]:
    rows = []
    for match in screening.matches:
        total = len(match.criteria)
        settled = total - len(match.open)
        rows.append(MatchRow(match, verdict_words(match), settled, total))
    return rows


def verdict_words(match: TrialMatch) -> str:
    if match.verdict == TrialVerdict.ELIGIBLE:
        return "Looks like a match on everything we could check"
    if match.verdict == TrialVerdict.NOT_ELIGIBLE:
        return "Not a match"
    open_count = len(match.open)
    return f"Could be a match: {open_count} thing{'s' if open_count != 1 else ''} still to check"


def _page(request: Request, form: FindForm, screening: Screening | None = None,
          status_code: int = 200) -> HTMLResponse:
    perspective = read_perspective(form.values.get("perspective"))
    context = {
        "title": TITLE,
        "form": form,
        "screening": screening,
        "rows": match_rows(screening) if screening is not None else [],
        "question": next_question(screening, form) if screening is not None else None,
        "diagnosis_groups": diagnosis_groups(),
        "disease_statuses": [(value, label) for value, (label, _) in DISEASE_STATUSES.items()],
        "sex_choices": SEX_CHOICES,
        "answer_words": ANSWER_WORDS,
        "perspectives": PERSPECTIVE_CHOICES,
        # Questions travel in the patient's wording (their ids are its hash); a carer sees them reworded.
        "worded": lambda question: shown(worded_for(question, perspective)),
    }
    return render(request, "find.html", context, status_code=status_code)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""
