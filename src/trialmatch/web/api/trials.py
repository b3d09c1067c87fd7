"""``/api/trials``: search the store, read one trial, its compiled criteria and the trials like it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from trialmatch.criteria.compiler import CompiledCriterion
from trialmatch.criteria.describe import describe
from trialmatch.matching.trial_plan import PlannedCriterion, build_plan, question_id
from trialmatch.places import UnknownPlace, parse_place
from trialmatch.store.search import NearestSite, SearchError, SearchQuery, search
from trialmatch.store.similar import similar_trials
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import Trial
from trialmatch.web.api.fields import status_list
from trialmatch.web.api.models import (
    CriteriaResponse,
    CriterionOut,
    RuleNote,
    SearchResponse,
    SimilarOut,
    SimilarResponse,
    SiteOut,
    TrialSummary,
    error_responses,
)
from trialmatch.web.errors import ApiError
from trialmatch.web.stores import StoreDep, StorePool
from trialmatch.web.work import in_turn

router = APIRouter(tags=["trials"])

#: Which search parameter a SearchError is about, from the start of its message.
_SEARCH_FIELDS = (("unknown phase", "phase"), ("unknown status", "status"), ("sex", "sex"), ("age", "age"),
                  ("nothing to search", "q"), ("sorting by distance", "sort"), ("unknown study type", "type"))


@router.get(
    "/trials", response_model=SearchResponse, summary="Search trials",
    description="Full-text search with synonyms (\"ALL\", \"B-ALL\" and \"leukaemia\" find the same trials), "
                "filtered by status, phase, the patient's age and sex, and distance from a place. "
                "Example: `/api/trials?q=blinatumomab&condition=B-ALL&age=10&near=Leeds,UK&within=500`.",
    responses=error_responses(422))
async def search_trials(
    request: Request,
    q: Annotated[str, Query(max_length=500, description="Words to find; diseases and drugs match all their names",
                            examples=["blinatumomab"])] = "",
    condition: Annotated[str | None, Query(max_length=200, description="A disease, e.g. 'B-ALL' or 'AML'")] = None,
    status: Annotated[list[str] | None, Query(
        description="open (default: recruiting, not yet recruiting or by invitation), closed, any, or a "
                    "ClinicalTrials.gov status such as recruiting. Repeat or comma-separate for several.")] = None,
    phase: Annotated[list[str] | None, Query(
        description="Phase: 1, 2, 3, 4, early_phase1 or na. Repeat for several (any of them matches).")] = None,
    age: Annotated[float | None, Query(ge=0, le=130, description="The patient's age in years")] = None,
    sex: Annotated[str | None, Query(max_length=10, description="female, male or all")] = None,
    near: Annotated[str | None, Query(max_length=200, description="A city ('Leeds', 'Lyon, France') or "
                                      "'lat,lon'; each result shows its nearest site")] = None,
    within: Annotated[float | None, Query(gt=0, le=20_000, description="Radius in km around `near`")] = None,
    sort: Annotated[str, Query(pattern="^(relevance|distance|updated)$",
                               description="relevance (default), distance (needs near) or updated")] = "relevance",
    page: Annotated[int, Query(ge=1, le=100)] = 1,
    per_page: Annotated[int | None, Query(ge=1, le=100, description="Results per page (default 10)")] = None,
) -> Response:
    size = per_page or request.app.state.settings.page_size
    if within is not None and not near:
        raise _invalid("within", "`within` is a radius around a place: give `near` too, e.g. near=Leeds&within=50")
    place = None
    if near:
        try:
            place = parse_place(near)
        except UnknownPlace as error:
            raise _invalid("near", str(error)) from None
    wanted_sex = (sex or "").strip().lower()
    query = SearchQuery(
        text=" ".join(part for part in (condition, q) if part and part.strip()),
        statuses=status_list(status, default=["open"]), phases=[p for v in phase or [] for p in _split(v)],
        age_years=age, sex=None if wanted_sex in ("", "all") else wanted_sex, near=place, radius_km=within,
        sort=sort, limit=size, offset=(page - 1) * size)  # type: ignore[arg-type]
    # One trip to a worker thread for the store, the search and the JSON: each trip costs a thread switch.
    return Response(await in_turn(request.app, _search_answer, request.app.state.stores, query, page),
                    media_type="application/json")


def _search_answer(stores: StorePool, query: SearchQuery, page: int) -> bytes:
    try:
        with stores.checkout() as store:
            found = search(store, query)
    except SearchError as error:
        message = str(error)
        field = next((name for start, name in _SEARCH_FIELDS if message.startswith(start)), "")
        raise _invalid(field, message[0].upper() + message[1:] + ".") from None
    answer = SearchResponse(total=found.total, total_is_exact=found.total_is_exact, page=page,
                            per_page=query.limit, results=[trial_summary(hit.trial, hit.nearest_site)
                                                           for hit in found.hits])
    return SearchResponse.__pydantic_serializer__.to_json(answer)


@router.get("/trials/{trial_id:path}/criteria", response_model=CriteriaResponse,
            summary="A trial's compiled eligibility criteria",
            description="Each criterion with its own words (and their span in `criteria_text`), the compiled "
                        "rule as JSON and in clinical notation, its plain-language question and whether facts "
                        "alone can settle it. `limits` holds the record's structured age and sex limits.",
            responses=error_responses(404, 422))
def trial_criteria(trial_id: str, store: StoreDep) -> CriteriaResponse:
    trial = trial_or_404(store, trial_id)
    compiled = store.compiled(trial.id)
    has_text = bool((trial.eligibility.criteria_text or "").strip())
    limits = [_planned_out(c) for c in build_plan(trial, None).criteria if c.structured]
    return CriteriaResponse(
        trial_id=trial.id, compiler_version=compiled.compiler_version if compiled else None,
        criteria_hash=compiled.criteria_hash if compiled else None,
        uncompiled=compiled is None or (has_text and not compiled.criteria),
        criteria_text=trial.eligibility.criteria_text, limits=limits,
        criteria=[_criterion_out(c) for c in compiled.criteria] if compiled else [],
        notes=[RuleNote(kind=n.kind, text=n.text, span=n.span) for n in compiled.notes] if compiled else [])


@router.get("/trials/{trial_id:path}/similar", response_model=SimilarResponse, summary="Trials like this one",
            description="Stored trials studying the same (or a narrower, broader or sibling) disease, giving the "
                        "same drugs, in the same phase; open trials first among near ties. Each result says why.",
            responses=error_responses(404, 422))
def trial_similar(trial_id: str, store: StoreDep,
                  limit: Annotated[int, Query(ge=1, le=20, description="How many to return")] = 5) -> SimilarResponse:
    trial = trial_or_404(store, trial_id)
    results = [SimilarOut(trial=trial_summary(s.trial), score=s.score, reasons=s.reasons)
               for s in similar_trials(store, trial, limit)]
    return SimilarResponse(trial_id=trial.id, results=results)


@router.get("/trials/{trial_id:path}", response_model=Trial, summary="One trial's record",
            description="The normalised record, by its id or any of its registry ids (NCT number, EudraCT "
                        "number, sponsor protocol number …).",
            responses=error_responses(404, 422))
def trial_record(trial_id: str, store: StoreDep) -> Trial:
    return trial_or_404(store, trial_id)


def trial_or_404(store: TrialStore, trial_id: str) -> Trial:
    """The stored trial with this id (any registry id), or the 404 error shape."""
    trial = store.get(trial_id) if trial_id.strip() else None
    if trial is None:
        raise ApiError(404, "trial_not_found", f"No trial with id {trial_id!r} in the store. Search for it with "
                       "GET /api/trials?q=… (any registry id or sponsor number works here once it is imported).")
    return trial


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "invalid_input", message, [{"field": field, "message": message}])


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def trial_summary(trial: Trial, nearest: NearestSite | None = None) -> TrialSummary:
    """A trial as a list shows it; ``nearest`` is the site to show (default: its first site)."""
    eligibility = trial.eligibility
    if nearest is None and trial.sites:
        first = trial.sites[0]
        nearest = NearestSite(first.facility, first.city, first.country, None)
    minimum = str(eligibility.minimum_age) if eligibility.minimum_age else None
    maximum = str(eligibility.maximum_age) if eligibility.maximum_age else None
    return TrialSummary(
        id=trial.id, title=trial.title, status=trial.overall_status.value if trial.overall_status else None,
        phases=[p.value for p in trial.phases], conditions=list(trial.conditions), minimum_age=minimum,
        maximum_age=maximum, age_range=_age_range(minimum, maximum), sex=eligibility.sex,
        nearest_site=SiteOut(facility=nearest.facility, city=nearest.city, country=nearest.country,
                             distance_km=nearest.distance_km) if nearest else None,
        url=f"/api/trials/{trial.id}")


def _age_range(minimum: str | None, maximum: str | None) -> str:
    if minimum and maximum:
        return f"{minimum} to {maximum}"
    if minimum:
        return f"{minimum} and older"
    return f"up to {maximum}" if maximum else "any age"


def _criterion_out(criterion: CompiledCriterion) -> CriterionOut:
    return CriterionOut(
        id=criterion.id, section=criterion.section, category=criterion.category, text=criterion.text,
        span=criterion.span, rule=criterion.rule.model_dump(mode="json"), description=describe(criterion.rule),
        question_id=question_id(criterion.question), question=criterion.question, confidence=criterion.confidence,
        computable=criterion.computable,
        notes=[RuleNote(kind=n.kind, text=n.text, span=n.span) for n in criterion.notes],
        children=[_criterion_out(child) for child in criterion.children])


def _planned_out(criterion: PlannedCriterion) -> CriterionOut:
    return CriterionOut(
        id=criterion.id, section=criterion.section, category=criterion.category, text=criterion.text,
        span=criterion.span, rule=criterion.rule.model_dump(mode="json"), description=criterion.description,
        question_id=criterion.question_id, question=criterion.question, confidence=criterion.confidence,
        computable=criterion.computable, structured=True)
