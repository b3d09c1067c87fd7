"""Trials' matching plans: from memory, else ready-made from the store, else built from the record.

Screening reads the plans of every candidate. A plan kept in the store (``matching.stored_plan``) loads
in a fraction of the time it takes to build one from the record, so importing stores each trial's plan,
``trialmatch compile`` refreshes the stale ones, and a plan that had to be built is written back for
the next process.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import compress
from operator import itemgetter, not_

from trialmatch.criteria.compiler import CompiledCriteria
from trialmatch.matching.stored_plan import decode_plan, encode_plan, plan_key
from trialmatch.matching.trial_plan import PlanCache, TrialPlan, build_plan
from trialmatch.store.candidates import Candidate
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import Trial


def load_plans(store: TrialStore, found: list[Candidate], cache: PlanCache) -> list[TrialPlan]:
    """Each candidate's plan, in the order found (trials deleted meanwhile are left out)."""
    # Looked up in C (a broad screening has tens of thousands of candidates, nearly all in the cache).
    plans = cache.get_many(list(map(_PLAN_KEY, found)))
    missing_at = list(compress(range(len(plans)), map(not_, plans)))
    if not missing_at:
        return plans  # type: ignore[return-value]  # no None left
    missing = [found[at] for at in missing_at]
    stored = store.stored_plans(c.rowid for c in missing)
    to_build: list[tuple[int, Candidate]] = []
    with collector_paused():
        for at, candidate in zip(missing_at, missing, strict=True):
            key, encoded = stored.pop(candidate.rowid, (None, b""))
            plan = None
            if key == plan_key(candidate.content_hash, candidate.criteria_key):
                try:
                    plan = decode_plan(encoded)
                except ValueError:  # damaged or foreign bytes: build it again from the record
                    plan = None
            if plan is None:
                to_build.append((at, candidate))
            else:
                cache.put(candidate[1:], plan)
                plans[at] = plan
    built = _build(store, [candidate for _, candidate in to_build])
    for at, candidate in to_build:
        if (plan := built.get(candidate.rowid)) is not None:
            cache.put(candidate[1:], plan)
            plans[at] = plan
    _write_back(store, [(c.rowid, plan_key(c.content_hash, c.criteria_key), encode_plan(built[c.rowid]))
                        for _, c in to_build if c.rowid in built])
    return [plan for plan in plans if plan is not None]


#: A candidate's plan-cache key: its id and the two hashes.
_PLAN_KEY = itemgetter(1, 2, 3)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: decoding and judging thousands of plans makes millions of small
    objects, none of them cyclic, and the collector would sweep the growing heap over and over (it took
    most of a cold screening's time). Reference counting still frees everything as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                # What was made meanwhile goes to the oldest generation unscanned: re-enabled with a young
                # generation of every surviving object (the whole result), the collector's first pass took
                # a fifth of a broad screening. Cycles among them are still found by the next full pass.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def refresh_plans(store: TrialStore, batch_size: int = 500) -> Iterator[int]:
    """Build and store the plans that are missing or stale; yields how many were stored, batch by batch."""
    stale = [Candidate(rowid, "", content_hash, criteria_key)
             for rowid, content_hash, criteria_key, key in store.plan_sources()
             if key != plan_key(content_hash, criteria_key)]
    for start in range(0, len(stale), batch_size):
        batch = stale[start : start + batch_size]
        built = _build(store, batch)
        store.save_plans((c.rowid, plan_key(c.content_hash, c.criteria_key), encode_plan(built[c.rowid]))
                         for c in batch if c.rowid in built)
        yield len(built)


def prepared_plan(trial: Trial, compiled_json: str | None, content_hash: str) -> tuple[str, bytes] | None:
    """The (key, encoded plan) to store with a trial being imported, from its compiled criteria JSON."""
    compiled = CompiledCriteria.model_validate_json(compiled_json) if compiled_json is not None else None
    criteria_key = f"{compiled.compiler_version}:{compiled.criteria_hash}" if compiled is not None else "-"
    return plan_key(content_hash, criteria_key), encode_plan(build_plan(trial, compiled))


def _build(store: TrialStore, found: list[Candidate]) -> dict[int, TrialPlan]:
    if not found:
        return {}
    rowids = [c.rowid for c in found]
    trials, compiled = store.get_many(rowids), store.compiled_many(rowids)
    return {rowid: build_plan(trial, compiled.get(rowid)) for rowid, trial in trials.items()}


def _write_back(store: TrialStore, rows: list[tuple[int, str, bytes]]) -> None:
    """Keep what was built for the next process; a store that can't be written now just stays as it was."""
    if not rows:
        return
    # Wait briefly at most: a screening must not stall behind an import that holds the write lock.
    timeout = store.db.execute("PRAGMA busy_timeout").fetchone()[0]
    store.db.execute("PRAGMA busy_timeout = 200")
    try:
        store.save_plans(rows)
    except sqlite3.OperationalError:  # read-only file, or another process is writing: not needed to answer
        pass
    finally:
        store.db.execute(f"PRAGMA busy_timeout = {int(timeout)}")
