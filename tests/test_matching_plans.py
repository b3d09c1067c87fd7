"""Plans kept ready-made in the store must match exactly as plans built from the record.

- Encoding then decoding a plan gives back every criterion, rule, rule key and leaf key, for every trial of
  the demo corpus.
- Screening a patient gives the same verdicts, counts, questions and explanations whether the plans come
  from the store, are rebuilt from the records, or were stored under a stale key (then they are rebuilt
  and written back).
- The nearest site read from the store's site rows is the one read from the record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

import trialmatch.screening as screening
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.stored_plan import decode_plan, encode_plan, plan_key
from trialmatch.matching.trial_plan import PlanCache, build_plan
from trialmatch.patients.profile import profile_from_dict
from trialmatch.places import parse_place
from trialmatch.screening import ScreeningQuery, nearest_site, screen
from trialmatch.store.candidates import candidates
from trialmatch.store.sqlite import TrialStore

AS_OF = dt.date(2026, 6, 1)
PATIENTS = sorted((Path(__file__).parent / "fixtures" / "patients" / "all").glob("*.yaml"))[:6]


def _patients() -> list:
    return [profile_from_dict(yaml.safe_load(path.read_text("utf-8"))["profile"]) for path in PATIENTS]


def _leaf_keys(plan) -> list[list[str | None]]:
    from trialmatch.criteria.rules import leaves

    return [[plan.leaf_keys.get(id(leaf)) for leaf in leaves(c.rule)] for c in plan.criteria]


def _fields(criterion) -> tuple:
    return tuple(getattr(criterion, f.name) for f in dataclasses.fields(criterion))


def test_a_decoded_plan_is_the_plan_that_was_encoded(demo_store: TrialStore) -> None:
    found = candidates(demo_store)
    assert len(found) > 350
    trials, compiled = demo_store.get_many(c.rowid for c in found), demo_store.compiled_many(c.rowid for c in found)
    view = PatientView(_patients()[0], AS_OF)
    for candidate in found:
        built = build_plan(trials[candidate.rowid], compiled.get(candidate.rowid))
        decoded = decode_plan(encode_plan(built))
        assert decoded.trial == built.trial
        assert decoded.context == built.context
        assert decoded.uncompiled == built.uncompiled
        assert [_fields(c) for c in decoded.criteria] == [_fields(c) for c in built.criteria], candidate.id
        assert _leaf_keys(decoded) == _leaf_keys(built), candidate.id  # after reading every rule above
        assert match_trial(view, decoded) == match_trial(view, built), candidate.id


def test_importing_stores_a_current_plan_for_every_trial(demo_store: TrialStore) -> None:
    found = candidates(demo_store)
    stored = demo_store.stored_plans(c.rowid for c in found)
    assert set(stored) == {c.rowid for c in found}
    for candidate in found:
        assert stored[candidate.rowid][0] == plan_key(candidate.content_hash, candidate.criteria_key)


def _screenings(store: TrialStore, patients: list, statuses: list[str]) -> list:
    screening.PLANS = PlanCache()  # a fresh process: nothing in memory
    results = []
    for facts in patients:
        result = screen(store, facts, ScreeningQuery(as_of=AS_OF, statuses=statuses, include_not_eligible=True,
                                                     limit=1000))
        results.append((result.counts, result.considered, [m.model_dump() for m in result.matches],
                        [(q.question_id, q.trials, round(q.score, 6)) for q in result.questions]))
    return results


def test_stored_rebuilt_and_stale_plans_screen_alike(demo_store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.db"
    shutil.copy(demo_store_path, path)
    patients = _patients()
    with TrialStore(path) as store:
        from_store = _screenings(store, patients, [])
        assert any(counts["not_eligible"] and counts["possibly_eligible"] for counts, *_ in from_store)
        store.db.execute("DELETE FROM match_plans")
        rebuilt = _screenings(store, patients, [])
        assert rebuilt == from_store
        # Plans that had to be built are written back, under their current key.
        assert store.db.execute("SELECT count(*) FROM match_plans").fetchone()[0] > 0
        store.db.execute("UPDATE match_plans SET plan_key = 'p0-c0-old:' || plan_key")
        assert _screenings(store, patients, []) == from_store
        assert store.db.execute("SELECT count(*) FROM match_plans WHERE plan_key LIKE 'p0-c0-old:%'").fetchone()[0] == 0
        store.db.execute("UPDATE match_plans SET plan = x'00'")  # damaged bytes: rebuilt, never trusted
        assert _screenings(store, patients, []) == from_store


def test_the_nearest_site_from_the_store_is_the_records(demo_store: TrialStore) -> None:
    near = parse_place("London, UK")
    facts = _patients()[0]
    screening.PLANS = PlanCache()
    result = screen(demo_store, facts, ScreeningQuery(as_of=AS_OF, statuses=[], near=near, limit=200,
                                                      include_not_eligible=True))
    assert sum(m.nearest_site is not None for m in result.matches) >= 2  # most demo trials list no geocoded site
    for match in result.matches:
        trial = demo_store.get(match.trial_id)
        assert trial is not None
        expected = nearest_site(trial, near)
        assert (match.nearest_site, match.distance_km) == (expected or (None, None)), match.trial_id


@pytest.mark.parametrize("statuses", [["OPEN"], []])
def test_screening_agrees_with_matching_each_trial_from_its_record(demo_store: TrialStore, statuses) -> None:
    facts = _patients()[1]
    screening.PLANS = PlanCache()
    result = screen(demo_store, facts, ScreeningQuery(as_of=AS_OF, statuses=statuses, limit=30))
    assert result.matches
    view = PatientView(facts, AS_OF)
    for match in result.matches:
        trial = demo_store.get(match.trial_id)
        assert trial is not None
        expected = match_trial(view, build_plan(trial, demo_store.compiled(trial.id)))
        assert match == expected


def test_a_stored_plan_keeps_every_field_of_a_criterion() -> None:
    from trialmatch.matching.stored_plan import _FIELDS
    from trialmatch.matching.trial_plan import PlannedCriterion

    # A field left out would silently read as its class default from every stored plan.
    assert {*_FIELDS, "rule"} == {f.name for f in dataclasses.fields(PlannedCriterion)}
