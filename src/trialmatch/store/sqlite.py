"""The trial store: one SQLite file with the records, their sites, their history and an FTS5 index.

Each trial is kept whole as JSON (readable with any SQLite tool) beside the columns that
search filters on. Importing the same record again changes nothing; a different version
replaces the stored one and the fields that changed are written to ``trial_changes``,
which alerts will read.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from pathlib import Path

from trialmatch.criteria.compiler import COMPILER_VERSION, CompiledCriteria
from trialmatch.places import country_code, locate_city
from trialmatch.store.compiling import compile_trial_criteria, compiled_records, default_workers
from trialmatch.store.index_text import index_columns
from trialmatch.store.prefilter_columns import PrefilterCache
from trialmatch.trials.errors import RecordError
from trialmatch.trials.record import AgeLimit, GeoPoint, Site, Trial, content_digest
from trialmatch.trials.topics import condition_concepts

DB_PATH_ENV = "TRIALMATCH_DB"
#: Longest text a single field may hold; real criteria are well under 100 kB.
MAX_FIELD_CHARS = 1_000_000
SCHEMA_VERSION = 1

#: Fields whose changes are recorded, and how to read them from a record's JSON.
TRACKED_FIELDS: dict[str, tuple[str, ...]] = {
    "overall_status": ("overall_status",),
    "criteria": ("eligibility", "criteria_text"),
    "minimum_age": ("eligibility", "minimum_age"),
    "maximum_age": ("eligibility", "maximum_age"),
    "sites": ("sites",),
    "start_date": ("start_date",),
    "primary_completion_date": ("primary_completion_date",),
    "completion_date": ("completion_date",),
    "last_update_posted": ("last_update_posted",),
    "phases": ("phases",),
    "enrollment": ("enrollment",),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    title TEXT,
    overall_status TEXT,
    phases TEXT NOT NULL DEFAULT '',
    study_type TEXT,
    min_age_days REAL,
    -- Exclusive upper bound: "17 Years" admits anyone not yet 18.
    max_age_limit_days REAL,
    sex TEXT,
    last_update TEXT,
    -- The box around all the trial's sites: a distance search skips trials whose box is out of range.
    site_min_lat REAL,
    site_max_lat REAL,
    site_min_lon REAL,
    site_max_lon REAL,
    source TEXT NOT NULL,
    source_location TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_status ON trials(overall_status);
-- Records live apart from the filter columns, so filtering never reads through large JSON.
CREATE TABLE IF NOT EXISTS trial_records (
    rowid INTEGER PRIMARY KEY REFERENCES trials(rowid) ON DELETE CASCADE,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trials_last_update ON trials(last_update);
CREATE TABLE IF NOT EXISTS registry_ids (
    registry_id TEXT NOT NULL COLLATE NOCASE,
    type TEXT NOT NULL,
    trial_rowid INTEGER NOT NULL REFERENCES trials(rowid) ON DELETE CASCADE,
    PRIMARY KEY (registry_id, trial_rowid)
);
CREATE TABLE IF NOT EXISTS sites (
    trial_rowid INTEGER NOT NULL REFERENCES trials(rowid) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    facility TEXT,
    city TEXT,
    country TEXT,
    country_code TEXT,
    status TEXT,
    lat REAL,
    lon REAL,
    PRIMARY KEY (trial_rowid, position)
);
CREATE INDEX IF NOT EXISTS sites_country ON sites(country_code, trial_rowid);
CREATE TABLE IF NOT EXISTS trial_changes (
    id INTEGER PRIMARY KEY,
    trial_id TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    source_location TEXT
);
CREATE INDEX IF NOT EXISTS trial_changes_trial ON trial_changes(trial_id, changed_at);
CREATE VIRTUAL TABLE IF NOT EXISTS trials_fts USING fts5(
    title, conditions, keywords, interventions, summary, criteria, concepts,
    tokenize = "porter unicode61 remove_diacritics 2 tokenchars '_'"
);
CREATE TABLE IF NOT EXISTS store_info (key TEXT PRIMARY KEY, value TEXT);
-- Compiled eligibility rules, rebuilt when the criteria or the compiler version change.
CREATE TABLE IF NOT EXISTS compiled_criteria (
    rowid INTEGER PRIMARY KEY REFERENCES trials(rowid) ON DELETE CASCADE,
    compiler_version TEXT NOT NULL,
    criteria_hash TEXT NOT NULL,
    compiled TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS compiled_criteria_version ON compiled_criteria(compiler_version);
-- The diseases each trial studies (vocabulary concepts, without broader ones), for matching's prefilter.
CREATE TABLE IF NOT EXISTS trial_conditions (
    concept TEXT NOT NULL,
    trial_rowid INTEGER NOT NULL REFERENCES trials(rowid) ON DELETE CASCADE,
    PRIMARY KEY (concept, trial_rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trial_conditions_trial ON trial_conditions(trial_rowid);
-- Which compiled criteria a trial has, readable without touching the (large) compiled JSON.
CREATE INDEX IF NOT EXISTS compiled_criteria_key ON compiled_criteria(rowid, compiler_version, criteria_hash);
-- Each trial's matching plan, ready-made (matching.stored_plan); plan_key says what it was built from.
CREATE TABLE IF NOT EXISTS match_plans (
    rowid INTEGER PRIMARY KEY REFERENCES trials(rowid) ON DELETE CASCADE,
    plan_key TEXT NOT NULL,
    plan BLOB NOT NULL
);
"""


class ImportOutcome(StrEnum):
    IMPORTED = "imported"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class SaveResult:
    outcome: ImportOutcome
    trial_id: str
    changed_fields: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class TrialChange:
    trial_id: str
    changed_at: str
    field: str
    old_value: object
    new_value: object
    source_location: str | None


def default_db_path() -> Path:
    """$TRIALMATCH_DB, else trialmatch.db in the user's data folder."""
    if env := os.environ.get(DB_PATH_ENV):
        return Path(env)
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "trialmatch" / "trialmatch.db"


class TrialStore:
    """Trials in one SQLite file. Use as a context manager, or call ``close()``."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        #: The prefilter's columns in memory, for a store that screens many patients (a server).
        self.prefilter_columns = PrefilterCache()
        _ensure_math_functions(self.db)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA cache_size = -65536")  # 64 MB: bulk imports rewrite FTS pages often
        is_new = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'trials'").fetchone() is None
        self.db.executescript(_SCHEMA)
        if is_new:
            # Buffer more index changes in memory before writing a segment: fewer merges on bulk imports.
            self.db.execute("INSERT INTO trials_fts(trials_fts, rank) VALUES ('hashsize', 16777216)")
        self.db.execute(
            "INSERT OR IGNORE INTO store_info(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        self._index_conditions_once()

    def _index_conditions_once(self) -> None:
        """Fill ``trial_conditions`` for a store made before it existed."""
        done = self.db.execute("SELECT value FROM store_info WHERE key = 'trial_conditions'").fetchone()
        if done is not None:
            return
        with self.transaction():
            for rowid, record in self.db.execute("SELECT rowid, record FROM trial_records").fetchall():
                trial = Trial.model_validate_json(record)
                self.db.executemany("INSERT OR IGNORE INTO trial_conditions (concept, trial_rowid) VALUES (?, ?)",
                                    [(c, rowid) for c in sorted(condition_concepts(trial))])
            self.db.execute("INSERT OR REPLACE INTO store_info(key, value) VALUES ('trial_conditions', '1')")

    def __enter__(self) -> TrialStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # --- reading -------------------------------------------------------------------------

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM trials").fetchone()[0]

    def get(self, trial_id: str) -> Trial | None:
        """A trial by its id or by any of its registry ids (NCT, sponsor number, EudraCT …)."""
        row = self.db.execute(
            "SELECT r.record FROM trials t JOIN trial_records r ON r.rowid = t.rowid WHERE t.id = ? COLLATE NOCASE",
            (trial_id,),
        ).fetchone()
        if row is None:
            row = self.db.execute(
                "SELECT t.record FROM registry_ids r JOIN trial_records t ON t.rowid = r.trial_rowid "
                "WHERE r.registry_id = ? ORDER BY t.rowid LIMIT 1",
                (trial_id.strip(),),
            ).fetchone()
        return Trial.model_validate_json(row["record"]) if row else None

    def get_many(self, rowids: Iterable[int], *, sites: bool = True) -> dict[int, Trial]:
        """Trials by rowid. ``sites=False``: without their site lists (a list of results shows one site, read
        from the ``sites`` table; validating a record with a thousand sites costs milliseconds)."""
        wanted = list(rowids)
        if not wanted:
            return {}
        record = "record" if sites else "json_set(record, '$.sites', json('[]'))"
        rows = self.db.execute(
            f"SELECT rowid, {record} AS record FROM trial_records WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        )
        return {row["rowid"]: Trial.model_validate_json(row["record"]) for row in rows}

    def compiled(self, trial_id: str) -> CompiledCriteria | None:
        """The stored compiled criteria of a trial (by any registry id), or None if it has none yet."""
        row = self.db.execute(
            "SELECT c.compiled FROM compiled_criteria c JOIN trials t ON t.rowid = c.rowid "
            "WHERE t.id = ? COLLATE NOCASE",
            (trial_id,),
        ).fetchone()
        if row is None:
            row = self.db.execute(
                "SELECT c.compiled FROM registry_ids r JOIN compiled_criteria c ON c.rowid = r.trial_rowid "
                "WHERE r.registry_id = ? ORDER BY c.rowid LIMIT 1",
                (trial_id.strip(),),
            ).fetchone()
        return CompiledCriteria.model_validate_json(row["compiled"]) if row else None

    def compiled_many(self, rowids: Iterable[int]) -> dict[int, CompiledCriteria]:
        wanted = list(rowids)
        rows = self.db.execute(
            "SELECT rowid, compiled FROM compiled_criteria WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        )
        return {row["rowid"]: CompiledCriteria.model_validate_json(row["compiled"]) for row in rows}

    def stored_plans(self, rowids: Iterable[int]) -> dict[int, tuple[str, bytes]]:
        """The stored matching plans of these trials with their keys (see ``matching.stored_plan``)."""
        rows = self.db.execute(
            "SELECT rowid, plan_key, plan FROM match_plans WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(list(rowids)),),
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def save_plans(self, plans: Iterable[tuple[int, str, bytes]]) -> None:
        """Store (rowid, plan key, encoded plan) rows, replacing older plans of the same trials."""
        with self.transaction():
            self.db.executemany("INSERT OR REPLACE INTO match_plans (rowid, plan_key, plan) VALUES (?, ?, ?)",
                                plans)

    def plan_sources(self) -> Iterator[tuple[int, str, str, str | None]]:
        """Every trial's rowid, content hash, compiled-criteria key and stored plan key (None if it has none)."""
        yield from self.db.execute(
            "SELECT t.rowid, t.content_hash, coalesce(c.compiler_version || ':' || c.criteria_hash, '-'), "
            "p.plan_key FROM trials t LEFT JOIN compiled_criteria c ON c.rowid = t.rowid "
            "LEFT JOIN match_plans p ON p.rowid = t.rowid ORDER BY t.rowid"
        )

    def stale_compiled(self) -> int:
        """How many trials have no compiled criteria, or criteria from another compiler version."""
        return self.db.execute(
            "SELECT count(*) FROM trials t LEFT JOIN compiled_criteria c ON c.rowid = t.rowid "
            "WHERE c.rowid IS NULL OR c.compiler_version != ?",
            (COMPILER_VERSION,),
        ).fetchone()[0]

    def recompile_one(self, trial_id: str) -> Iterator[str]:
        """Compile one trial's criteria now (yields its id once saved)."""
        row = self.db.execute(
            "SELECT t.rowid, r.record FROM trials t JOIN trial_records r ON r.rowid = t.rowid WHERE t.id = ?",
            (trial_id,),
        ).fetchone()
        if row is not None:
            with self.transaction():
                self._save_compiled(row["rowid"], compile_trial_criteria(Trial.model_validate_json(row["record"])))
            yield trial_id

    def recompile(self, *, everything: bool = False, batch_size: int = 500, workers: int | None = None
                  ) -> Iterator[str]:
        """Compile the criteria of stale trials (or of ``everything``); yields each trial id as it is saved.

        ``workers`` processes compile (default: one per CPU when there are many trials, else none)."""
        query = "SELECT t.rowid, r.record FROM trials t JOIN trial_records r ON r.rowid = t.rowid"
        if not everything:
            query += (" LEFT JOIN compiled_criteria c ON c.rowid = t.rowid"
                      " WHERE c.rowid IS NULL OR c.compiler_version != ?")
        rows = self.db.execute(query, () if everything else (COMPILER_VERSION,)).fetchall()
        compiled = compiled_records(((row["rowid"], row["record"]) for row in rows),
                                    default_workers(len(rows)) if workers is None else workers)
        while batch := list(islice(compiled, batch_size)):
            with self.transaction():
                for rowid, _, criteria in batch:
                    self._save_compiled(rowid, criteria)
            yield from (trial_id for _, trial_id, _ in batch)

    def iter_trials(self) -> Iterator[Trial]:
        for row in self.db.execute(
            "SELECT r.record FROM trials t JOIN trial_records r ON r.rowid = t.rowid ORDER BY t.id"
        ):
            yield Trial.model_validate_json(row["record"])

    def changes(self, trial_id: str | None = None, since: str | None = None) -> list[TrialChange]:
        sql = "SELECT * FROM trial_changes WHERE 1 = 1"
        params: list[str] = []
        if trial_id:
            sql += " AND trial_id = ?"
            params.append(trial_id)
        if since:
            sql += " AND changed_at >= ?"
            params.append(since)
        rows = self.db.execute(sql + " ORDER BY id", params)
        return [
            TrialChange(
                row["trial_id"],
                row["changed_at"],
                row["field"],
                json.loads(row["old_value"]) if row["old_value"] else None,
                json.loads(row["new_value"]) if row["new_value"] else None,
                row["source_location"],
            )
            for row in rows
        ]

    def newest_update(self, source: str | None = None) -> str | None:
        """The latest source last-update date held, for incremental sync."""
        sql, params = "SELECT max(last_update) FROM trials", ()
        if source:
            sql, params = sql + " WHERE source = ?", (source,)
        return self.db.execute(sql, params).fetchone()[0]

    # --- writing -------------------------------------------------------------------------

    def save(self, trial: Trial) -> SaveResult:
        """Insert or update one trial, atomically."""
        with self.transaction():
            return self.save_prepared(prepare_trial(trial))

    def save_many(self, trials: Iterable[Trial | PreparedTrial], batch_size: int = 2000) -> Iterator[SaveResult]:
        """Save a stream of trials, committing every ``batch_size`` so memory stays flat."""
        batch = 0
        # Checkpoint the write-ahead log less often during a bulk save: pages rewritten many times are copied once.
        self.db.execute("PRAGMA wal_autocheckpoint = 10000")
        self.db.execute("BEGIN")
        try:
            for trial in trials:
                self.db.execute("SAVEPOINT one_trial")
                try:
                    result = self.save_prepared(trial if isinstance(trial, PreparedTrial) else prepare_trial(trial))
                except RecordError as error:
                    result = SaveResult(ImportOutcome.SKIPPED, trial.id, reason=str(error))
                except sqlite3.Error as error:
                    self.db.execute("ROLLBACK TO one_trial")
                    result = SaveResult(ImportOutcome.SKIPPED, trial.id, reason=f"store error: {error}")
                self.db.execute("RELEASE one_trial")
                yield result
                batch += 1
                if batch >= batch_size:
                    self.db.execute("COMMIT")
                    self.db.execute("BEGIN")
                    batch = 0
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        finally:
            self.db.execute("PRAGMA wal_autocheckpoint = 1000")

    def transaction(self) -> _Transaction:
        return _Transaction(self.db)

    def save_prepared(self, prepared: PreparedTrial) -> SaveResult:
        """Save a trial already prepared with ``prepare_trial`` (which may run in another process)."""
        existing = self.db.execute(
            "SELECT t.rowid, r.record, t.content_hash, t.last_update FROM trials t "
            "JOIN trial_records r ON r.rowid = t.rowid WHERE t.id = ?",
            (prepared.id,),
        ).fetchone()
        sites = [_located(site) for site in prepared.sites]
        columns = {**prepared.columns, **_site_box(sites)}
        if existing is None:
            cursor = self.db.execute(_INSERT_TRIAL, columns)
            rowid = int(cursor.lastrowid or 0)
            self.db.execute("INSERT INTO trial_records (rowid, record) VALUES (?, ?)", (rowid, prepared.record))
            self._index(rowid, prepared, sites)
            self._save_compiled(rowid, prepared.compiled)
            self._save_plan(rowid, prepared.plan)
            return SaveResult(ImportOutcome.IMPORTED, prepared.id)
        if existing["content_hash"] == prepared.columns["content_hash"]:
            self._save_compiled(existing["rowid"], prepared.compiled, only_if_stale=True)
            return SaveResult(ImportOutcome.UNCHANGED, prepared.id)
        new_update = prepared.columns["last_update"]
        if existing["last_update"] and new_update and new_update < existing["last_update"]:  # type: ignore[operator]
            return SaveResult(
                ImportOutcome.SKIPPED,
                prepared.id,
                reason=f"older than the stored version (updated {new_update}, stored {existing['last_update']})",
            )
        changed = self._record_changes(prepared, json.loads(existing["record"]))
        rowid = existing["rowid"]
        self.db.execute("DELETE FROM trials_fts WHERE rowid = ?", (rowid,))
        self.db.execute("DELETE FROM sites WHERE trial_rowid = ?", (rowid,))
        self.db.execute("DELETE FROM registry_ids WHERE trial_rowid = ?", (rowid,))
        self.db.execute("DELETE FROM trial_conditions WHERE trial_rowid = ?", (rowid,))
        self.db.execute(_UPDATE_TRIAL, {**columns, "rowid": rowid})
        self.db.execute("UPDATE trial_records SET record = ? WHERE rowid = ?", (prepared.record, rowid))
        self._index(rowid, prepared, sites)
        self._save_compiled(rowid, prepared.compiled)
        self._save_plan(rowid, prepared.plan)
        return SaveResult(ImportOutcome.UPDATED, prepared.id, changed_fields=tuple(changed))

    def _save_compiled(self, rowid: int, compiled: str | None, only_if_stale: bool = False) -> None:
        if compiled is None:  # the compiler failed on this text: `trialmatch compile` will retry it
            self.db.execute("DELETE FROM compiled_criteria WHERE rowid = ?", (rowid,))
            return
        if only_if_stale and self.db.execute(
            "SELECT 1 FROM compiled_criteria WHERE rowid = ? AND compiler_version = ?", (rowid, COMPILER_VERSION)
        ).fetchone():
            return
        parsed = json.loads(compiled)
        self.db.execute(
            "INSERT OR REPLACE INTO compiled_criteria (rowid, compiler_version, criteria_hash, compiled) "
            "VALUES (?, ?, ?, ?)",
            (rowid, parsed["compiler_version"], parsed["criteria_hash"], compiled),
        )

    def _save_plan(self, rowid: int, plan: tuple[str, bytes] | None) -> None:
        if plan is None:  # an older plan's key no longer fits the record: matching rebuilds it
            return
        self.db.execute("INSERT OR REPLACE INTO match_plans (rowid, plan_key, plan) VALUES (?, ?, ?)", (rowid, *plan))

    def _index(self, rowid: int, prepared: PreparedTrial, sites: list[tuple[object, ...]]) -> None:
        self.db.execute(
            "INSERT INTO trials_fts (rowid, title, conditions, keywords, interventions, summary, criteria, concepts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rowid, *prepared.fts),
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO registry_ids (registry_id, type, trial_rowid) VALUES (?, ?, ?)",
            [(registry_id, kind, rowid) for registry_id, kind in prepared.registry_ids],
        )
        self.db.executemany(
            "INSERT INTO sites (trial_rowid, position, facility, city, country, country_code, status, lat, lon) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(rowid, *site) for site in sites],
        )
        self.db.executemany(
            "INSERT OR IGNORE INTO trial_conditions (concept, trial_rowid) VALUES (?, ?)",
            [(concept, rowid) for concept in prepared.conditions],
        )

    def _record_changes(self, prepared: PreparedTrial, old: dict) -> list[str]:
        new = json.loads(prepared.record)
        changed: list[str] = []
        for field, path in TRACKED_FIELDS.items():
            before, after = _dig(old, path), _dig(new, path)
            if field == "sites":
                before, after = _site_summary(before), _site_summary(after)
            if before != after:
                changed.append(field)
                self.db.execute(
                    "INSERT INTO trial_changes (trial_id, changed_at, field, old_value, new_value, source_location) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        prepared.id,
                        prepared.columns["imported_at"],
                        field,
                        json.dumps(before, ensure_ascii=False) if before is not None else None,
                        json.dumps(after, ensure_ascii=False) if after is not None else None,
                        prepared.columns["source_location"],
                    ),
                )
        return changed


@dataclass(frozen=True)
class PreparedTrial:
    """Everything the store writes for one trial, computed ahead of the database work.

    Plain strings and tuples, so it can be made in a worker process and sent back cheaply.
    """

    id: str
    record: str
    columns: dict[str, object]
    fts: tuple[str, ...]
    registry_ids: tuple[tuple[str, str], ...]
    sites: tuple[tuple[object, ...], ...]
    #: The compiled criteria as JSON; None if the compiler failed (the trial is still saved).
    compiled: str | None = None
    #: The diseases the trial studies (``trials.topics.condition_concepts``).
    conditions: tuple[str, ...] = ()
    #: The trial's matching plan, ready-made: (plan key, encoded plan), if the importer made one.
    plan: tuple[str, bytes] | None = None


def prepare_trial(trial: Trial) -> PreparedTrial:
    """The rows a trial becomes: its record, filter columns, index text, ids and sites."""
    eligibility = trial.eligibility
    content = trial.content_json()
    if len(content) > MAX_FIELD_CHARS and (oversized := _oversized_field(trial)):
        raise RecordError(oversized)
    # The record is the content plus its provenance; the hash covers the content only.
    record = f'{content[:-1]},"provenance":{trial.provenance.model_dump_json(exclude_none=True)}}}'
    columns: dict[str, object] = {
        "id": trial.id,
        "content_hash": content_digest(content),
        "title": trial.title,
        "overall_status": trial.overall_status.value if trial.overall_status else None,
        "phases": " ".join(p.value for p in trial.phases),
        "study_type": trial.study_type.value if trial.study_type else None,
        "min_age_days": eligibility.minimum_age.in_days() if eligibility.minimum_age else None,
        "max_age_limit_days": _age_limit_days(eligibility.maximum_age),
        "sex": eligibility.sex,
        "last_update": trial.provenance.source_last_update or trial.last_update_posted,
        "source": trial.provenance.source,
        "source_location": trial.provenance.location,
        "imported_at": trial.provenance.imported_at,
    }
    # Sites without coordinates are placed from the gazetteer when saved (see _located), so
    # converter processes don't each load it.
    sites = [
        (
            position,
            site.facility,
            site.city,
            site.country,
            country_code(site.country),
            site.status,
            site.geo.lat if site.geo else None,
            site.geo.lon if site.geo else None,
        )
        for position, site in enumerate(trial.sites)
    ]
    registry_ids = (*((rid.id, rid.type) for rid in trial.ids), (trial.id, "PRIMARY"))
    return PreparedTrial(trial.id, record, columns, index_columns(trial), registry_ids, tuple(sites),
                         compile_trial_criteria(trial), tuple(sorted(condition_concepts(trial))))


def _oversized_field(trial: Trial) -> str | None:
    def walk(value: object, path: str) -> str | None:
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            return f"{path} is {len(value):,} characters, over the {MAX_FIELD_CHARS:,} limit for one field"
        if isinstance(value, dict):
            for key, item in value.items():
                if found := walk(item, f"{path}.{key}" if path else key):
                    return found
        if isinstance(value, list):
            for index, item in enumerate(value):
                if found := walk(item, f"{path}[{index}]"):
                    return found
        return None

    return walk(trial.model_dump(), "")


def _located(row: tuple[object, ...]) -> tuple[object, ...]:
    """A site row with coordinates from the gazetteer when the source gave none."""
    position, facility, city, country, code, status, lat, lon = row
    if lat is None and isinstance(city, str) and city:
        place = locate_city(city, country if isinstance(country, str) else None)
        if place is not None:
            lat, lon = place.lat, place.lon
    return position, facility, city, country, code, status, lat, lon


def _site_box(sites: list[tuple[object, ...]]) -> dict[str, float | None]:
    lats = [site[6] for site in sites if isinstance(site[6], float | int)]
    lons = [site[7] for site in sites if isinstance(site[7], float | int)]
    return {
        "site_min_lat": min(lats, default=None),
        "site_max_lat": max(lats, default=None),
        "site_min_lon": min(lons, default=None),
        "site_max_lon": max(lons, default=None),
    }


def site_location(site: Site) -> GeoPoint | None:
    """Where a site is: its own geo point, else its city from the gazetteer (approximate)."""
    if site.geo is not None:
        return site.geo
    place = locate_city(site.city, site.country) if site.city else None
    return GeoPoint(lat=place.lat, lon=place.lon, approximate=True) if place else None


_COLUMN_NAMES = (
    "id",
    "content_hash",
    "title",
    "overall_status",
    "phases",
    "study_type",
    "min_age_days",
    "max_age_limit_days",
    "sex",
    "last_update",
    "source",
    "source_location",
    "imported_at",
    "site_min_lat",
    "site_max_lat",
    "site_min_lon",
    "site_max_lon",
)
_INSERT_TRIAL = (
    f"INSERT INTO trials ({', '.join(_COLUMN_NAMES)}) VALUES ({', '.join(':' + name for name in _COLUMN_NAMES)})"
)
_UPDATE_TRIAL = f"UPDATE trials SET {', '.join(f'{n} = :{n}' for n in _COLUMN_NAMES)} WHERE rowid = :rowid"


def _ensure_math_functions(db: sqlite3.Connection) -> None:
    """Distance search uses SQLite's math functions; add them where SQLite was built without."""
    try:
        db.execute("SELECT sin(0), asin(0), radians(0), power(2, 2)")
    except sqlite3.OperationalError:
        for name, arity, function in (
            ("sin", 1, math.sin),
            ("cos", 1, math.cos),
            ("asin", 1, math.asin),
            ("sqrt", 1, math.sqrt),
            ("radians", 1, math.radians),
            ("power", 2, math.pow),
        ):
            db.create_function(name, arity, function, deterministic=True)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def _dig(record: dict, path: tuple[str, ...]) -> object:
    value: object = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _site_summary(sites: object) -> list[dict] | None:
    """Sites compared by what a patient cares about: where they are and whether they recruit."""
    if not isinstance(sites, list):
        return None
    keys = ("facility", "city", "country", "status")
    return sorted(({k: s.get(k) for k in keys if s.get(k)} for s in sites), key=lambda s: json.dumps(s))


def _age_limit_days(maximum: AgeLimit | None) -> float | None:
    """A maximum age as an exclusive bound in days: 17 Years admits everyone under 18."""
    if maximum is None:
        return None
    return AgeLimit(value=maximum.value + 1, unit=maximum.unit).in_days()
