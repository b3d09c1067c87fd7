"""Medical concepts and their names, loaded from YAML vocabulary files.

Matching is by whole tokens, longest phrase first, so "pre B cell acute lymphoblastic
leukaemia" is found as B-cell ALL rather than as plain ALL. Synonyms match in any case and
spelling; abbreviations match only as written, so "ALL" is the disease and "all" is not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import yaml

from trialmatch.vocabulary.spelling import americanize

#: Extra vocabulary files or folders, separated by os.pathsep.
VOCABULARY_PATH_ENV = "TRIALMATCH_VOCABULARY"

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOKEN = re.compile(r"\w+|\+")
_MOSTLY_UPPER = 0.7
_TITLE_LETTERS = 20


@dataclass(frozen=True)
class Concept:
    id: str
    name: str
    kind: str
    synonyms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    codes: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    #: Kind-specific facts, e.g. a lab's canonical unit and molar mass.
    properties: dict[str, object] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ConceptMatch:
    concept: Concept
    start: int
    end: int
    text: str


_LOWER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=8192)
def _mostly_capitals(text: str) -> bool:
    """An all-capitals title, where "ALL" is just the word "all" (a short label like "R/R B-ALL" is not one)."""
    letters = len(_LOWER.findall(text))
    return letters >= _TITLE_LETTERS and sum(c.isupper() for c in text) / letters >= _MOSTLY_UPPER


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


@lru_cache(maxsize=8192)
def _prepared(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...], tuple[str, ...]]:
    """Token offsets, tokens and folded tokens of a text; recognisers look up the same passage often."""
    return tuple(map(re.Match.span, _TOKEN.finditer(text))), *_words(text)


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Tokens and folded tokens of a text, without their offsets: enough to tell that it names nothing."""
    raw = tuple(_TOKEN.findall(text))
    return raw, _folded_tokens(raw)


#: Each token's folded form, looked up without a Python call per token (bounded: cleared when full).
_FOLDED_TOKENS: dict[str, str] = {}
_FOLDED_TOKENS_MAX = 200_000


def _folded_tokens(raw: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(map(_FOLDED_TOKENS.__getitem__, raw))
    except KeyError:
        if len(_FOLDED_TOKENS) > _FOLDED_TOKENS_MAX:
            _FOLDED_TOKENS.clear()
        for token in raw:
            if token not in _FOLDED_TOKENS:
                _FOLDED_TOKENS[token] = americanize(token.lower())
        return tuple(map(_FOLDED_TOKENS.__getitem__, raw))


def _lengths_by_first(index: dict[tuple[str, ...], Concept]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for key in index:
        lengths.setdefault(key[0], set()).add(len(key))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def _folded_key(phrase: str) -> tuple[str, ...]:
    return tuple(americanize(m.group(0).lower()) for m in _tokens(phrase))


def _exact_key(phrase: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in _tokens(phrase))


class Vocabulary:
    """A set of concepts with a phrase index for finding them in text."""

    def __init__(self, concepts: Iterable[Concept]) -> None:
        self.concepts: dict[str, Concept] = {}
        for concept in concepts:
            self.concepts[concept.id] = concept
        self._folded: dict[tuple[str, ...], Concept] = {}
        self._exact: dict[tuple[str, ...], Concept] = {}
        for concept in self.concepts.values():
            for phrase in (concept.name, *concept.synonyms):
                self._folded.setdefault(_folded_key(phrase), concept)
            for abbreviation in concept.abbreviations:
                self._exact.setdefault(_exact_key(abbreviation), concept)
        self._folded.pop((), None)
        self._exact.pop((), None)
        self._longest = max((len(k) for k in (*self._folded, *self._exact)), default=0)
        # For each first token, the phrase lengths that start with it, longest first.
        self._first_folded = _lengths_by_first(self._folded)
        self._first_exact = _lengths_by_first(self._exact)
        self._ancestors: dict[str, tuple[str, ...]] = {}
        self._by_code: dict[tuple[str, str], Concept] = {}
        for concept in self.concepts.values():
            for system, code in concept.codes.items():
                self._by_code.setdefault((system.lower(), code.upper()), concept)

    def __len__(self) -> int:
        return len(self.concepts)

    def get(self, concept_id: str) -> Concept | None:
        return self.concepts.get(concept_id)

    def by_code(self, system: str, code: str) -> Concept | None:
        """The concept with this code: ``system`` is a short name (snomed, icd10, loinc, atc, rxnorm, ncit)."""
        return self._by_code.get((system.lower(), code.strip().upper()))

    def is_a(self, concept_id: str, broader: str) -> bool:
        """True when ``concept_id`` is ``broader`` or one of its descendants."""
        return concept_id == broader or broader in self.ancestors(concept_id)

    def ancestors(self, concept_id: str) -> list[str]:
        """Every broader concept id, nearest first (B-ALL -> ALL, acute leukemia, leukemia …)."""
        if concept_id not in self._ancestors:
            self._ancestors[concept_id] = tuple(self._walk_up(concept_id))
        return list(self._ancestors[concept_id])

    def _walk_up(self, concept_id: str) -> list[str]:
        seen: list[str] = []
        queue = list(self.concepts[concept_id].parents) if concept_id in self.concepts else []
        while queue:
            parent = queue.pop(0)
            if parent in seen or parent not in self.concepts:
                continue
            seen.append(parent)
            queue.extend(self.concepts[parent].parents)
        return seen

    def find(self, text: str, kinds: set[str] | None = None) -> list[ConceptMatch]:
        """Concepts named in ``text``, leftmost-longest, without overlaps."""
        tokens, raw, folded = _prepared(text)
        use_exact = not self._first_exact.keys().isdisjoint(raw) and not _mostly_capitals(text)
        matches: list[ConceptMatch] = []
        i = 0
        while i < len(tokens):
            found = self._longest_at(raw, folded, i, use_exact, kinds)
            if found is None:
                i += 1
                continue
            concept, length = found
            start, end = tokens[i][0], tokens[i + length - 1][1]
            matches.append(ConceptMatch(concept, start, end, text[start:end]))
            i += length
        return matches

    def _longest_at(
        self,
        raw: tuple[str, ...],
        folded: tuple[str, ...],
        i: int,
        use_exact: bool,
        kinds: set[str] | None,
    ) -> tuple[Concept, int] | None:
        folded_lengths = self._first_folded.get(folded[i], ())
        exact_lengths = self._first_exact.get(raw[i], ()) if use_exact else ()
        if not (folded_lengths or exact_lengths):
            return None
        available = len(raw) - i
        if not exact_lengths:  # the usual case: folded names only, their lengths already longest first
            for length in folded_lengths:
                if length <= available:
                    concept = self._folded.get(folded[i : i + length])
                    if concept is not None and (kinds is None or concept.kind in kinds):
                        return concept, length
            return None
        for length in sorted({*folded_lengths, *exact_lengths}, reverse=True):
            if length > available:
                continue
            if length in exact_lengths:
                concept = self._exact.get(raw[i : i + length])
                if concept is not None and (kinds is None or concept.kind in kinds):
                    return concept, length
            if length in folded_lengths:
                concept = self._folded.get(folded[i : i + length])
                if concept is not None and (kinds is None or concept.kind in kinds):
                    return concept, length
        return None

    def concept_ids(self, text: str, kinds: set[str] | None = None, with_ancestors: bool = True) -> list[str]:
        """Ids of the concepts in ``text`` and, by default, of every broader concept."""
        ids: list[str] = []
        for match in self.find(text, kinds):
            for concept_id in (match.concept.id, *(self.ancestors(match.concept.id) if with_ancestors else [])):
                if concept_id not in ids:
                    ids.append(concept_id)
        return ids


def _concepts_from_yaml(text: str, origin: str) -> list[Concept]:
    table = yaml.load(text, Loader=_YAML_LOADER) or {}
    concepts = []
    for entry in table.get("concepts", []):
        try:
            concepts.append(
                Concept(
                    id=str(entry["id"]),
                    name=str(entry["name"]),
                    kind=str(entry.get("kind", "condition")),
                    synonyms=tuple(str(s) for s in entry.get("synonyms", [])),
                    abbreviations=tuple(str(s) for s in entry.get("abbreviations", [])),
                    parents=tuple(str(s) for s in entry.get("parents", [])),
                    codes={str(k): str(v) for k, v in (entry.get("codes") or {}).items()},
                    properties=dict(entry.get("properties") or {}),
                )
            )
        except KeyError as missing:
            raise ValueError(f"{origin}: a concept is missing {missing}: {entry!r}") from None
    return concepts


def _user_files() -> list[Path]:
    files: list[Path] = []
    for part in os.environ.get(VOCABULARY_PATH_ENV, "").split(os.pathsep):
        if not part:
            continue
        path = Path(part)
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


@cache
def load_vocabulary() -> Vocabulary:
    """The bundled vocabulary plus any files named in $TRIALMATCH_VOCABULARY."""
    concepts: list[Concept] = []
    bundled = resources.files("trialmatch.data").joinpath("vocabulary")
    for item in sorted(bundled.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml") and item.name != "spelling.yaml":
            concepts.extend(_concepts_from_yaml(item.read_text("utf-8"), item.name))
    for path in _user_files():
        concepts.extend(_concepts_from_yaml(path.read_text("utf-8"), str(path)))
    return Vocabulary(concepts)
