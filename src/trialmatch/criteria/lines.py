"""Lines of a criteria text with their offsets, and the bullet or number that starts a line."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BREAK = re.compile(r"\r\n|\r|\n")
# Bullets: markdown "*", "-", "+", "\-" (escaped), typographic bullets, and "o" used as a bullet.
# A dash may touch an upper-case word ("-Patients must ..."); every other bullet needs a space after it.
_BULLET = r"(?:\\[-*+]|-{1,2}(?=\s|[A-Z(])|[–—](?=\s)|[*•·▪◦●○■□➢►✓∙+](?=\s)|o(?=\s))"
# Numbers: "1." "1)" "(1)" "a." "a)" "(a)" "iv." "(iv)" "1.2" — always followed by a space.
_NUMBER = (r"(?:\((?P<p>\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{2,6})\)|(?P<n>\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{2,6})[.)]"
           r"|(?P<sub>\d{1,2}(?:\.\d{1,2}){1,3})\.?)(?=\s)")
_MARKER = re.compile(rf"(?P<bullet>{_BULLET})?(?:\s*(?P<number>{_NUMBER}))?")
_TERMINAL = frozenset(".:;!?")
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


@dataclass(frozen=True, slots=True)
class Line:
    start: int  # first non-whitespace character
    end: int  # after the last non-whitespace character
    col: int  # indentation width (a tab counts 4)
    blank_before: bool  # a blank line (or the text start) precedes it


@dataclass(frozen=True, slots=True)
class Marker:
    start: int
    end: int
    text_start: int  # first character of the item's own text, == Line.end when the marker stands alone
    ordered: bool  # a number or letter, not a bullet
    bullet: str  # the bullet character(s), "" for a bare number
    style: str  # numbering style ("1.", "(a)", "i)" ...), "" for a bare bullet
    values: tuple[int, ...]  # the number's possible values (letter and roman readings of "i")


def read_lines(text: str) -> list[Line]:
    """Non-blank lines with offsets; a line break is \\n, \\r\\n or \\r."""
    lines: list[Line] = []
    blank = True
    position = 0
    for brk in _BREAK.finditer(text):
        blank = _add_line(text, position, brk.start(), blank, lines)
        position = brk.end()
    _add_line(text, position, len(text), blank, lines)
    return lines


def _add_line(text: str, start: int, end: int, blank_before: bool, lines: list[Line]) -> bool:
    """Appends the line if it has text; returns whether the next line follows a blank one."""
    raw = text[start:end]
    stripped = raw.lstrip()
    if not stripped:
        return True
    indent = raw[: len(raw) - len(stripped)]
    lines.append(Line(start + len(indent), start + len(raw.rstrip()), len(indent) + 3 * indent.count("\t"),
                      blank_before))
    return False


def read_marker(text: str, line: Line) -> Marker | None:
    """The bullet and/or number at the line's start, if any."""
    match = _MARKER.match(text, line.start, line.end)
    if match is None or match.end() == line.start:
        return None
    text_start = match.end()
    while text_start < line.end and text[text_start].isspace():
        text_start += 1
    number = match.group("number")
    style, values = _numbering(match) if number else ("", ())
    return Marker(line.start, match.end(), text_start, bool(number), match.group("bullet") or "", style, values)


def _numbering(match: re.Match[str]) -> tuple[str, tuple[int, ...]]:
    """The numbering style and the candidate values of a number such as "3.", "(b)", "iv)"."""
    if match.group("sub"):
        parts = match.group("sub").split(".")
        return "1.1", (int(parts[-1]),)
    token = match.group("p") or match.group("n") or ""
    closer = "()" if match.group("p") else match.group("number")[-1]
    if token.isdigit():
        return "1" + closer, (int(token),)
    values: list[int] = []
    kind = "a" if token.islower() else "A"
    if len(token) == 1:
        values.append(ord(token.lower()) - ord("a") + 1)
    roman = _roman(token.lower())
    if roman:
        values.append(roman)
        if len(token) > 1:
            kind = "i" if token.islower() else "I"
    return kind + closer, tuple(values)


def _roman(token: str) -> int:
    """The value of a small roman numeral, 0 if it is not one."""
    if not token or any(ch not in _ROMAN for ch in token):
        return 0
    total = 0
    for index, ch in enumerate(token):
        value = _ROMAN[ch]
        following = _ROMAN[token[index + 1]] if index + 1 < len(token) else 0
        total += -value if value < following else value
    return total if total > 0 else 0


def ends_sentence(text: str, line: Line) -> bool:
    """Whether the line ends with sentence or clause punctuation (so the next line starts afresh)."""
    return text[line.end - 1] in _TERMINAL


class Numbering:
    """Tracks the last value of each numbering style, so "(3) weeks" inside a wrapped sentence is not
    read as item 3 unless an item 2 came before it."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def accept(self, marker: Marker, fresh: bool) -> bool:
        """Whether an ordered marker starts an item; ``fresh`` says the line starts a paragraph or sentence."""
        last = self._last.get(marker.style, 0)
        in_sequence = any(value == 1 or last < value <= last + 2 for value in marker.values)
        if not (in_sequence or fresh or marker.bullet):
            return False
        in_order = [v for v in marker.values if last < v <= last + 2]
        self._last[marker.style] = in_order[0] if in_order else marker.values[0]
        return True

    def reset(self) -> None:
        self._last.clear()
