"""Disease state in a clinical note: relapse, remission, refractory disease, MRD, Ph, CD19, KMT2A, marrow
blasts and CNS status ("second relapse", "in CR1", "MRD 0.05%", "Ph-negative", "CD19+", "CNS1").

Each reading is a ConText finding too, so "not in remission" and "her brother's relapse" read right. A
reading belongs to a condition right next to it, else to a cancer in its sentence, else to the note's main
cancer. Wording lives in ``data/notes/disease-state.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from trialmatch.data import read_yaml
from trialmatch.patients.notes_context import Assertion, Target
from trialmatch.patients.notes_spans import Claims
from trialmatch.patients.notes_timing import find_times


@cache
def wording() -> dict[str, Any]:
    return read_yaml("notes/disease-state.yaml")



@dataclass(frozen=True)
class Reading:
    id: str
    start: int
    end: int
    #: ConditionFact fields an affirmed reading gives, and those a negated one gives.
    fields: dict[str, Any]
    when_negated: dict[str, Any]
    status: str | None = None
    date_field: str | None = None
    #: Measures to record as lab facts too: (concept id, value, unit).
    labs: list[tuple[str, float, str]] = field(default_factory=list)
    problem: str | None = None


@cache
def _readings() -> list[tuple[dict[str, Any], re.Pattern[str]]]:
    data = wording()
    ordinals = "|".join(sorted(data["ordinals"], key=len, reverse=True))
    sites = "|".join(p for patterns in data["sites"].values() for p in patterns)
    fill = {"{ORD}": f"(?:{ordinals})", "{NUM}": data["numbers"]["NUM"], "{SCI}": data["numbers"]["SCI"],
            "{SITE}": f"(?:{sites})", "{TRANSPLANT}": data["transplant"]}
    compiled = []
    for entry in data["readings"]:
        pattern = str(entry["pattern"])
        for placeholder, value in fill.items():
            pattern = pattern.replace(placeholder, value)
        pattern = _spaced(pattern)
        flags = 0 if entry.get("case") == "exact" else re.IGNORECASE
        compiled.append((entry, re.compile(pattern, flags)))
    return compiled


def _spaced(pattern: str) -> str:
    """A space in a pattern matches any run of spaces or tabs (but a space inside [...] stays itself)."""
    out, in_class, escaped, skip = [], False, False, False
    for index, char in enumerate(pattern):
        if skip:
            skip = False
            continue
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == " " and not in_class:
            optional = pattern[index + 1:index + 2] == "?"
            out.append(r"[ \t]*" if optional else r"[ \t]+")
            skip = optional  # " ?" is an optional space
            continue
        out.append(char)
    return "".join(out)


def find_readings(text: str) -> list[Reading]:
    """Every disease-state reading in the note, in order; the first reading to claim words keeps them."""
    readings: list[Reading] = []
    claims = Claims()
    for entry, pattern in _readings():
        for match in pattern.finditer(text):
            if not claims.free(match.start(), match.end()):
                continue
            reading = _reading(entry, match)
            if reading is not None:
                claims.claim(reading.start, reading.end)
                readings.append(reading)
    return sorted(readings, key=lambda r: r.start)


def _reading(entry: dict[str, Any], match: re.Match[str]) -> Reading | None:
    groups = match.groupdict()
    fields = dict(entry.get("set") or {})
    labs: list[tuple[str, float, str]] = []
    problem = None
    if entry.get("ord") and groups.get("ord"):
        fields[entry["ord"]] = int(wording()["ordinals"][groups["ord"].lower()])
    if entry.get("number") and groups.get("n"):
        number = int(groups["n"])
        fields[entry["number"]] = f"CNS{number}" if entry["number"] == "cns_status" else number
    if groups.get("site"):
        fields["relapse_site"] = _sites(groups["site"])
    if entry.get("value") and groups.get("value"):
        value, problem = _value(entry["value"], groups)
        if value is not None:
            fields[entry["value"]] = value
            measure = wording()["lab_measures"].get(entry["value"])
            if measure:
                labs.append((measure, value, "ratio" if entry["value"] == "mrd" else "%"))
    if not fields and not entry.get("when_negated") and problem is None and entry["id"] != "mrd_positive":
        return None
    return Reading(str(entry["id"]), match.start(), match.end(), fields, dict(entry.get("when_negated") or {}),
                   entry.get("status"), entry.get("date"), labs, problem)


def _value(name: str, groups: dict[str, str | None]) -> tuple[float | None, str | None]:
    written = groups["value"] or ""
    number = parse_level(written)
    if number is None:
        return None, f"unreadable number {written!r}"
    percent = bool(groups.get("unit"))
    if name == "marrow_blasts_percent":
        return (number if 0 <= number <= 100 else None), None
    # MRD: "0.05%" is a percent; "1e-3" and "10^-4" are fractions; a bare "0.05" could be either.
    scientific = bool(re.search(r"e[-−–]|10[ \t]?(?:\^|\*\*)|[x×*]|^10[-−–]", written, re.IGNORECASE))
    if percent:
        number /= 100
    elif not scientific:
        return None, f"MRD {written} without a unit (a percent or a fraction?)"
    if not 0 <= number <= 1:
        return None, f"MRD {written}: not a level"
    if name == "mrd" and groups.get("cmp"):
        # "MRD <0.01%": below the assay's limit, read as negative at that sensitivity.
        return 0.0, None
    return number, None


def parse_level(written: str) -> float | None:
    """A number as notes write MRD levels: "0.05", "1e-3", "1 x 10^-4", "10^-4", "10-4"."""
    text = written.replace("−", "-").replace("–", "-").replace("×", "x").replace("**", "^").replace(" ", "")
    try:
        if match := re.fullmatch(r"(\d+(?:\.\d+)?)[x*]10\^?-(\d+)", text):
            return float(match.group(1)) * 10 ** -int(match.group(2))
        if match := re.fullmatch(r"10\^-?(\d+)|10-(\d+)", text):
            return 10.0 ** -int(match.group(1) or match.group(2))
        return float(text)
    except (ValueError, OverflowError):
        return None


def _sites(written: str) -> list[str]:
    lowered = written.lower()
    if lowered.startswith("combined"):
        return ["marrow", "extramedullary"]
    for site, patterns in wording()["sites"].items():
        if any(re.fullmatch(p, written, re.IGNORECASE) for p in patterns):
            return [site]
    return []


def reading_targets(readings: list[Reading]) -> list[Target]:
    return [Target(r.start, r.end, "STATE", r) for r in readings]


def reading_date(text: str, reading: Reading, sentence_end: int, as_of: dt.date) -> dt.date | None:
    """A date right after a reading ("first relapse in January 2025", "relapsed 3 months ago")."""
    window = text[reading.end:min(sentence_end, reading.end + 40)]
    times = find_times(window, as_of)
    if times and re.fullmatch(r"[\s,(]*(?:in|on|at|since|from|dated)?[\s(]*", window[:times[0].start], re.I):
        return times[0].date
    return None


def updates_for(assertion: Assertion, text: str, as_of: dt.date) -> tuple[dict[str, Any], bool]:
    """The fields one asserted reading gives (none when hypothetical, possible or a relative's)."""
    reading: Reading = assertion.target.payload
    if assertion.possible or assertion.hypothetical or assertion.family:
        return {}, False
    if assertion.negated:
        return dict(reading.when_negated), False
    fields = dict(reading.fields)
    if reading.date_field:
        date = reading_date(text, reading, assertion.sentence_end, as_of)
        if date is not None:
            fields[reading.date_field] = date
    return fields, reading.status == "history"
