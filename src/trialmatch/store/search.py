"""Search the store: full text with synonyms, plus filters on status, phase, age, sex and place.

A query is read with the vocabulary first: "ALL", "B-ALL" or "leukaemia" become concepts,
matched through the index's concept column and through every synonym, so spellings and
abbreviations find the same trials. The remaining words must all appear somewhere in the
trial (title, conditions, keywords, interventions, summary or criteria).
"""

from __future__ import annotations

import json
import math
import re
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from trialmatch.places import EARTH_RADIUS_KM, Place, bounding_box, country_code, distance_km
from trialmatch.store.index_text import COLUMN_WEIGHTS, concept_token, indexed_terms
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import OPEN_STATUSES, OverallStatus, Phase, StudyType, Trial
from trialmatch.vocabulary import Vocabulary, load_vocabulary, normalize_spelling

SortOrder = Literal["relevance", "distance", "updated"]

#: Counting stops here: "1,000+ trials" is as useful as an exact count and much faster.
COUNT_LIMIT = 1000
#: A radius that takes in the whole planet, for a place given without one.
_WHOLE_EARTH_KM = 20_040.0

#: Words that carry no meaning in a trial search; dropping them keeps "trials for ALL in
#: children" from requiring the word "for".
_STOPWORDS = frozenset(
    "a an and are as at be by for from in into is of on or the to with without trial trials study studies "
    "patient patients people who".split()
)
_WORD = re.compile(r"\w+")
#: The tokenizer clause of an FTS5 table's CREATE statement.
_TOKENIZE = re.compile(r"tokenize\s*=\s*(\"[^\"]*\"|'[^']*')", re.IGNORECASE)


class SearchError(ValueError):
    """A search that can't run as asked; the message says how to fix it."""


@dataclass
class SearchQuery:
    text: str = ""
    #: CT.gov statuses; "OPEN" means recruiting, not yet recruiting or enrolling by invitation.
    statuses: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    study_types: list[str] = field(default_factory=list)
    #: The patient's age in years, checked against each trial's limits.
    age_years: float | None = None
    #: The patient's sex, FEMALE or MALE.
    sex: str | None = None
    country: str | None = None
    near: Place | None = None
    radius_km: float | None = None
    sort: SortOrder = "relevance"
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class NearestSite:
    facility: str | None
    city: str | None
    country: str | None
    distance_km: float | None


@dataclass(frozen=True)
class SearchHit:
    trial: Trial
    score: float | None
    nearest_site: NearestSite | None


@dataclass(frozen=True)
class SearchResults:
    total: int
    hits: list[SearchHit]
    #: The FTS5 expression the text became, for debugging and "why did this match".
    match_expression: str | None
    #: False when more than COUNT_LIMIT trials match and ``total`` is that limit.
    total_is_exact: bool = True


def search(store: TrialStore, query: SearchQuery) -> SearchResults:
    """Trials matching ``query``, ranked and paged."""
    match = build_match_expression(query.text, _index_tokenizer(store))
    if query.text.strip() and match is None:
        raise SearchError(f"nothing to search for in {query.text!r}; use more specific words")
    if query.sort == "distance" and query.near is None:
        raise SearchError("sorting by distance needs a place: give --near")
    where, params = _filters(store, query)
    columns = ["t.rowid AS rowid", "t.last_update AS last_update", "t.id AS id"]
    if match:
        source = "trials_fts JOIN trials t ON t.rowid = trials_fts.rowid"
        where.insert(0, "trials_fts MATCH :match")
        params["match"] = match
        columns.append(f"bm25(trials_fts, {', '.join(str(w) for w in COLUMN_WEIGHTS)}) AS score")
    else:
        source = "trials t"
        columns.append("NULL AS score")
    if query.near is not None:
        distance, box = _nearest_site_distance(query, params)
        # Trials whose sites all lie outside the box are dropped on their own row, before any site is read.
        where.append(
            "t.site_max_lat >= :min_lat AND t.site_min_lat <= :max_lat "
            "AND t.site_max_lon >= :min_lon AND t.site_min_lon <= :max_lon"
        )
        columns.append(f"(SELECT min({distance}) FROM sites s WHERE s.trial_rowid = t.rowid AND {box}) AS distance")
    else:
        columns.append("NULL AS distance")
    condition = " AND ".join(where) or "1 = 1"
    in_range = " WHERE distance <= :radius" if query.near is not None else ""
    outer = f"FROM (SELECT {', '.join(columns)} FROM {source} WHERE {condition}){in_range}"
    order = {
        "relevance": "score, last_update DESC, id" if match else "last_update DESC, id",
        "updated": "last_update DESC, id",
        "distance": "distance, score, id",
    }[query.sort]
    # No window count here: it would make SQLite keep every match to sort instead of the page's few rows.
    rows = store.db.execute(
        f"SELECT rowid, score {outer} ORDER BY {order} LIMIT :limit OFFSET :offset",
        {**params, "limit": query.limit, "offset": query.offset},
    ).fetchall()
    if len(rows) < query.limit and (rows or query.offset == 0):
        total = query.offset + len(rows)  # the last page: the rows before it and on it are all there are
    else:
        # Counting needs no relevance scores, and stops at the limit.
        unscored = [c for c in columns if not c.endswith(" AS score")]
        counted = f"SELECT 1 FROM (SELECT {', '.join(unscored)} FROM {source} WHERE {condition}){in_range}"
        total = store.db.execute(f"SELECT count(*) FROM ({counted} LIMIT {COUNT_LIMIT + 1})", params).fetchone()[0]
    trials = store.get_many((r["rowid"] for r in rows), sites=False)
    shown = _shown_sites(store, [r["rowid"] for r in rows], query)
    hits = [SearchHit(trials[r["rowid"]], r["score"], shown.get(r["rowid"])) for r in rows if r["rowid"] in trials]
    return SearchResults(min(total, COUNT_LIMIT), hits, match, total_is_exact=total <= COUNT_LIMIT)


#: Great-circle distance in km from the user's place (parameters set by _nearest_site_distance) to site ``s``.
_HAVERSINE = (
    ":earth_diameter * asin(min(1.0, sqrt("
    "power(sin((radians(s.lat) - :phi0) / 2), 2) + "
    ":cos_phi0 * cos(radians(s.lat)) * power(sin((radians(s.lon) - :lambda0) / 2), 2))))"
)


def _nearest_site_distance(query: SearchQuery, params: dict[str, object]) -> tuple[str, str]:
    """SQL for a site's distance from the user's place, and the condition that keeps sites in range."""
    assert query.near is not None
    radius = query.radius_km if query.radius_km is not None else _WHOLE_EARTH_KM
    min_lat, max_lat, min_lon, max_lon = bounding_box(query.near, radius)
    params.update(
        phi0=math.radians(query.near.lat),
        lambda0=math.radians(query.near.lon),
        cos_phi0=math.cos(math.radians(query.near.lat)),
        earth_diameter=2 * EARTH_RADIUS_KM,
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        radius=radius,
    )
    box = "s.lat BETWEEN :min_lat AND :max_lat AND s.lon BETWEEN :min_lon AND :max_lon"
    if "country" in params:
        box += " AND s.country_code = :country"  # the nearest site must also be in the chosen country
    return _HAVERSINE, box


def build_match_expression(text: str, tokenize: str | None = None) -> str | None:
    """The FTS5 expression for a user's words, with concepts expanded to all their names.

    With the index's ``tokenize`` setting, a concept's names that the index reads alike ("stem cell
    transplant", "stem cell transplants") are asked for once, and names containing another of its names
    ("hematopoietic stem cell transplant" contains "stem cell transplant") not at all: the trials found are
    the same, and a search for "B-ALL" asks for 13 phrases instead of 31.
    """
    if not text.strip():
        return None
    return _match_expression(load_vocabulary(), text, tokenize)


@lru_cache(maxsize=4096)
def _match_expression(vocabulary: Vocabulary, text: str, tokenize: str | None) -> str | None:
    # Cached per vocabulary object, so a reloaded vocabulary is never read from a stale entry.
    groups: list[str] = []
    cursor = 0
    for found in vocabulary.find(text):
        groups.extend(_word_terms(text[cursor : found.start]))
        concept = found.concept
        names = {normalize_spelling(name) for name in (concept.name, *concept.synonyms)}
        phrases = list(dict.fromkeys(p for n in sorted(names) if (p := _phrase(n))))
        if tokenize is not None:
            phrases = _fewest_phrases(phrases, tokenize)
        alternatives = [f"concepts:{concept_token(concept.id)}", *map(_near_form, phrases)]
        groups.append("(" + " OR ".join(alternatives) + ")")
        cursor = found.end
    groups.extend(_word_terms(text[cursor:]))
    # "B-ALL" as the condition and again in the words: one group is enough to find the same trials.
    return " AND ".join(dict.fromkeys(groups)) if groups else None


def _fewest_phrases(phrases: list[str], tokenize: str) -> list[str]:
    """The phrases whose OR finds the same rows: one per indexed term sequence, none containing another."""
    by_terms: dict[tuple[str, ...], str] = {}
    for phrase in phrases:
        by_terms.setdefault(indexed_terms(phrase.strip('"'), tokenize), phrase)
    if () in by_terms:  # a name the tokenizer reads as nothing: keep everything as it was
        return phrases
    return [phrase for terms, phrase in by_terms.items()
            if not any(other != terms and _contains(terms, other) for other in by_terms)]


def _contains(terms: tuple[str, ...], part: tuple[str, ...]) -> bool:
    size = len(part)
    return size < len(terms) and any(terms[i : i + size] == part for i in range(len(terms) - size + 1))


def _index_tokenizer(store: TrialStore) -> str | None:
    """The tokenizer setting of the store's full-text index, as written in its schema."""
    if store not in _tokenizers:  # reading the schema costs more than a small search
        row = store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'trials_fts'").fetchone()
        found = _TOKENIZE.search(row[0]) if row else None
        _tokenizers[store] = found.group(1) if found else None
    return _tokenizers[store]


#: Each open store's tokenizer setting, forgotten with the store.
_tokenizers: weakref.WeakKeyDictionary[TrialStore, str | None] = weakref.WeakKeyDictionary()


def _word_terms(text: str) -> list[str]:
    words = [w for w in _WORD.findall(normalize_spelling(text)) if w not in _STOPWORDS]
    return [f'"{w}"' for w in words]


#: Words a disease name can do without in a search: "cancer of the breast" is "cancer" near "breast".
_FILLER = frozenset({"a", "an", "of", "the"})


def _near_form(phrase: str) -> str:
    """A name with filler words inside ("malignant neoplasm of the breast") as its parts near each other.

    A phrase with "of" or "the" made the index walk those words' positions in nearly every trial: "breast
    cancer" took 45 ms on 100,000 trials, 15 ms this way. Parts may come in either order within the gap
    ("breast cancer" is also "cancer of the breast"), which a search for a disease can take.
    """
    words = phrase.strip('"').split()
    content = [at for at, word in enumerate(words) if word.lower() not in _FILLER]
    if not content:
        return phrase
    inside = words[content[0] : content[-1] + 1]
    gap = sum(word.lower() in _FILLER for word in inside)
    if not gap:
        return phrase
    runs: list[list[str]] = [[]]
    for word in inside:
        if word.lower() in _FILLER:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(word)
    return "NEAR(" + " ".join('"' + " ".join(run) + '"' for run in runs if run) + f", {gap})"


def _phrase(text: str) -> str:
    words = _WORD.findall(text)
    return '"' + " ".join(words) + '"' if words else ""


def _filters(store: TrialStore, query: SearchQuery) -> tuple[list[str], dict[str, object]]:
    where: list[str] = []
    params: dict[str, object] = {}
    if query.statuses:
        statuses = expand_statuses(query.statuses)
        where.append("t.overall_status IN (SELECT value FROM json_each(:statuses))")
        params["statuses"] = json.dumps(sorted(statuses))
    if query.phases:
        phases = [_checked(Phase, p, "phase") for p in query.phases]
        where.append("(" + " OR ".join(f"instr(' ' || t.phases || ' ', ' {p} ') > 0" for p in phases) + ")")
    if query.study_types:
        types = [_checked(StudyType, s, "study type") for s in query.study_types]
        where.append("t.study_type IN (SELECT value FROM json_each(:study_types))")
        params["study_types"] = json.dumps(types)
    if query.age_years is not None:
        if not 0 <= query.age_years <= 130:
            raise SearchError("age must be between 0 and 130 years")
        where.append("(t.min_age_days IS NULL OR t.min_age_days <= :age_days)")
        where.append("(t.max_age_limit_days IS NULL OR :age_days < t.max_age_limit_days)")
        params["age_days"] = query.age_years * 365.25
    if query.sex:
        sex = query.sex.strip().upper()
        if sex not in {"FEMALE", "MALE"}:
            raise SearchError("sex must be female or male")
        where.append("(t.sex IS NULL OR t.sex IN ('ALL', :sex))")
        params["sex"] = sex
    if query.country:
        code = country_code(query.country)
        if code is None:
            raise SearchError(f"unknown country {query.country!r}; use its English name or ISO code, e.g. 'GB'")
        where.append("t.rowid IN (SELECT trial_rowid FROM sites WHERE country_code = :country)")
        params["country"] = code
    return where, params


def expand_statuses(statuses: list[str]) -> set[str]:
    expanded: set[str] = set()
    for status in statuses:
        key = status.strip().upper().replace(" ", "_").replace(",", "")
        if key == "OPEN":
            expanded.update(s.value for s in OPEN_STATUSES)
        elif key == "CLOSED":
            expanded.update(s.value for s in OverallStatus if s not in OPEN_STATUSES)
        else:
            expanded.add(_checked(OverallStatus, key, "status"))
    return expanded


def _checked(enum: type, value: str, what: str) -> str:
    key = value.strip().upper().replace(" ", "_")
    if what == "phase" and key.isdigit():
        key = f"PHASE{key}"
    if key not in enum.__members__:
        choices = ", ".join(m.lower() for m in enum.__members__)
        raise SearchError(f"unknown {what} {value!r}; choose from {choices}")
    return key


def _shown_sites(store: TrialStore, rowids: list[int], query: SearchQuery) -> dict[int, NearestSite]:
    """The site each hit shows, by rowid: the nearest to the user's place with a known location, else the
    first listed; only sites in the chosen country count. Read from the ``sites`` table, placed when the
    trial was saved (the record's coordinates, else its city from the gazetteer)."""
    if not rowids:
        return {}
    params: dict[str, object] = {"rowids": json.dumps(rowids)}
    where = "s.trial_rowid IN (SELECT value FROM json_each(:rowids))"
    if query.country:
        where += " AND s.country_code = :country"
        params["country"] = country_code(query.country)
    if query.near is None:
        order = "s.position"
    else:
        # A hit within the radius has its nearest site inside the box around it.
        radius = query.radius_km if query.radius_km is not None else _WHOLE_EARTH_KM
        params.update(zip(("min_lat", "max_lat", "min_lon", "max_lon"), bounding_box(query.near, radius), strict=True))
        where += " AND s.lat BETWEEN :min_lat AND :max_lat AND s.lon BETWEEN :min_lon AND :max_lon"
        params.update(phi0=math.radians(query.near.lat), lambda0=math.radians(query.near.lon),
                      cos_phi0=math.cos(math.radians(query.near.lat)), earth_diameter=2 * EARTH_RADIUS_KM)
        order = f"{_HAVERSINE}, s.position"
    rows = store.db.execute(
        "SELECT trial_rowid, facility, city, country, lat, lon FROM (SELECT s.trial_rowid, s.facility, s.city, "
        f"s.country, s.lat, s.lon, row_number() OVER (PARTITION BY s.trial_rowid ORDER BY {order}) AS nearest "
        f"FROM sites s WHERE {where}) WHERE nearest = 1", params)
    shown = {}
    for rowid, facility, city, country, lat, lon in rows:
        distance = None
        if query.near is not None:
            distance = round(distance_km(query.near.lat, query.near.lon, lat, lon), 1)
        shown[rowid] = NearestSite(facility, city, country, distance)
    return shown
