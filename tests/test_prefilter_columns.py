"""The prefilter's columns in memory pass exactly the trials the SQL prefilter passes, and follow changes."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from trialmatch.store.candidates import _AGE_SLACK_DAYS, candidates
from trialmatch.store.prefilter_columns import read_prefilter_columns
from trialmatch.store.search import expand_statuses
from trialmatch.store.sqlite import TrialStore

AGES = [None, (30.0, 31.0), (200.0, 570.0), (6 * 365.0, 6 * 365.0 + 1), (17 * 365.0, 18 * 365.0),
        (40 * 365.0, 40 * 365.0 + 1), (80 * 365.0, 81 * 365.0)]
CONDITIONS = [None, frozenset({"b_all", "all", "acute_leukemia", "leukemia", "hematologic_malignancy", "cancer"}),
              frozenset({"breast_cancer", "cancer"}), frozenset({"no_such_concept"})]


def test_columns_in_memory_select_what_sql_selects(demo_store_path: Path) -> None:
    with TrialStore(demo_store_path) as store:
        columns = read_prefilter_columns(store.db)
        assert len(columns.trials) == store.count()
        compared = 0
        for statuses, age, sex, conditions in itertools.product(
                [None, ["OPEN"], ["COMPLETED", "TERMINATED"]], AGES, [None, "female", "male"], CONDITIONS):
            fresh = TrialStore(demo_store_path)  # its first screening reads SQLite
            by_sql = candidates(fresh, statuses=statuses, age_days=age, sex=sex, conditions=conditions)
            fresh.close()
            in_memory = columns.select(statuses=expand_statuses(statuses) if statuses else None, age_days=age,
                                       sex=sex, conditions=conditions, age_slack_days=_AGE_SLACK_DAYS)
            assert in_memory == by_sql, (statuses, age, sex, conditions)
            compared += bool(by_sql)
        assert compared > 100  # most combinations pass some trials


def test_a_store_reads_its_columns_again_after_a_change(demo_store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "trials.db"
    shutil.copy(demo_store_path, path)
    leukaemia = frozenset({"leukemia", "cancer"})
    with TrialStore(path) as store, TrialStore(path) as other:
        first = candidates(store, statuses=["OPEN"], conditions=leukaemia)  # from SQLite
        assert candidates(store, statuses=["OPEN"], conditions=leukaemia) == first  # from memory now
        held = store.prefilter_columns.current(store.db)
        assert held is not None
        # Another connection closes a trial: the next screening must not see it as open.
        closed = first[0]
        other.db.execute("UPDATE trials SET overall_status = 'COMPLETED' WHERE rowid = ?", (closed.rowid,))
        after = candidates(store, statuses=["OPEN"], conditions=leukaemia)
        assert closed not in after and len(after) == len(first) - 1
        assert store.prefilter_columns.current(store.db) is not held
        # This connection's own change is seen too.
        store.db.execute("UPDATE trials SET overall_status = 'RECRUITING' WHERE rowid = ?", (closed.rowid,))
        assert candidates(store, statuses=["OPEN"], conditions=leukaemia) == first
