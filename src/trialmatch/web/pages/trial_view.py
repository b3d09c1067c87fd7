"""What the trial page shows, built from a stored trial and its compiled criteria.

The templates only lay this out: every sentence, label and ordering is decided here, so the page,
its print version and the tests read the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from trialmatch.criteria.compiler import CompiledCriteria, CompiledCriterion
from trialmatch.criteria.describe import describe
from trialmatch.criteria.questions import ask_text
from trialmatch.criteria.rules import Question, leaves
from trialmatch.places import KM_PER_MILE, Place, UnknownPlace, distance_km, parse_place
from trialmatch.store.similar import SimilarTrial, similar_trials
from trialmatch.store.sqlite import TrialStore, site_location
from trialmatch.trials.record import Contact, Site, Trial
from trialmatch.trials.summary import PlainSummary, age_range, phase_label, plain_summary, status_kind, status_label

#: Sites shown before "show all"; one trial in the demo store has 932.
SITES_SHOWN = 25
SIMILAR_SHOWN = 5


@dataclass(frozen=True)
class PlainCriterion:
    """One criterion for the "who can / cannot take part" lists."""

    id: str
    #: The criterion's plain question when the compiler could word one, else the trial's own text.
    words: str
    #: True when ``words`` is the trial's own text (the compiler could not word a plain question).
    as_written: bool


@dataclass(frozen=True)
class CriterionRow:
    """One compiled criterion beside its source text."""

    criterion: CompiledCriterion
    rule: str
    #: Needs a person's answer: the rule has a question in it, or was read with low confidence.
    is_question: bool
    #: "read" (facts can settle it), "partly read" (some of it, or unsure) or "unread" (asked as written).
    reading: str
    children: tuple[CriterionRow, ...] = ()


@dataclass(frozen=True)
class SiteRow:
    site: Site
    distance: str | None
    #: The site's place was looked up from its city, so the distance is to the city centre.
    approximate: bool
    contacts: tuple[Contact, ...]


@dataclass
class TrialView:
    trial: Trial
    summary: PlainSummary
    status: str
    status_kind: str
    phase: str
    ages: str
    sex: str
    who_can: list[PlainCriterion]
    who_cannot: list[PlainCriterion]
    criteria_rows: list[CriterionRow]
    compiled: CompiledCriteria | None
    sites: list[SiteRow]
    sites_total: int
    sites_all: bool
    near: str
    place: Place | None
    place_error: str | None
    similar: list[SimilarTrial]
    source: str
    registry_links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def computable_count(self) -> int:
        return sum(1 for row in self.criteria_rows if not row.is_question)


def build_trial_view(store: TrialStore, trial: Trial, near: str = "", all_sites: bool = False,
                     similar: bool = True) -> TrialView:
    compiled = store.compiled(trial.id)
    place, place_error = None, None
    near = near.strip()[:200]
    if near:
        try:
            place = parse_place(near)
        except UnknownPlace as error:
            place_error = str(error)[:1].upper() + str(error)[1:] + "."
    sites = _ordered_sites(trial, place)
    return TrialView(
        trial=trial,
        summary=plain_summary(trial),
        status=status_label(trial),
        status_kind=status_kind(trial),
        phase=phase_label(trial),
        ages=age_range(trial),
        sex={"ALL": "Any", "FEMALE": "Female only", "MALE": "Male only"}.get(trial.eligibility.sex or "", "Not stated"),
        who_can=[_plain(c) for c in compiled.inclusion()] if compiled else [],
        who_cannot=[_plain(c) for c in compiled.exclusion()] if compiled else [],
        criteria_rows=[_row(c) for c in compiled.criteria] if compiled else [],
        compiled=compiled,
        sites=sites if all_sites else sites[:SITES_SHOWN],
        sites_total=len(sites),
        sites_all=all_sites or len(sites) <= SITES_SHOWN,
        near=near,
        place=place,
        place_error=place_error,
        similar=similar_trials(store, trial, SIMILAR_SHOWN) if similar else [],
        source=_source(trial),
        registry_links=_registry_links(trial),
    )


def _plain(criterion: CompiledCriterion) -> PlainCriterion:
    as_written = criterion.question == ask_text(criterion.text) or not criterion.question
    words = " ".join(criterion.text.split()) if as_written else criterion.question
    return PlainCriterion(criterion.id, words, as_written)


def _row(criterion: CompiledCriterion) -> CriterionRow:
    if criterion.computable:
        reading = "read"
    elif all(isinstance(leaf, Question) for leaf in leaves(criterion.rule)):
        reading = "unread"
    else:
        reading = "partly read"
    return CriterionRow(criterion, describe(criterion.rule), not criterion.computable, reading,
                        tuple(_row(child) for child in criterion.children))


def _ordered_sites(trial: Trial, place: Place | None) -> list[SiteRow]:
    """The trial's sites, nearest first when a place is given (sites with no known place last)."""
    rows: list[tuple[float, int, SiteRow]] = []
    for position, site in enumerate(trial.sites):
        contacts = tuple(c for c in site.contacts if c.name or c.phone or c.email)
        if place is None:
            rows.append((0.0, position, SiteRow(site, None, False, contacts)))
            continue
        geo = site_location(site)
        if geo is None:
            rows.append((float("inf"), position, SiteRow(site, None, False, contacts)))
            continue
        km = distance_km(place.lat, place.lon, geo.lat, geo.lon)
        label = f"{km:,.0f} km ({km / KM_PER_MILE:,.0f} miles)"
        rows.append((km, position, SiteRow(site, label, geo.approximate, contacts)))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row for _, _, row in rows]


def _source(trial: Trial) -> str:
    """Where the record came from: a URL as is, a file by its name only (server paths are not for the page)."""
    location = trial.provenance.location
    if location.startswith(("http://", "https://")):
        return location
    archive, _, member = location.partition("!")
    return PurePosixPath(member or archive).name or location


def _registry_links(trial: Trial) -> list[tuple[str, str]]:
    """(label, URL) of the trial's public registry pages."""
    links = []
    for registry_id in trial.ids:
        if registry_id.type == "NCT":
            links.append((f"{registry_id.id} on ClinicalTrials.gov", f"https://clinicaltrials.gov/study/{registry_id.id}"))
        elif registry_id.type == "ISRCTN":
            number = registry_id.id.upper().removeprefix("ISRCTN")
            links.append((f"ISRCTN{number} on the ISRCTN registry", f"https://www.isrctn.com/ISRCTN{number}"))
    return links
