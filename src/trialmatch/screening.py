"""Screen one patient against the trial store: prefilter, judge every candidate, rank, pick the next question.

This is what ``trialmatch match`` and ``POST /api/match`` run. The store narrows the trials by status, age,
sex and disease (``store.candidates``); each candidate's plan (its structured limits and compiled
criteria, cached across patients) is judged criterion by criterion (``matching``); the results are ranked
and the question that could settle the most trials is chosen.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.next_question import RankedQuestion
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import PlanCache, TrialPlan
from trialmatch.matching.verdict_table import judge_table
from trialmatch.matching.verdicts import TrialMatch
from trialmatch.patients.facts import PatientFacts
from trialmatch.places import Place, distance_km
from trialmatch.plan_store import collector_paused, load_plans
from trialmatch.store.candidates import Candidate, candidates
from trialmatch.store.sqlite import TrialStore, site_location
from trialmatch.trials.record import Trial

#: Plans shared by every screening in this process (a server keeps them warm).
PLANS = PlanCache()


@dataclass
class ScreeningQuery:
    as_of: dt.date = field(default_factory=dt.date.today)
    #: Trial statuses to consider; "OPEN" = recruiting, not yet recruiting or enrolling by invitation.
    statuses: list[str] = field(default_factory=lambda: ["OPEN"])
    near: Place | None = None
    limit: int = 20
    include_not_eligible: bool = False
    #: Only these trials (by id), e.g. one trial's pre-screening.
    trial_ids: list[str] | None = None


@dataclass
class Screening:
    matches: list[TrialMatch]
    #: Trials the prefilter passed and the matcher judged.
    considered: int
    counts: dict[str, int]
    questions: list[RankedQuestion]

    @property
    def next_question(self) -> RankedQuestion | None:
        return self.questions[0] if self.questions else None


def patient_concepts(view: PatientView) -> frozenset[str]:
    """The patient's diagnoses with every broader concept: the trial conditions that could fit them."""
    concepts: set[str] = set()
    for tagged in view.conditions:
        if tagged.fact.present and (tagged.fact.status == "active" or "cancer" in tagged.concepts):
            concepts.update(tagged.concepts)
    return frozenset(concepts)


def _age_days(view: PatientView) -> tuple[float, float] | None:
    interval = view.birth_interval
    if interval is None:
        return None
    earliest, latest = interval
    return float((view.as_of - latest).days), float((view.as_of - earliest).days)


def plans_for(store: TrialStore, found: list[Candidate], cache: PlanCache | None = None) -> list[TrialPlan]:
    """Each candidate's plan: from the cache, ready-made from the store, or built from the record."""
    return load_plans(store, found, PLANS if cache is None else cache)


def screen(store: TrialStore, facts: PatientFacts, query: ScreeningQuery | None = None) -> Screening:
    """Ranked matches for ``facts`` and the questions that would settle the most of them."""
    with collector_paused():
        return _screen(store, facts, query or ScreeningQuery())


def _screen(store: TrialStore, facts: PatientFacts, query: ScreeningQuery) -> Screening:
    view = PatientView(facts, query.as_of)
    conditions = patient_concepts(view)
    found = candidates(store, statuses=query.statuses, age_days=_age_days(view), sex=facts.sex,
                       conditions=conditions or None, trial_ids=query.trial_ids)
    plans = plans_for(store, found)
    # Every candidate gets a verdict at once (``verdict_table``); only the trials shown get their explanation.
    table = judge_table(view, plans)
    shown = table.shown(query.include_not_eligible)
    nearest: dict[str, tuple[str, float]] = {}
    if query.near is not None:
        rowids = {c.id: c.rowid for c in found}
        nearest = nearest_sites(store, [rowids[plans[t].trial.id] for t in shown.tolist()], query.near)
    ranked = table.rank(shown, {trial_id: site[1] for trial_id, site in nearest.items()})
    matches = []
    for t in ranked[: query.limit].tolist():
        match = match_trial(view, plans[t])
        if (site := nearest.get(match.trial_id)) is not None:
            match = match.model_copy(update={"nearest_site": site[0], "distance_km": site[1]})
        matches.append(match)
    return Screening(matches, len(plans), table.counts(), table.questions(ranked))


def nearest_sites(store: TrialStore, rowids: list[int], near: Place) -> dict[str, tuple[str, float]]:
    """Each trial's site nearest to ``near`` (by trial id): its name and the distance in km.

    Read from the store's site rows, placed when the trial was saved (the record's own coordinates, else
    its city from the gazetteer), so only the trials shown are read, and only their sites.
    """
    best: dict[str, tuple[float, int, str]] = {}
    rows = store.db.execute(
        "SELECT t.id, s.position, s.facility, s.city, s.country, s.lat, s.lon FROM sites s "
        "JOIN trials t ON t.rowid = s.trial_rowid "
        "WHERE s.trial_rowid IN (SELECT value FROM json_each(?)) AND s.lat IS NOT NULL AND s.lon IS NOT NULL",
        (json.dumps(rowids),))
    for trial_id, position, facility, city, country, lat, lon in rows:
        distance = distance_km(near.lat, near.lon, lat, lon)
        if (held := best.get(trial_id)) is None or (distance, position) < held[:2]:
            best[trial_id] = (distance, position, ", ".join(p for p in (facility, city, country) if p))
    return {trial_id: (name, round(distance, 1)) for trial_id, (distance, _, name) in best.items()}


def nearest_site(trial: Trial, near: Place) -> tuple[str, float] | None:
    """The trial's site nearest to ``near``: its name and the distance in km."""
    located = [(distance_km(near.lat, near.lon, geo.lat, geo.lon), site)
               for site in trial.sites if (geo := site_location(site)) is not None]
    if not located:
        return None
    distance, site = min(located, key=lambda pair: pair[0])
    return ", ".join(p for p in (site.facility, site.city, site.country) if p), round(distance, 1)
