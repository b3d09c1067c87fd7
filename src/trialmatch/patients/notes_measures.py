"""Lab values and performance status in a clinical note: "ANC 1.2 x10^9/L", "platelets 85,000/uL",
"bilirubin 2x ULN", "ECOG 1", "Karnofsky 80%", "Lansky 70".

A lab's name is found with the project's vocabulary; its value must follow within a few filler words, and
its unit is read with the project's clinical unit spellings (``trialmatch.criteria.units``). A bound ("<0.01")
or a range ("ECOG 0-1") is not a value: it is left for a question rather than guessed. Wording lives in
``data/notes/measures.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from trialmatch.criteria.units import fold, limit_of_normal, normalise_unit, unit_pattern
from trialmatch.data import read_yaml
from trialmatch.patients.facts import LabFact, PerformanceFact, Source
from trialmatch.vocabulary import Vocabulary


@cache
def _wording() -> dict[str, Any]:
    return read_yaml("notes/measures.yaml")


@cache
def _lab_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    labs = _wording()["labs"]
    return (re.compile(labs["between"], re.IGNORECASE), re.compile(labs["value"], re.IGNORECASE),
            re.compile(r"[ \t]*(?P<unit>" + unit_pattern() + ")", re.IGNORECASE),
            re.compile(labs["times_limit"], re.IGNORECASE))


@dataclass(frozen=True)
class LabReading:
    fact: LabFact | None
    start: int
    end: int
    #: Why a value next to a lab was not recorded, if it wasn't.
    problem: str | None = None


def read_labs(text: str, start: int, vocabulary: Vocabulary, date: dt.date | None, source_for: Any) -> list[LabReading]:
    """Lab values in one sentence (``text`` begins at ``start`` of the note)."""
    labs = _wording()["labs"]
    skipped = set(labs["read_elsewhere"])
    between, value_pattern, unit_after, times_limit = _lab_patterns()
    folded = fold(text)  # same length: offsets stay valid
    mentions = [m for m in vocabulary.find(text, {"lab", "measure"}) if m.concept.id not in skipped]
    readings: list[LabReading] = []
    for index, mention in enumerate(mentions):
        limit = mentions[index + 1].start if index + 1 < len(mentions) else len(text)
        gap = between.match(folded, mention.end, min(limit, mention.end + int(labs["max_gap"])))
        value = value_pattern.match(folded, gap.end() if gap else mention.end, limit)
        if value is None:
            continue
        end = value.end()
        source = source_for(start + mention.start, start + end)
        if value.group("cmp"):
            readings.append(LabReading(None, start + mention.start, start + end,
                                       f"{mention.text}: a bound ({text[value.start():end].strip()}), not a value"))
            continue
        number = float(value.group("num").replace(",", ""))
        multiple = times_limit.match(folded, end, limit)
        if multiple is not None:
            readings.append(_multiple_of_limit(mention, number, multiple, start, source, date))
            continue
        unit_match = unit_after.match(folded, end, limit)
        unit = None
        if unit_match is not None:
            unit = normalise_unit(unit_match.group("unit")) or unit_match.group("unit").strip()
            end = unit_match.end()
        elif "," in value.group("num"):
            unit = str(labs["thousands_unit"])  # "platelets 85,000": a count per microlitre
        fact = LabFact(analyte=mention.concept.id, name=mention.text, value=number, unit=unit, date=date,
                       source=source_for(start + mention.start, start + end))
        readings.append(LabReading(fact, start + mention.start, start + end))
    return readings


def _multiple_of_limit(mention: Any, number: float, multiple: re.Match[str], start: int, source: Source,
                       date: dt.date | None) -> LabReading:
    """"bilirubin 2x ULN": the value is the multiple of the documented default limit, which is kept as the range."""
    which = "uln" if multiple.group("limit").lower().startswith(("uln", "upper")) else "lln"
    limit = limit_of_normal(mention.concept, which)  # type: ignore[arg-type]
    end = start + multiple.end()
    if limit is None:
        return LabReading(None, start + mention.start, end,
                          f"{mention.text}: {number:g} x {which.upper()} with no documented default limit")
    limit_value, unit = limit
    bounds = {"high": limit_value} if which == "uln" else {"low": limit_value}
    fact = LabFact(analyte=mention.concept.id, name=mention.text, value=round(number * limit_value, 6), unit=unit,
                   date=date, source=source, **bounds)
    return LabReading(fact, start + mention.start, end)


@cache
def _performance_patterns() -> list[tuple[str, re.Pattern[str]]]:
    data = _wording()["performance"]
    out = []
    for scale, names in data["scales"].items():
        alternatives = "|".join(sorted(names, key=len, reverse=True))
        out.append((scale, re.compile(rf"\b(?:{alternatives})\b{data['value']}", re.IGNORECASE)))
    return out


@dataclass(frozen=True)
class PerformanceReading:
    fact: PerformanceFact | None
    start: int
    end: int
    problem: str | None = None


def read_performance(text: str, start: int, date: dt.date | None, source_for: Any) -> list[PerformanceReading]:
    """Performance status in one sentence; a range or an impossible score is reported, not recorded."""
    valid = _wording()["performance"]["valid"]
    readings: list[PerformanceReading] = []
    for scale, pattern in _performance_patterns():
        for match in pattern.finditer(text):
            if any(r.start < start + match.end() and start + match.start() < r.end for r in readings):
                continue
            span = (start + match.start(), start + match.end())
            value = int(match.group("value"))
            written = text[match.start():match.end()].strip()
            if match.group("range"):
                readings.append(PerformanceReading(None, *span, f"{written}: a range, not one score"))
            elif value not in valid[scale]:
                readings.append(PerformanceReading(None, *span, f"{written}: not a {scale} score"))
            else:
                fact = PerformanceFact(scale=scale, value=value, date=date, source=source_for(*span))  # type: ignore[arg-type]
                readings.append(PerformanceReading(fact, *span))
    return readings
