"""What the full-text index holds for a trial.

Text is indexed with one spelling per word (leukaemia -> leukemia), and a hidden
``concepts`` column lists the vocabulary concepts the trial is about, with their broader
concepts, so that a search for "ALL" finds a trial titled "precursor B-cell lymphoblastic
leukemia" and a search for "leukaemia" finds every kind of leukaemia.
"""

from __future__ import annotations

import sqlite3
import threading
from functools import lru_cache

from trialmatch.trials.record import Trial
from trialmatch.vocabulary import load_vocabulary, normalize_spelling

#: Prefix of concept tokens in the index, so they never collide with ordinary words.
CONCEPT_PREFIX = "c_"
#: Relative weight of each indexed column in relevance ranking (bm25), in column order.
COLUMN_WEIGHTS = (10.0, 8.0, 5.0, 4.0, 2.0, 1.0, 6.0)
_TOPIC_KINDS = {"condition", "drug", "drug_class", "procedure"}


def concept_token(concept_id: str) -> str:
    return CONCEPT_PREFIX + concept_id


def topic_concepts(trial: Trial) -> list[str]:
    """Concept ids a trial is about: from its title, conditions, keywords and interventions.

    Criteria and summaries are left out on purpose: "no prior AML" doesn't make a trial an AML trial.
    """
    vocabulary = load_vocabulary()
    names = [
        *trial.conditions,
        *(mesh.term for mesh in trial.condition_mesh),
        *trial.keywords,
        *(i.name for i in trial.interventions),
    ]
    ids: list[str] = []
    titles = [title for title in (trial.brief_title, trial.official_title) if title]
    found = [vocabulary.concept_ids(title, _TOPIC_KINDS) for title in titles]
    found += [_name_concepts(name) for name in names]
    for concept_ids in found:
        for concept_id in concept_ids:
            if concept_id not in ids:
                ids.append(concept_id)
    return ids


@lru_cache(maxsize=8192)
def _name_concepts(name: str) -> tuple[str, ...]:
    # Condition, keyword and drug names repeat across thousands of trials; titles don't, so they aren't cached.
    return tuple(load_vocabulary().concept_ids(name, _TOPIC_KINDS))


def index_columns(trial: Trial) -> tuple[str, str, str, str, str, str, str]:
    """(title, conditions, keywords, interventions, summary, criteria, concepts) for FTS5."""

    def joined(parts: list[str | None]) -> str:
        return normalize_spelling("\n".join(p for p in parts if p))

    return (
        joined([trial.brief_title, trial.official_title, trial.acronym]),
        joined([*trial.conditions, *(m.term for m in trial.condition_mesh)]),
        joined(trial.keywords),
        joined([name for i in trial.interventions for name in (i.name, *i.other_names)]),
        joined([trial.brief_summary, trial.detailed_description]),
        joined([trial.eligibility.criteria_text]),
        " ".join(concept_token(c) for c in topic_concepts(trial)),
    )


_tokenizer_lock = threading.Lock()
_tokenizer_tables: dict[str, sqlite3.Connection] = {}


@lru_cache(maxsize=16384)
def indexed_terms(phrase: str, tokenize: str) -> tuple[str, ...]:
    """The terms an FTS5 index with the tokenizer ``tokenize`` holds for ``phrase``, in order (folded, stemmed).

    Asked of SQLite itself, so "transplant" and "transplantation" come out the same exactly when the index
    can't tell them apart. Cached: vocabulary names repeat in every search that names their concept.
    """
    with _tokenizer_lock:
        db = _tokenizer_tables.get(tokenize)
        if db is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.execute(f"CREATE VIRTUAL TABLE words USING fts5(text, tokenize = {tokenize})")
            db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(words, 'instance')")
            _tokenizer_tables[tokenize] = db
        db.execute("DELETE FROM words")
        db.execute("INSERT INTO words(rowid, text) VALUES (1, ?)", (phrase,))
        return tuple(row[0] for row in db.execute("SELECT term FROM terms ORDER BY offset"))
