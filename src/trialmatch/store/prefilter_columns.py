"""The prefilter's columns held in memory: status, age limits, sex and diseases of every trial, as arrays.

Reading the candidates of a broad screening from SQLite (16,000 of 100,000 trials for a cancer patient
of any status) took 40 ms of a 150 ms budget, nearly all of it making Python rows. A store keeps these
columns in memory after its second screening and filters them with numpy in a millisecond or two.

They are read again when the store changed: ``PRAGMA data_version`` moves when another connection commits,
and the connection's ``total_changes`` when this one writes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


class Candidate(NamedTuple):
    """A trial the prefilter passed; ``candidate[1:]`` (id and the two hashes) names its plan."""

    rowid: int
    id: str
    content_hash: str
    criteria_key: str


#: Every trial's plan name, beside the columns the prefilter tests.
_TRIALS = ("SELECT t.rowid, t.id, t.content_hash, "
           "coalesce(c.compiler_version || ':' || c.criteria_hash, '-'), t.overall_status, t.min_age_days, "
           "t.max_age_limit_days, t.sex "
           "FROM trials t LEFT JOIN compiled_criteria c INDEXED BY compiled_criteria_key ON c.rowid = t.rowid "
           "ORDER BY t.rowid")


@dataclass(frozen=True)
class PrefilterColumns:
    """The trials in rowid order, and their prefilter columns by position."""

    version: tuple[int, int]
    trials: list[Candidate]
    status: np.ndarray  # int16 code into ``statuses``; -1 for none
    statuses: dict[str, int]
    min_age_days: np.ndarray  # float64, -inf for none
    max_age_limit_days: np.ndarray  # float64, +inf for none
    sex: np.ndarray  # "ALL", "FEMALE", "MALE" or "" (none), as a numpy string array
    #: Positions of the trials filed under each condition concept.
    by_concept: dict[str, np.ndarray]

    def select(self, *, statuses: set[str] | None, age_days: tuple[float, float] | None, sex: str | None,
               conditions: frozenset[str] | None, age_slack_days: float) -> list[Candidate]:
        keep = np.ones(len(self.trials), bool)
        if statuses is not None:
            keep &= np.isin(self.status, [self.statuses[s] for s in statuses if s in self.statuses])
        if age_days is not None:
            keep &= self.min_age_days <= age_days[1] + age_slack_days
            keep &= (age_days[0] - age_slack_days) < self.max_age_limit_days
        if sex in ("female", "male"):
            keep &= np.isin(self.sex, ["", "ALL", sex.upper()])
        if conditions is not None:
            filed = np.zeros(len(self.trials), bool)
            for concept in conditions:
                positions = self.by_concept.get(concept)
                if positions is not None:
                    filed[positions] = True
            keep &= filed
        trials = self.trials
        return [trials[at] for at in np.flatnonzero(keep).tolist()]


def store_version(db: sqlite3.Connection) -> tuple[int, int]:
    """Moves whenever the store may have changed: another connection's commit, or this one's writes."""
    return db.execute("PRAGMA data_version").fetchone()[0], db.total_changes


def read_prefilter_columns(db: sqlite3.Connection) -> PrefilterColumns:
    version = store_version(db)
    cursor = db.cursor()
    cursor.row_factory = None
    rows = cursor.execute(_TRIALS).fetchall()
    trials = [Candidate(rowid, trial_id, content_hash, key) for rowid, trial_id, content_hash, key, *_ in rows]
    statuses: dict[str, int] = {}
    status = np.fromiter((-1 if row[4] is None else statuses.setdefault(row[4], len(statuses)) for row in rows),
                         np.int16, len(rows))
    min_age = np.fromiter((-np.inf if row[5] is None else row[5] for row in rows), np.float64, len(rows))
    max_age = np.fromiter((np.inf if row[6] is None else row[6] for row in rows), np.float64, len(rows))
    sex = np.array([row[7] or "" for row in rows], dtype="U6")
    position = {trial.rowid: at for at, trial in enumerate(trials)}
    filed: dict[str, list[int]] = {}
    for concept, trial_rowid in cursor.execute("SELECT concept, trial_rowid FROM trial_conditions"):
        if (at := position.get(trial_rowid)) is not None:
            filed.setdefault(concept, []).append(at)
    by_concept = {concept: np.array(positions, np.int64) for concept, positions in filed.items()}
    return PrefilterColumns(version, trials, status, statuses, min_age, max_age, sex, by_concept)


class PrefilterCache:
    """A store's prefilter columns in memory, from its second screening on (a single screening, as on the
    command line, reads its few candidates from SQLite rather than every trial's columns)."""

    def __init__(self) -> None:
        self._columns: PrefilterColumns | None = None
        self._asked = 0

    def current(self, db: sqlite3.Connection) -> PrefilterColumns | None:
        if self._columns is not None and self._columns.version == store_version(db):
            return self._columns
        self._asked += 1
        if self._asked < 2:
            return None
        self._columns = read_prefilter_columns(db)
        return self._columns
