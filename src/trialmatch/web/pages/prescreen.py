"""``POST /trials/{id}/prescreen``: the questionnaire sent without JavaScript.

The answers come back in the re-rendered trial page with the result; nothing is kept on the server.
"Clear my responses" posts the same form with ``action=clear`` and gets the empty questionnaire. The
``perspective`` field (self or carer) words the questions for the patient or for someone answering for them;
``action=perspective`` only changes the wording, keeping the answers.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trialmatch.web.pages.prescreen_view import MESSAGES, answers_from_form, build_prescreen_view, read_perspective
from trialmatch.web.pages.trial import canonical_redirect, find_trial, render_trial_page, trial_path
from trialmatch.web.security import CSRF_FIELD, check_csrf
from trialmatch.web.stores import StoreDep

router = APIRouter()


@router.get("/trials/{trial_id:path}/prescreen")
def prescreen_get(trial_id: str, store: StoreDep) -> Response:
    """The questionnaire lives on the trial page (a reload after posting lands here)."""
    trial = find_trial(store, trial_id)
    return RedirectResponse(trial_path(trial.id) + "#prescreen", status_code=303)


@router.post("/trials/{trial_id:path}/prescreen", response_class=HTMLResponse)
async def prescreen_post(request: Request, trial_id: str, store: StoreDep) -> Response:
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_csrf(request, token if isinstance(token, str) else None)
    trial = find_trial(store, trial_id)
    if (moved := canonical_redirect(request, trial, trial_id, "/prescreen")) is not None:
        return moved
    action = form.get("action")
    cleared = action == "clear"
    answers = {} if cleared else answers_from_form(form)
    near = form.get("near")
    perspective = read_perspective(form.get("perspective"))
    screening = build_prescreen_view(trial, store.compiled(trial.id), answers, perspective)
    if action == "perspective" and not answers:
        message = None  # only the wording changed: nothing to report yet
    else:
        message = MESSAGES["cleared"] if cleared else None if answers else MESSAGES["none"]
    return render_trial_page(request, store, trial, near=near if isinstance(near, str) else "",
                             prescreening=screening, message=message)
