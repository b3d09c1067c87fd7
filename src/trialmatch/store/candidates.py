"""The prefilter before matching: trials whose status, age limits, sex and diseases fit a patient.

Only the indexed columns are read, so a 100,000-trial store narrows to its candidates in milliseconds.
Every filter is loose on purpose: a trial it lets through is then judged criterion by criterion, while a
trial it drops is never seen, so it drops only what is certainly out.
"""

from __future__ import annotations

import json

from trialmatch.store.prefilter_columns import Candidate
from trialmatch.store.search import expand_statuses
from trialmatch.store.sqlite import TrialStore

#: Days of slack on each age bound, so day-counting conventions never drop a trial at its limit.
_AGE_SLACK_DAYS = 2


__all__ = ["Candidate", "candidates"]


def candidates(store: TrialStore, *, statuses: list[str] | None = None, age_days: tuple[float, float] | None = None,
               sex: str | None = None, conditions: frozenset[str] | None = None,
               trial_ids: list[str] | None = None) -> list[Candidate]:
    """Trials that may fit: ``age_days`` is the patient's (youngest, oldest) possible age in days;
    ``conditions`` the concept ids of the patient's diagnoses with their broader concepts."""
    if trial_ids is None and (columns := store.prefilter_columns.current(store.db)) is not None:
        return columns.select(statuses=expand_statuses(statuses) if statuses else None, age_days=age_days, sex=sex,
                              conditions=conditions or None, age_slack_days=_AGE_SLACK_DAYS)
    where: list[str] = []
    params: dict[str, object] = {}
    if statuses:
        where.append("t.overall_status IN (SELECT value FROM json_each(:statuses))")
        params["statuses"] = json.dumps(sorted(expand_statuses(statuses)))
    if age_days is not None:
        where.append("(t.min_age_days IS NULL OR t.min_age_days <= :oldest)")
        where.append("(t.max_age_limit_days IS NULL OR :youngest < t.max_age_limit_days)")
        params["youngest"] = age_days[0] - _AGE_SLACK_DAYS
        params["oldest"] = age_days[1] + _AGE_SLACK_DAYS
    if sex in ("female", "male"):
        where.append("(t.sex IS NULL OR t.sex IN ('ALL', :sex))")
        params["sex"] = sex.upper()
    if conditions:
        # With a status filter, the (few) trials of those statuses are read by index and tested against the
        # disease list ("+" keeps SQLite from driving the query by the much longer list instead).
        where.append(("+" if statuses else "") + "t.rowid IN (SELECT trial_rowid FROM trial_conditions "
                     "WHERE concept IN (SELECT value FROM json_each(:conditions)))")
        params["conditions"] = json.dumps(sorted(conditions))
    if trial_ids:
        where.append("t.id IN (SELECT value FROM json_each(:ids))")
        params["ids"] = json.dumps(trial_ids)
    # The compiled criteria's key is read from its covering index, never from the large compiled rows.
    sql = ("SELECT t.rowid, t.id, t.content_hash, "
           "coalesce(c.compiler_version || ':' || c.criteria_hash, '-') AS criteria_key "
           "FROM trials t LEFT JOIN compiled_criteria c INDEXED BY compiled_criteria_key ON c.rowid = t.rowid"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY t.rowid")
    cursor = store.db.cursor()
    cursor.row_factory = None  # plain tuples: a broad screening reads tens of thousands of rows
    return list(map(Candidate._make, cursor.execute(sql, params)))  # a tuple per row, made in C

