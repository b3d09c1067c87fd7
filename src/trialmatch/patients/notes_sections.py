"""Sections of a clinical note ("Family history:", "Current medications:") and what they say about facts.

A header stands at the start of a line and ends with a colon or its line. A section runs to the next header
or to the first blank line after some text of its own, so a one-line "FH: mother - breast cancer" does not
make the rest of the note a relative's. Header wording and effects live in ``data/notes/sections.yaml``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from typing import Any

from trialmatch.data import read_yaml


@dataclass(frozen=True)
class Section:
    kind: str
    #: The header's characters (``header_end`` is where the section's own text starts).
    start: int
    header_end: int
    end: int
    effects: dict[str, Any]

    def covers(self, position: int) -> bool:
        return self.header_end <= position < self.end


@cache
def _wording() -> dict[str, Any]:
    return read_yaml("notes/sections.yaml")


@cache
def _header_pattern() -> tuple[re.Pattern[str], dict[str, tuple[str, dict[str, Any]]]]:
    """One pattern with a named group per section kind, and each group's kind and effects."""
    groups: dict[str, tuple[str, dict[str, Any]]] = {}
    parts = []
    for index, section in enumerate(_wording()["sections"]):
        name = f"s{index}"
        effects = {k: v for k, v in section.items() if k not in ("id", "headers")}
        groups[name] = (str(section["id"]), effects)
        alternatives = "|".join(h.replace(" ", r"[ \t]+") for h in section["headers"])
        parts.append(f"(?P<{name}>{alternatives})")
    # At a line start, after optional markup; then an optional bracket (a date), then ":" or the line's end.
    pattern = (r"^[ \t]*(?:[#*=>]+[ \t]*)?(?:" + "|".join(parts) + r")[ \t]*(?:\([^()\n]{0,40}\))?[ \t]*"
               r"(?:\*\*)?(?::|[ \t]*$)")
    return re.compile(pattern, re.IGNORECASE | re.MULTILINE), groups


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def find_sections(text: str) -> Sections:
    """The note's sections in order (text before the first header belongs to none)."""
    pattern, groups = _header_pattern()
    headers: list[tuple[int, int, str, dict[str, Any]]] = []
    for match in pattern.finditer(text):
        name = next((g for g, value in match.groupdict().items() if value is not None), None)
        if name is None:
            continue
        kind, effects = groups[name]
        headers.append((match.start(), match.end(), kind, effects))
    sections = []
    for index, (start, header_end, kind, effects) in enumerate(headers):
        limit = headers[index + 1][0] if index + 1 < len(headers) else len(text)
        sections.append(Section(kind, start, header_end, _section_end(text, header_end, limit), effects))
    return Sections(sections)


def _section_end(text: str, header_end: int, limit: int) -> int:
    """The next header, or the first blank line after the section has some text of its own."""
    body_start = header_end
    while body_start < limit and text[body_start].isspace():
        body_start += 1
    blank = _BLANK_LINE.search(text, body_start, limit)
    return blank.start() if blank else limit


class Sections(list[Section]):
    """A note's sections in order; ``at`` finds the one holding a position in logarithmic time."""

    def __init__(self, sections: list[Section]) -> None:
        super().__init__(sections)
        self._body_starts = [s.header_end for s in sections]

    def at(self, position: int) -> Section | None:
        index = bisect_right(self._body_starts, position) - 1
        return self[index] if index >= 0 and self[index].covers(position) else None
