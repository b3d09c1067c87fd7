"""The trial page, ``/trials/{id}``, and its print version, ``/trials/{id}/print``.

Ids may hold a slash (sponsor protocol numbers do), so the id is a path parameter and the longer
routes are registered first.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trialmatch.criteria.questions import Perspective
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import Trial
from trialmatch.web.errors import ApiError
from trialmatch.web.pages.prescreen_view import (
    CHOICES,
    PERSPECTIVE_CHOICES,
    PrescreenView,
    build_prescreen_view,
    read_perspective,
    wording,
)
from trialmatch.web.pages.trial_view import build_trial_view
from trialmatch.web.stores import StoreDep
from trialmatch.web.templates import render

router = APIRouter()


def trial_path(trial_id: str, suffix: str = "") -> str:
    return f"/trials/{quote(trial_id, safe='/')}{suffix}"


def find_trial(store: TrialStore, trial_id: str) -> Trial:
    trial = store.get(trial_id)
    if trial is None:
        raise ApiError(404, "trial_not_found",
                       f"There is no trial with the id “{trial_id[:100]}” in this store. "
                       "Search for it by name, disease or number on the search page.")
    return trial


def canonical_redirect(request: Request, trial: Trial, trial_id: str, suffix: str = "") -> Response | None:
    """Send a trial found by another of its ids (a sponsor number) to its own address."""
    if trial.id == trial_id:
        return None
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(trial_path(trial.id, suffix) + query, status_code=308)


def render_trial_page(request: Request, store: TrialStore, trial: Trial, near: str = "", all_sites: bool = False,
                      prescreening: PrescreenView | None = None, message: str | None = None,
                      perspective: Perspective = "self") -> HTMLResponse:
    """The trial page; after a pre-screening post, with its answers, result or ``message``."""
    view = build_trial_view(store, trial, near=near, all_sites=all_sites)
    prescreening = prescreening or build_prescreen_view(trial, view.compiled, perspective=perspective)
    return render(request, "trial.html", {
        "title": trial.title, "view": view, "prescreen": prescreening, "choices": CHOICES, "message": message,
        "wording": wording(prescreening.perspective), "perspectives": PERSPECTIVE_CHOICES,
        "trial_url": trial_path(trial.id)})


@router.get("/trials/{trial_id:path}/print", response_class=HTMLResponse)
def trial_print(request: Request, trial_id: str, store: StoreDep, near: str = "") -> Response:
    trial = find_trial(store, trial_id)
    if (moved := canonical_redirect(request, trial, trial_id, "/print")) is not None:
        return moved
    view = build_trial_view(store, trial, near=near, similar=False)
    return render(request, "trial_print.html", {"title": f"{trial.title} (print version)", "view": view,
                                               "trial_url": trial_path(trial.id)})


@router.get("/trials/{trial_id:path}", response_class=HTMLResponse)
def trial_page(request: Request, trial_id: str, store: StoreDep, near: str = "", sites: str = "",
               perspective: str = "self") -> Response:
    """``?perspective=carer`` words the questionnaire for someone answering for the person they care for."""
    trial = find_trial(store, trial_id)
    if (moved := canonical_redirect(request, trial, trial_id)) is not None:
        return moved
    return render_trial_page(request, store, trial, near=near, all_sites=sites == "all",
                             perspective=read_perspective(perspective))
