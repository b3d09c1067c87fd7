"""Dates and times in clinical notes: "2024-03-05", "March 2024", "3 weeks ago", "last month".

Every time expression becomes a date, counted back from the note's date where it is relative. A note that
gives only a month or a year gives no more: "March 2024" is read as the 1st, "2019" as 1 January. Numeric
dates that could be day/month or month/day (03/05/2024) are left unread rather than guessed. The wording
lives in ``data/notes/timing.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from trialmatch.data import read_yaml
from trialmatch.patients.notes_spans import Claims


@dataclass(frozen=True)
class TimeMention:
    """A time expression at ``start:end`` of the text it was found in."""

    start: int
    end: int
    date: dt.date
    #: The second date of a range ("2019-2021", "from May to July 2024").
    until: dt.date | None = None
    #: day, or month / year when that is all the note gives (the date is then the 1st of it).
    precision: str = "day"


@cache
def wording() -> dict[str, Any]:
    return read_yaml("notes/timing.yaml")


def _month_alternatives() -> str:
    names = sorted(wording()["months"], key=len, reverse=True)
    return "|".join(names)


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    data = wording()
    months = _month_alternatives()
    numbers = "|".join(sorted(map(re.escape, data["numbers"]), key=len, reverse=True))
    units = "|".join(f"(?P<u_{name}>{unit['pattern']})" for name, unit in data["units"].items())
    relative = "|".join(sorted(map(re.escape, data["relative"]), key=len, reverse=True))
    day = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
    month = rf"(?P<m>{months})\.?"
    year = r"(?P<y>(?:19|20)\d\d)"
    single = [
        ("iso", rf"\b{year}-(?P<mn>[01]?\d)-(?P<d>[0-3]?\d)\b"),
        ("day_month_year", rf"\b{day}[ -]{month},?[ -]{year}\b"),
        ("month_day_year", rf"\b{month} {day},? {year}\b"),
        ("month_year", rf"\b{month},? {year}\b"),
        ("numeric", r"\b(?P<a>[0-3]?\d)[/.](?P<b>[0-3]?\d)[/.](?P<y>(?:19|20)\d\d)\b"),
        ("month_slash_year", r"\b(?P<mn>0?[1-9]|1[0-2])/(?P<y>(?:19|20)\d\d)\b"),
        ("year_range", r"\b(?P<y>(?:19|20)\d\d)[ \t]*[-–][ \t]*(?P<y2>(?:19|20)\d\d)\b"),
        ("ago", rf"\b(?P<n>\d{{1,3}}(?:\.\d)?|{numbers})[ -]?(?:{units})[ -]?(?:{data['ago']})"),
        ("relative", rf"\b(?:{relative})\b"),
        # A year alone only after a cue word or a bracket; the mention is the year itself.
        ("year", rf"(?:\b(?:{data['year_cue']})[ \t]+|\(|(?<=[-–]))(?P<y>(?:19|20)\d\d)\b(?!/\d)(?!-[01]\d-)"),
    ]
    return [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in single]


@cache
def _range_pattern() -> re.Pattern[str]:
    return re.compile(r"^[ \t]*(?:-|–|to|until|till|through)[ \t]*$", re.IGNORECASE)


_PRECISION = {"month_year": "month", "month_slash_year": "month", "year": "year", "year_range": "year"}


def find_times(text: str, as_of: dt.date) -> list[TimeMention]:
    """Every time expression in ``text``, leftmost first and without overlaps; ranges joined."""
    found: list[TimeMention] = []
    taken = Claims()
    for name, pattern in _patterns():
        for match in pattern.finditer(text):
            if not taken.free(match.start(), match.end()):
                continue
            date = _date(name, match, as_of)
            start = match.start("y") if name == "year" else match.start()
            if date is None:
                if name == "numeric":  # ambiguous day/month: no part of it is read as another date
                    taken.claim(start, match.end())
                continue
            taken.claim(start, match.end())
            until = dt.date(int(match.group("y2")), 1, 1) if name == "year_range" else None
            found.append(TimeMention(start, match.end(), date, until, _PRECISION.get(name, "day")))
    found.sort(key=lambda t: t.start)
    return _join_ranges(text, found)


def _join_ranges(text: str, times: list[TimeMention]) -> list[TimeMention]:
    joined: list[TimeMention] = []
    for time in times:
        if joined and _range_pattern().match(text[joined[-1].end:time.start]) and joined[-1].until is None:
            first = joined.pop()
            precision = "day" if first.precision == time.precision == "day" else "month"
            joined.append(TimeMention(first.start, time.end, first.date, time.date, precision))
        else:
            joined.append(time)
    return joined


def _date(name: str, match: re.Match[str], as_of: dt.date) -> dt.date | None:
    data = wording()
    groups = match.groupdict()
    try:
        if name == "ago":
            return _ago(groups, as_of)
        if name == "relative":
            return as_of - dt.timedelta(days=int(data["relative"][_spaces(match.group(0).lower())]))
        year = int(groups["y"])
        if name in ("year", "year_range"):
            return dt.date(year, 1, 1)
        if name == "numeric":
            return _numeric(int(groups["a"]), int(groups["b"]), year)
        month = int(groups["mn"]) if groups.get("mn") else int(data["months"][groups["m"].lower()])
        day = int(groups["d"]) if groups.get("d") else 1
        return dt.date(year, month, day)
    except (ValueError, KeyError, OverflowError):
        return None


def _spaces(text: str) -> str:
    return " ".join(text.split())


def _ago(groups: dict[str, str | None], as_of: dt.date) -> dt.date | None:
    data = wording()
    raw = (groups["n"] or "").lower()
    amount = float(data["numbers"].get(raw, 0)) if raw in data["numbers"] else float(raw)
    for name, unit in data["units"].items():
        if groups.get(f"u_{name}"):
            return as_of - dt.timedelta(days=round(amount * float(unit["days"])))
    return None


def _numeric(first: int, second: int, year: int) -> dt.date | None:
    """Day/month or month/day: only when the reading is the same either way, or one part is over 12."""
    if first == second or second > 12:
        return dt.date(year, first, second) if second > 12 else dt.date(year, first, first)
    if first > 12:
        return dt.date(year, second, first)
    return None


def note_date(text: str) -> dt.date | None:
    """The note's own date ("Date of visit: 12 March 2025"), if it states one near the top."""
    match = re.search(wording()["note_date"], text[:2000], re.IGNORECASE)
    if match is None:
        first_line = text.lstrip()[:200].split("\n", 1)[0]
        full = [t for t in find_times(first_line, dt.date.today()) if _full_date(first_line[t.start:t.end])]
        return full[0].date if full else None
    line_end = text.find("\n", match.end())
    line = text[match.end(): line_end if line_end != -1 else len(text)]
    times = [t for t in find_times(line, dt.date.today()) if t.start < 3]
    return times[0].date if times else None


def _full_date(written: str) -> bool:
    """A date with its day ("14 October 2025", "2025-10-14"), not a month or a time ago."""
    return bool(re.search(r"\d{4}", written)) and len(re.findall(r"\d+", written)) >= 2


def cue_pattern(words: list[str]) -> re.Pattern[str]:
    """One pattern for a list of cue expressions, as whole words."""
    return re.compile(r"(?<![\w-])(?:" + "|".join(f"(?:{w})" for w in words) + r")(?![\w-])", re.IGNORECASE)
