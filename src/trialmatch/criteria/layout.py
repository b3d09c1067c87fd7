"""The wording knowledge in ``data/criteria/layout.yaml``, loaded once and compiled into patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from trialmatch.criteria.folding import scanning

_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class Layout:
    header: re.Pattern[str]  # groups "inc", "exc", "nci"; matched at a line's start
    nci_negation: re.Pattern[str]
    nci_not_negation: re.Pattern[str]
    group_any: re.Pattern[str]
    group_all: re.Pattern[str]
    group_intro_end: re.Pattern[str]
    continues_end: re.Pattern[str]
    heading_max_words: int
    label_heading_max_words: int
    label_heading_stopwords: frozenset[str]
    heading_not_words: re.Pattern[str]
    preamble: re.Pattern[str]
    preamble_max_words: int
    disclaimers: re.Pattern[str]
    disclaimer_stems: tuple[str, ...]
    definition_stems: tuple[str, ...]
    exception_stems: tuple[str, ...]
    definitions: tuple[re.Pattern[str], ...]
    definitions_bare: tuple[re.Pattern[str], ...]
    definition_term_max_words: int
    definition_criterion_terms: re.Pattern[str]
    exceptions: re.Pattern[str]
    exception_guards: re.Pattern[str]
    placeholders: re.Pattern[str]
    stopwords: frozenset[str]
    exception_generic: frozenset[str]


def _any_of(patterns: list[str]) -> re.Pattern[str]:
    return scanning("|".join(f"(?:{p})" for p in patterns) or "(?!)", _FLAGS)


def _header_pattern(data: dict[str, Any]) -> re.Pattern[str]:
    """One pattern for every section header: decoration, the name, then ":" or the end of the line."""
    sections = data.get("sections", {})
    names = {
        "inc": "|".join(f"(?:{p})" for p in sections.get("inclusion", [])) or "(?!)",
        "exc": "|".join(f"(?:{p})" for p in sections.get("exclusion", [])) or "(?!)",
        "nci": "|".join(f"(?:{p})" for p in data.get("nci_sections", [])) or "(?!)",
    }
    # Exclusion first: "non-inclusion criteria" must not read as an inclusion header.
    body = "|".join(f"(?P<{key}>{names[key]})" for key in ("exc", "nci", "inc"))
    return re.compile(rf"[#*_\s]*(?:{body})[*_\s]*(?::[*_]*|\.?[*_]*\s*$)", _FLAGS)


@cache
def load_layout() -> Layout:
    text = resources.files("trialmatch.data").joinpath("criteria", "layout.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text) or {}
    return Layout(
        header=_header_pattern(data),
        nci_negation=re.compile(data.get("nci_negation", "(?!)"), _FLAGS),
        nci_not_negation=re.compile(data.get("nci_not_negation", "(?!)"), _FLAGS),
        group_any=_any_of(data.get("group_any", [])),
        group_all=_any_of(data.get("group_all", [])),
        group_intro_end=scanning(data.get("group_intro_end", "(?!)"), _FLAGS),
        continues_end=scanning(data.get("continues_end", "(?!)"), _FLAGS),
        heading_max_words=int(data.get("heading_max_words", 8)),
        label_heading_max_words=int(data.get("label_heading_max_words", 3)),
        label_heading_stopwords=frozenset(data.get("label_heading_stopwords", [])),
        heading_not_words=scanning(data.get("heading_not_words", "(?!)"), _FLAGS),
        preamble=scanning(data.get("preamble", "(?!)"), _FLAGS),
        preamble_max_words=int(data.get("preamble_max_words", 25)),
        disclaimers=_any_of(data.get("disclaimers", [])),
        disclaimer_stems=tuple(str(w) for w in data.get("disclaimer_stems", [])),
        definition_stems=tuple(str(w) for w in data.get("definition_stems", [])),
        exception_stems=tuple(str(w) for w in data.get("exception_stems", [])),
        definitions=tuple(scanning(p, _FLAGS) for p in data.get("definitions", [])),
        definitions_bare=tuple(scanning(p, _FLAGS) for p in data.get("definitions_bare", [])),
        definition_term_max_words=int(data.get("definition_term_max_words", 8)),
        definition_criterion_terms=scanning(data.get("definition_criterion_terms", "(?!)"), _FLAGS),
        exceptions=_any_of(data.get("exceptions", [])),
        exception_guards=_any_of(data.get("exception_guards", [])),
        placeholders=_any_of(data.get("placeholders", [])),
        stopwords=frozenset(data.get("match_stopwords", [])),
        exception_generic=frozenset(data.get("exception_generic_words", [])),
    )
