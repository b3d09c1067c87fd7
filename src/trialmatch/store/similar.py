"""Trials like this one: the same diseases, the same drugs, the same phase.

Candidates come from the store's indexes, never from a scan of the records: ``trial_conditions`` (the
diseases each trial studies) gives trials with the same, a narrower or a broader disease, and the
full-text index gives trials naming the same drugs (by vocabulary concept, or by intervention name
when the vocabulary doesn't know the drug). Each shared disease or drug counts by how rare it is in the
store (inverse document frequency), so "B-ALL" says more than "cancer" and blinatumomab more than
"placebo". A shared phase adds a little; open trials rank ahead of closed ones of similar score.
Trials sharing nothing specific fall back to their title words (bm25).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from trialmatch.store.index_text import concept_token
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import OPEN_STATUSES, Trial
from trialmatch.trials.topics import condition_concepts
from trialmatch.vocabulary import load_vocabulary, normalize_spelling

#: A narrower or broader disease counts this share of an identical one.
_RELATED_DISEASE = 0.5
#: A sibling disease (same parent, e.g. T-ALL beside B-ALL) counts this share of their parent's weight.
_SIBLING_DISEASE = 0.25
#: A shared phase adds this share of the best-scoring reason's weight: it separates near ties.
_SAME_PHASE = 0.15
#: A closed trial's score is multiplied by this: people look for trials they can still join.
_CLOSED = 0.7
#: Intervention names in more than this share of trials say nothing ("placebo", "biomarker analysis").
_COMMON_SHARE = 0.2
#: How many title-word candidates the fallback reads.
_TEXT_CANDIDATES = 50
#: Trials scoring below this share of "identical" are not similar enough to show.
_MIN_SCORE = 0.1
_WORTH_SAYING = 0.1
_MOST_REASONS = 5
_DRUG_TYPES = {"DRUG", "BIOLOGICAL", "GENETIC", "COMBINATION_PRODUCT"}
_NOT_A_DRUG = {"placebo", "saline", "standard of care", "best supportive care", "observation"}
_WORD = re.compile(r"[a-z0-9]+")
_TITLE_STOPWORDS = frozenset(
    "a an and as at by for from in into of on or the to with without study trial phase randomized randomised "
    "open label versus vs patients participants subjects who have has been after before previously".split())


@dataclass(frozen=True)
class SimilarTrial:
    """One similar trial, how similar (0–1, 1 = shares everything), and why in words."""

    trial: Trial
    score: float
    #: e.g. "same condition: B-ALL", "same drug: blinatumomab", "same phase: Phase 2".
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    #: For each thing the trials can share (one of the trial's diseases, a drug, the phase): the best link's
    #: weight and its reason. A disease reached by several routes counts once, at its strongest.
    links: dict[str, tuple[float, str]] = field(default_factory=dict)

    def add(self, key: str, weight: float, reason: str) -> None:
        if weight > self.links.get(key, (0.0, ""))[0]:
            self.links[key] = (weight, reason)

    @property
    def score(self) -> float:
        return sum(weight for weight, _ in self.links.values())

    def reasons(self) -> list[str]:
        """The reasons worth saying, strongest first: those carrying at least a tenth of the strongest's weight."""
        ordered = sorted(self.links.values(), key=lambda link: (-link[0], link[1]))
        top = ordered[0][0] if ordered else 0.0
        said: list[str] = []
        for weight, reason in ordered:
            if weight >= _WORTH_SAYING * top and reason not in said:
                said.append(reason)
        return said[:_MOST_REASONS]


def similar_trials(store: TrialStore, trial: Trial, limit: int = 5) -> list[SimilarTrial]:
    """Up to ``limit`` stored trials most like ``trial`` (which need not be stored), best first, itself excluded."""
    if limit <= 0:
        return []
    own_rowid = _rowid(store, trial.id)
    total = max(store.count(), 1)
    found: dict[int, _Candidate] = defaultdict(_Candidate)
    best_possible = _by_disease(store, trial, own_rowid, total, found)
    best_possible += _by_drug(store, trial, total, found)
    found.pop(own_rowid, None)  # type: ignore[arg-type]
    if not found:
        best_possible = _by_title(store, trial, found)
        found.pop(own_rowid, None)  # type: ignore[arg-type]
    if not found or best_possible <= 0:
        return []
    columns = _columns(store, list(found))
    phases = {p.value for p in trial.phases}
    open_values = {s.value for s in OPEN_STATUSES}
    ranked: list[tuple[float, str, int]] = []
    for rowid, candidate in found.items():
        row = columns.get(rowid)
        if row is None:
            continue
        shared_phases = phases & set((row["phases"] or "").split())
        if shared_phases:
            label = " / ".join(_phase_label(p) for p in sorted(shared_phases))
            strongest = max(weight for weight, _ in candidate.links.values())
            candidate.add("phase", _SAME_PHASE * strongest, f"same phase: {label}")
        share = candidate.score / (best_possible * (1 + _SAME_PHASE) if phases else best_possible)
        if row["overall_status"] not in open_values:
            share *= _CLOSED
        if share >= _MIN_SCORE:
            ranked.append((min(share, 1.0), row["id"], rowid))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    chosen = ranked[:limit]
    trials = store.get_many(rowid for _, _, rowid in chosen)
    results = []
    for share, _, rowid in chosen:
        if rowid not in trials:
            continue
        results.append(SimilarTrial(trials[rowid], round(share, 3), found[rowid].reasons()))
    return results


def _rowid(store: TrialStore, trial_id: str) -> int | None:
    row = store.db.execute("SELECT rowid FROM trials WHERE id = ?", (trial_id,)).fetchone()
    return int(row[0]) if row else None


def _idf(frequency: int, total: int) -> float:
    return math.log(1 + total / max(frequency, 1))


def _by_disease(store: TrialStore, trial: Trial, own_rowid: int | None, total: int,
                found: dict[int, _Candidate]) -> float:
    """Score trials studying the same, a narrower, a broader or a sibling disease; returns the best possible."""
    vocabulary = load_vocabulary()
    if own_rowid is not None:
        own = {r[0] for r in store.db.execute("SELECT concept FROM trial_conditions WHERE trial_rowid = ?",
                                              (own_rowid,))}
    else:
        own = set(condition_concepts(trial))
    if not own:
        return 0.0
    # Each related concept: links (the trial's own concept, strength, relation, the concept whose weight counts).
    related: dict[str, list[tuple[str, float, str, str]]] = defaultdict(list)
    for concept in own:
        related[concept].append((concept, 1.0, "same condition", concept))
        for broader in vocabulary.ancestors(concept):
            related[broader].append((concept, _RELATED_DISEASE, "broader condition", broader))
        for narrower in _descendants(concept):
            related[narrower].append((concept, _RELATED_DISEASE, "narrower condition", concept))
        concept_info = vocabulary.get(concept)
        for parent in concept_info.parents if concept_info else ():
            for sibling in _children().get(parent, ()):
                if sibling not in own and sibling not in _descendants(concept):
                    # Siblings share only their parent: they count as much as the parent is specific.
                    related[sibling].append((concept, _SIBLING_DISEASE, "related condition", parent))
    # How specific a disease is: how many trials study it or anything narrower ("cancer" covers most).
    subtree = {c: (c, *_descendants(c)) for c in {*related, *own}}
    counted = json.dumps(sorted({d for members in subtree.values() for d in members}))
    frequency = dict(store.db.execute(
        "SELECT concept, count(*) FROM trial_conditions WHERE concept IN (SELECT value FROM json_each(?)) "
        "GROUP BY concept", (counted,)).fetchall())
    # A link counts by how specific its broader end is: "leukemia" is weak evidence for a B-ALL trial.
    weights = {c: _idf(sum(frequency.get(d, 0) for d in members), total) for c, members in subtree.items()}
    wanted = json.dumps(sorted(related))
    rows = store.db.execute(
        "SELECT concept, trial_rowid FROM trial_conditions WHERE concept IN (SELECT value FROM json_each(?))",
        (wanted,))
    for concept, rowid in rows:
        for anchor, strength, relation, basis in related[concept]:
            found[rowid].add(f"condition:{anchor}", strength * weights[basis], f"{relation}: {_label(concept)}")
    return sum(weights[concept] for concept in own)


def _by_drug(store: TrialStore, trial: Trial, total: int, found: dict[int, _Candidate]) -> float:
    """Score trials giving the same drugs; returns the best possible (the sum of the drugs' weights)."""
    vocabulary = load_vocabulary()
    concepts: dict[str, str] = {}
    names: dict[str, str] = {}
    for intervention in trial.interventions:
        ids = [c for name in (intervention.name, *intervention.other_names)
               for c in vocabulary.concept_ids(name, {"drug"}, with_ancestors=False)]
        for concept_id in ids:
            concepts.setdefault(concept_id, _label(concept_id))
        if not ids and (intervention.type or "").upper() in _DRUG_TYPES:
            words = _WORD.findall(normalize_spelling(intervention.name.lower()))
            if words and " ".join(words) not in _NOT_A_DRUG:
                names.setdefault('interventions : "' + " ".join(words) + '"', intervention.name)
    queries = {f"concepts : {concept_token(c)}": label for c, label in concepts.items()} | names
    best = 0.0
    for expression, label in queries.items():
        rowids = [r[0] for r in store.db.execute("SELECT rowid FROM trials_fts WHERE trials_fts MATCH ?",
                                                 (expression,))]
        if not rowids or (len(rowids) > _COMMON_SHARE * total and total >= 20):
            continue
        weight = _idf(len(rowids), total)
        best += weight
        for rowid in rowids:
            found[rowid].add(f"drug:{label.lower()}", weight, f"same drug: {label}")
    return best


def _by_title(store: TrialStore, trial: Trial, found: dict[int, _Candidate]) -> float:
    """The fallback: trials whose indexed text shares the title's distinctive words (bm25 of any of them)."""
    words = {w for w in _WORD.findall(normalize_spelling(trial.title.lower()))
             if len(w) > 2 and w not in _TITLE_STOPWORDS and not w.isdigit()}
    if not words:
        return 0.0
    expression = " OR ".join(f'"{w}"' for w in sorted(words))
    rows = store.db.execute(
        "SELECT rowid, -bm25(trials_fts, 10.0, 8.0, 5.0, 4.0, 2.0, 1.0, 0.0) AS relevance FROM trials_fts "
        "WHERE trials_fts MATCH ? ORDER BY relevance DESC LIMIT ?", (expression, _TEXT_CANDIDATES)).fetchall()
    if not rows:
        return 0.0
    best = max(r[1] for r in rows) or 1.0
    for rowid, relevance in rows:
        found[rowid].add("title", relevance / best * 0.5, "similar title words")
    # The best text match scores 0.5 of "identical", since shared words are weaker evidence than concepts.
    return 1.0


def _columns(store: TrialStore, rowids: list[int]) -> dict[int, dict[str, str | None]]:
    rows = store.db.execute(
        "SELECT rowid, id, overall_status, phases FROM trials WHERE rowid IN (SELECT value FROM json_each(?))",
        (json.dumps(rowids),))
    return {r["rowid"]: {"id": r["id"], "overall_status": r["overall_status"], "phases": r["phases"]} for r in rows}


@cache
def _children() -> dict[str, tuple[str, ...]]:
    """Each concept's direct narrower concepts (the vocabulary only records parents)."""
    children: dict[str, list[str]] = defaultdict(list)
    for concept in load_vocabulary().concepts.values():
        for parent in concept.parents:
            children[parent].append(concept.id)
    return {parent: tuple(sorted(ids)) for parent, ids in children.items()}


@cache
def _descendants(concept_id: str) -> tuple[str, ...]:
    seen: list[str] = []
    queue = list(_children().get(concept_id, ()))
    while queue:
        child = queue.pop(0)
        if child not in seen:
            seen.append(child)
            queue.extend(_children().get(child, ()))
    return tuple(seen)


def _label(concept_id: str) -> str:
    """A concept's short name: its first abbreviation ("B-ALL") or else its name."""
    concept = load_vocabulary().get(concept_id)
    if concept is None:
        return concept_id
    return concept.abbreviations[0] if concept.abbreviations else concept.name


def _phase_label(phase: str) -> str:
    return {"NA": "not applicable", "EARLY_PHASE1": "Early Phase 1"}.get(phase, phase.replace("PHASE", "Phase "))
