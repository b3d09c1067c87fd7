"""The search page, ``/``: a GET form (so every search is a link) and one page of results.

Fields arrive as plain strings and are checked here, so a bad value ("abc" for age, a place the
gazetteer doesn't know) becomes a message beside its field rather than an error page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from trialmatch.places import KM_PER_MILE, UnknownPlace, parse_place
from trialmatch.store.search import SearchError, SearchHit, SearchQuery, SearchResults, search
from trialmatch.trials.summary import age_range, phase_label, status_kind, status_label
from trialmatch.web.stores import StoreDep
from trialmatch.web.templates import render

router = APIRouter()

#: (value, label) of the status choices; the first is the default.
STATUS_CHOICES = [
    ("open", "Open to new people"),
    ("recruiting", "Recruiting now"),
    ("not_yet_recruiting", "Not yet recruiting"),
    ("active_not_recruiting", "Under way, not taking new people"),
    ("completed", "Completed"),
    ("closed", "Closed (any reason)"),
    ("any", "Any status"),
]
PHASE_CHOICES = [("", "Any phase"), ("early_phase1", "Early phase 1"), ("phase1", "Phase 1"), ("phase2", "Phase 2"),
                 ("phase3", "Phase 3"), ("phase4", "Phase 4"), ("na", "No phase (not a medicine trial)")]
SEX_CHOICES = [("", "Any"), ("female", "Female"), ("male", "Male")]
RADIUS_CHOICES = [("", "Any distance"), ("25", "25 km (16 miles)"), ("50", "50 km (31 miles)"),
                  ("100", "100 km (62 miles)"), ("250", "250 km (155 miles)"), ("500", "500 km (311 miles)"),
                  ("1000", "1,000 km (621 miles)")]
SORT_CHOICES = [("relevance", "Best match"), ("distance", "Nearest first"), ("updated", "Recently updated")]
#: The form's fields, in the order they go into links.
FIELDS = ("q", "condition", "status", "phase", "age", "sex", "near", "radius", "sort")
#: Pages past this would read beyond the store's counting limit; the message asks for narrower filters.
MAX_PAGE = 100


@dataclass
class SearchForm:
    """What the person typed, as typed (to fill the form again), and the problems found in it."""

    values: dict[str, str]
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def link(self, **changes: str | int | None) -> str:
        """This search as a link, with some fields changed (None or "" drops a field)."""
        params = {**self.values, "page": str(self.page), **{k: "" if v is None else str(v) for k, v in changes.items()}}
        if params.get("page") == "1":
            params.pop("page")
        kept = [(k, v) for k, v in params.items() if v and not (k == "sort" and v == "relevance")]
        return "/?" + urlencode(kept) if kept else "/"


@dataclass(frozen=True)
class ResultRow:
    """One hit as the page shows it."""

    hit: SearchHit
    status: str
    status_kind: str
    phase: str
    ages: str
    site: str | None
    distance: str | None


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, store: StoreDep) -> HTMLResponse:
    form = _read_form(request)
    page_size = request.app.state.settings.page_size
    query = _query(form, page_size)
    results: SearchResults | None = None
    if query is not None:
        try:
            results = search(store, query)
        except SearchError as error:
            form.errors.setdefault("form", _sentence(str(error)))
    pages = max(1, math.ceil(results.total / page_size)) if results else 1
    context = {
        "title": "Find a clinical trial",
        "form": form,
        "searched": _searched(request),
        "results": results,
        "rows": [_row(hit) for hit in results.hits] if results else [],
        "first_number": (form.page - 1) * page_size + 1,
        "pages": pages,
        "suggestions": _suggestions(form) if results is not None and results.total == 0 else [],
        "near_param": form.values["near"] if query is not None and query.near is not None else "",
        "choices": {"status": STATUS_CHOICES, "phase": PHASE_CHOICES, "sex": SEX_CHOICES,
                    "radius": RADIUS_CHOICES, "sort": SORT_CHOICES},
    }
    return render(request, "search.html", context)


def _searched(request: Request) -> bool:
    """True once the form was sent: the first visit shows the form and the open trials, unlabelled."""
    return any(request.query_params.get(name) for name in FIELDS)


def _read_form(request: Request) -> SearchForm:
    params = request.query_params
    values = {name: (params.get(name) or "").strip()[:200] for name in FIELDS}
    values["status"] = values["status"] or "open"
    values["sort"] = values["sort"] or "relevance"
    form = SearchForm(values)
    page_text = (params.get("page") or "1").strip()
    if not page_text.isdigit() or int(page_text) < 1:
        form.errors["page"] = "The page number must be a whole number from 1; showing page 1."
    elif int(page_text) > MAX_PAGE:
        form.errors["page"] = f"Only the first {MAX_PAGE} pages are shown; add filters to narrow the search."
        form.page = MAX_PAGE
    else:
        form.page = int(page_text)
    for name, choices in (("status", STATUS_CHOICES), ("phase", PHASE_CHOICES), ("sex", SEX_CHOICES),
                          ("sort", SORT_CHOICES)):
        allowed = {value for value, _ in choices}
        if values[name].lower() not in allowed:
            labels = ", ".join(label for value, label in choices if value)
            form.errors[name] = f"Choose one of: {labels}."
        else:
            values[name] = values[name].lower()
    return form


def _query(form: SearchForm, page_size: int) -> SearchQuery | None:
    """The engine's query, or None when a field is wrong (its message is on the form)."""
    values = form.values
    query = SearchQuery(text=" ".join(v for v in (values["q"], values["condition"]) if v),
                        limit=page_size, offset=(form.page - 1) * page_size)
    if "status" not in form.errors and values["status"] != "any":
        query.statuses = [values["status"]]
    if "phase" not in form.errors and values["phase"]:
        query.phases = [values["phase"]]
    if "sex" not in form.errors and values["sex"]:
        query.sex = values["sex"]
    if "sort" not in form.errors:
        query.sort = values["sort"]  # type: ignore[assignment]
    if values["age"]:
        try:
            query.age_years = float(values["age"])
        except ValueError:
            form.errors["age"] = "Give the age in years as a number, for example 8 or 45."
        else:
            if not 0 <= query.age_years <= 130 or math.isnan(query.age_years):
                form.errors["age"] = "Give an age between 0 and 130 years."
    if values["near"]:
        try:
            query.near = parse_place(values["near"])
        except UnknownPlace as error:
            form.errors["near"] = _sentence(str(error))
    if values["radius"]:
        try:
            query.radius_km = float(values["radius"])
        except ValueError:
            form.errors["radius"] = "Choose a distance from the list."
        else:
            if not 0 < query.radius_km <= 20_000 or math.isnan(query.radius_km):
                form.errors["radius"] = "Choose a distance from the list."
        if not values["near"] and "radius" not in form.errors:
            form.errors["near"] = "A distance needs a place: type a town or city, or choose “Any distance”."
    if query.sort == "distance" and not values["near"]:
        form.errors.setdefault("near", "Sorting by nearest needs a place: type a town or city.")
    bad = {k for k in form.errors if k != "page"}
    return None if bad else query


def _row(hit: SearchHit) -> ResultRow:
    trial, site = hit.trial, hit.nearest_site
    where = ", ".join(p for p in (site.facility, site.city, site.country) if p) if site else None
    distance = None
    if site is not None and site.distance_km is not None:
        distance = f"{site.distance_km:,.0f} km ({site.distance_km / KM_PER_MILE:,.0f} miles)"
    return ResultRow(hit, status_label(trial), status_kind(trial), phase_label(trial), age_range(trial),
                     where or None, distance)


def _suggestions(form: SearchForm) -> list[tuple[str, str]]:
    """Ways to widen a search that found nothing: (what to do, the link that does it)."""
    values = form.values
    out: list[tuple[str, str]] = []
    if values["status"] != "any":
        out.append(("Include trials of any status (closed trials can point to open ones)",
                    form.link(status="any", page=1)))
    if values["radius"]:
        out.append(("Search at any distance", form.link(radius=None, page=1)))
    for name, label in (("phase", "phase"), ("age", "age"), ("sex", "sex")):
        if values[name]:
            out.append((f"Remove the {label} filter", form.link(**{name: None}, page=1)))
    if values["q"] and values["condition"]:
        out.append(("Search for the condition only", form.link(q=None, page=1)))
    return out


def _sentence(message: str) -> str:
    message = message.strip()
    return (message[:1].upper() + message[1:]).rstrip(".") + "."
