"""Labelled fields ("Label: value") and the values they hold: ages, ids, counts, dates, names."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from trialmatch.trials.normalize import (
    match_status,
    parse_age,
    parse_bool,
    parse_date,
    parse_phases,
    parse_sex,
    parse_study_type,
)
from trialmatch.trials.record import AgeLimit, RegistryId
from trialmatch.trials.web_page.lines import PROSE_END, Line
from trialmatch.trials.web_page.rules import LISTS, Label, Rules, load_rules, qualifiers, word_alternation

MAX_TITLE_CHARS = 500
_DATE_KEYS = {
    "start_date",
    "primary_completion_date",
    "completion_date",
    "recruitment_end",
    "first_posted",
    "last_update",
}
_GLUED_KEYS = _DATE_KEYS | {"id"}  # "Clinical Study IdentifierNCT…", "Last Modified on14 October 2022"


@dataclass(frozen=True)
class Ages:
    low: AgeLimit | None = None
    high: AgeLimit | None = None
    at_diagnosis: bool = False


@dataclass(frozen=True)
class Field:
    key: str
    value: Any
    text: str
    no: int
    #: The label or heading it stood under; None for a bare value on a line of its own.
    label: str | None = None


@cache
def _age_patterns() -> dict[str, list[re.Pattern[str]]]:
    cfg = load_rules().patterns["age"]
    num, unit = r"(\d{1,3}(?:\.\d{1,2})?)", rf"({word_alternation(cfg['units'])})\b"
    tail, diag = r"(?:\s+old|\s+of\s+age)?", rf"(?P<diag>{cfg['at_diagnosis']})?"
    cue = r"(?<![A-Za-z])(?:{})"
    compiled = {
        "range": [
            rf"(?<![\d.]){num}\s*(?:{unit}\s*)?(?:{word_alternation(cfg['range_joiners'])})\s*{num}\s*{unit}{tail}{diag}"
        ],
        "low": [
            rf"{cue.format(word_alternation(cfg['min_before']))}\s*{num}\s*{unit}{tail}{diag}",
            rf"{num}\s*{unit}(?:\s+old)?\s*(?:{word_alternation(cfg['min_after'])})(?![A-Za-z]){diag}",
            rf"{num}\s*\+\s*{unit}{diag}",
        ],
        "high": [
            rf"{cue.format(word_alternation(cfg['max_before']))}\s*{num}\s*{unit}{tail}{diag}",
            rf"{num}\s*{unit}(?:\s+old)?\s*(?:{word_alternation(cfg['max_after'])})(?![A-Za-z]){diag}",
        ],
    }
    return {kind: [re.compile(p, re.IGNORECASE) for p in group] for kind, group in compiled.items()}


def _age_limit(number: str, unit: str, text: str) -> AgeLimit | None:
    limit = parse_age(f"{number} {unit}")
    return limit.model_copy(update={"text": text.strip()}) if limit else None


def age_bounds(text: str) -> Ages | None:
    """Age limits in a phrase: "at least 18 years old", "0-1 year at diagnosis", "> 1 month and < 18 years".
    A strict "< 18 years" keeps 18 as the limit: one day too generous beats hiding the trial."""
    found: dict[str, tuple[int, AgeLimit, bool]] = {}
    patterns = _age_patterns()
    for match in (m for p in patterns["range"] for m in [p.search(text)] if m):
        unit = match.group(2) or match.group(4)
        for side, limit in (
            ("low", _age_limit(match.group(1), unit, match.group(0))),
            ("high", _age_limit(match.group(3), match.group(4), match.group(0))),
        ):
            if limit:
                found[side] = (match.start(), limit, bool(match.group("diag")))
    for side in ("low", "high"):
        for match in (m for p in patterns[side] for m in [p.search(text)] if m):
            limit = _age_limit(match.group(1), match.group(2), match.group(0))
            if limit and (side not in found or match.start() < found[side][0]):
                found[side] = (match.start(), limit, bool(match.group("diag")))
    if not found:
        return None
    low, high = found.get("low"), found.get("high")
    return Ages(low[1] if low else None, high[1] if high else None, any(f[2] for f in found.values()))


def registry_ids(text: str) -> list[RegistryId]:
    return [
        RegistryId(id=match.group(0), type=id_type, domain=domain)
        for id_type, pattern, domain in load_rules().registry_ids
        for match in pattern.finditer(text)
    ]


def _labelled_ids(value: str, spec: dict[str, str] | None) -> list[RegistryId] | None:
    if spec:
        match = re.search(rf"(?<![\w-]){spec['value']}(?![\w-])", value)
        return [RegistryId(id=match.group(0), type=spec["type"], domain=spec.get("domain"))] if match else None
    return registry_ids(value) or None


def parse_count(value: str) -> int | None:
    match = re.search(r"\d[\d,]{0,9}", value)
    number = int(match.group(0).replace(",", "")) if match else None
    return number if number is not None and 0 < number < 10_000_000 else None


def _date(value: str) -> str | None:
    value = value.strip()
    return parse_date(value) if len(value) <= 40 else None


def _plain(value: str) -> str | None:
    """A list entry given after its label: a name, not a sentence."""
    value = value.strip(" :-")
    if not value or not (value[0].isupper() or value[0].isdigit()) or len(value.split()) > 20:
        return None
    return value


def _age_value(key: str, value: str) -> Ages | None:
    bounds = age_bounds(value) or age_bounds(f"{value} years")
    limit = parse_age(value)
    if key == "minimum_age":
        return Ages(low=limit) if limit else (Ages(low=bounds.low) if bounds and bounds.low else None)
    if key == "maximum_age":
        return Ages(high=limit) if limit else (Ages(high=bounds.high) if bounds and bounds.high else None)
    return bounds


def parse(label: Label, value: str) -> Any:
    """The parsed value of a labelled field, or None when the value doesn't fit the label."""
    key = label.key
    parsers: dict[str, Callable[[str], Any]] = {
        "status": match_status,
        "phase": lambda v: parse_phases(v) or parse_phases(f"Phase {v}") or None,
        "study_type": parse_study_type,
        "enrollment": parse_count,
        "sex": parse_sex,
        "healthy_volunteers": parse_bool,
        "id": lambda v: _labelled_ids(v, label.spec),
        "official_title": lambda v: v if 3 <= len(v) <= MAX_TITLE_CHARS else None,
    }
    if key in parsers:
        return parsers[key](value)
    if key in {"age", "minimum_age", "maximum_age"}:
        return _age_value(key, value)
    if key in _DATE_KEYS:
        return _date(value)
    return _plain(value) if key in LISTS else None


def field(line: Line, rules: Rules, lists: bool = True) -> Field | None:
    """A "Label: value" line, read only when the value fits the label. Without ``lists`` only
    single values are read (an arm's "Drug: X" in a section we skip is not an intervention)."""
    text = line.text
    lowered = text[:80].lower()
    for label in rules.labels.get(lowered[:3], []):
        size = len(label.text)
        if lowered[:size] != label.text.lower() or len(text) == size or (label.key in LISTS and not lists):
            continue
        rest = text[size:]
        if qualifier := qualifiers().match(rest):  # "Study Start (Actual): …"
            rest = rest[qualifier.end() :]
        if not rest:
            continue
        colon = rest.lstrip().startswith(":")
        if rest[0].isalpha() and label.key not in _GLUED_KEYS:
            continue
        # Without a colon, only a short line that isn't a sentence is a label line.
        if not colon and (len(text.split()) > 12 or PROSE_END.search(text)):
            continue
        value = rest.strip().lstrip(":").strip()
        parsed = parse(label, value) if value else None
        if parsed is not None:
            return Field(label.key, parsed, value, line.no, label.text)
    return None
