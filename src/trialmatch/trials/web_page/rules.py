"""The portal knowledge in ``data/pages/*.yaml``, loaded once and compiled into lookup tables and patterns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

CRITERIA = {"inclusion", "exclusion", "eligibility"}
PROSE = {"summary", "description"}
SKIPPED = {"other", "ignore"}
LISTS = {"conditions", "interventions", "sponsor", "collaborators", "officials", "locations", "other_ids", "keywords"}


@dataclass(frozen=True)
class Label:
    key: str
    text: str
    #: For organisation numbers: {"type", "domain", "value"} from patterns.yaml id_labels.
    spec: dict[str, str] | None = None


@dataclass(frozen=True)
class Rules:
    headings: dict[str, Label]
    not_headings: frozenset[str]
    labels: dict[str, list[Label]]  # first three letters -> labels, longest first
    chrome_start: re.Pattern[str]
    chrome_any: re.Pattern[str] | None
    inline_chrome: re.Pattern[str] | None
    registry_ids: list[tuple[str, re.Pattern[str], str | None]]
    patterns: dict[str, Any]


def norm(text: str) -> str:
    """A heading's comparable form: case, spacing, curly quotes, "(s)", qualifiers like "(Actual)"
    and end punctuation ignored."""
    text = text.replace("’", "'").replace("‘", "'").replace("(s)", "").casefold()
    text = qualifiers().sub("", text)
    return " ".join(text.split()).rstrip(" :?.")


@cache
def qualifiers() -> re.Pattern[str]:
    words = _load_data().get("label_qualifiers", [])
    return re.compile(rf"\s*\((?:{word_alternation(words)})\)", re.IGNORECASE) if words else re.compile(r"(?!)")


def word_alternation(items: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key].extend(value)
        else:
            into[key] = value


def _alternation(patterns: Iterable[str]) -> re.Pattern[str] | None:
    listed = list(patterns)
    return re.compile("|".join(f"(?:{p})" for p in listed), re.IGNORECASE) if listed else None


@cache
def _load_data() -> dict[str, Any]:
    data: dict[str, Any] = {}
    folder = resources.files("trialmatch.data").joinpath("pages")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            _merge(data, yaml.safe_load(entry.read_text("utf-8")) or {})
    return data


@cache
def load_rules() -> Rules:
    data = _load_data()
    labels = [Label(key, text) for key, texts in data.get("fields", {}).items() for text in texts]
    labels += [Label(key, text) for key, texts in data.get("sections", {}).items() if key in LISTS for text in texts]
    for spec in data.get("id_labels", []):
        details = {k: str(v) for k, v in spec.items() if k != "labels"}
        labels += [Label("id", text, details) for text in spec["labels"]]
    headings = {norm(text): Label(key, text) for key, texts in data.get("sections", {}).items() for text in texts}
    headings.update({norm(label.text): label for label in labels if label.key not in LISTS})
    by_start: dict[str, list[Label]] = {}
    for label in sorted(labels, key=lambda lb: -len(lb.text)):
        by_start.setdefault(label.text[:3].lower(), []).append(label)
    chrome = data.get("chrome_lines", []) + data.get("section_descriptions", [])
    anchored = [p for p in chrome if p.startswith("^")]
    return Rules(
        headings=headings,
        not_headings=frozenset(data.get("not_headings", [])),
        labels=by_start,
        chrome_start=_alternation(anchored) or re.compile(r"(?!)"),
        chrome_any=_alternation(p for p in chrome if not p.startswith("^")),
        inline_chrome=_alternation(rf"\s*{re.escape(p)}" for p in data.get("inline_chrome", [])),
        registry_ids=[(e["type"], re.compile(e["pattern"]), e.get("domain")) for e in data.get("registry_ids", [])],
        patterns=data,
    )
