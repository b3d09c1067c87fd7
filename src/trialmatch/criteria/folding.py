"""Cheap tests before expensive patterns (speed only: they never change what is read).

A case-insensitive pattern is much slower in ``re`` than a lower-case one: it can't skip ahead to a literal
prefix. ``folded_pattern`` rewrites such a pattern to match the ``fold``-ed text (same offsets), and
``pattern_needs`` reads the words every match must contain, so a text without them is skipped at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from re import _compiler, _constants, _parser  # the parsed form of a pattern: what every match must contain
from typing import Any


def fold(text: str) -> str:
    """``text`` lower-cased as IGNORECASE patterns see it, character for character (same offsets)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD).lower()


#: Characters whose lower case is not one character, or that IGNORECASE matches to an ASCII letter.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


class Needs:
    """Words every match of a pattern contains (lower-cased): groups that must each have a word in the text."""

    __slots__ = ("groups",)

    def __init__(self, groups: list[tuple[str, ...]]) -> None:
        # Very short words ("to") are in nearly every text: they tell nothing unless nothing else is known.
        self.groups = tuple(g for g in groups if min(map(len, g)) >= _TELLING) or tuple(groups[:1])

    def met(self, folded: str) -> bool:
        """False when the text (folded) lacks the words: the pattern can't match."""
        for group in self.groups:
            for word in group:
                if word in folded:
                    break
            else:
                return False
        return True


_TELLING = 3


def folded_pattern(source: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """A case-insensitive pattern as a lower-case one, to match on ``fold(text)`` (same offsets, and much
    faster than IGNORECASE). Escapes ("\\S") and group syntax keep their case."""
    if not flags & re.IGNORECASE:
        return re.compile(source, flags)
    return scanning(_lowered(source), flags & ~re.IGNORECASE)


def _lowered(source: str) -> str:
    """The pattern's literals lower-cased; escapes and group syntax keep their case."""
    out: list[str] = []
    position = 0
    while position < len(source):
        if source[position] == "\\":
            out.append(source[position : position + 2])
            position += 2
        elif source.startswith("(?P", position):
            out.append("(?P")
            position += 3
        else:
            out.append(source[position].lower())
            position += 1
    return "".join(out)


def pattern_needs(source: str, flags: int = re.IGNORECASE) -> Needs:
    """The words every match of the pattern contains, read from the parsed pattern: literal runs, and for an
    alternation the most telling group of each alternative."""
    return Needs([group for group in _sequence_needs(_parser.parse(source, flags).data) if group])


def _sequence_needs(items: Any) -> list[tuple[str, ...]]:
    groups: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, value in items:
        char = chr(value) if op is _constants.LITERAL else ""
        if char and (char.isascii() or char.lower() == char.upper()):
            run.append(char.lower())
            continue
        # A cased letter outside ASCII may match another letter under IGNORECASE ("µ", "μ"): not required.
        if run:
            groups.append(("".join(run),))
            run = []
        if op is _constants.SUBPATTERN:
            groups += _sequence_needs(value[3].data)
        elif op is _constants.ATOMIC_GROUP:
            groups += _sequence_needs(value.data)
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT) and value[0] >= 1:
            groups += _sequence_needs(value[2].data)
        elif op is _constants.BRANCH:
            best = [most_telling(_sequence_needs(alternative.data)) for alternative in value[1]]
            if all(best):
                groups.append(tuple(dict.fromkeys(word for words in best for word in words)))
    if run:
        groups.append(("".join(run),))
    return groups


def most_telling(groups: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The most telling group: the one whose shortest word is longest."""
    return max(groups, key=lambda group: min(len(word) for word in group), default=())


@lru_cache(maxsize=64)
def folded_text(text: str) -> str:
    """``fold(text)``, kept for the few passages being read (each is looked at by several patterns)."""
    return fold(text)


class Alternatives:
    """A case-insensitive pattern written as a list of alternatives, each matched lower-case on the folded text
    and only when the text has the words it needs (much faster than one alternation)."""

    def __init__(self, sources: str | list[str]) -> None:
        sources = [sources] if isinstance(sources, str) else sources
        self.parts = tuple((folded_pattern(source), pattern_needs(source)) for source in sources)

    @lru_cache(maxsize=64)  # noqa: B019 - one instance per wording, cached for good
    def _candidates(self, folded: str) -> tuple[re.Pattern[str], ...]:
        return tuple(pattern for pattern, needs in self.parts if needs.met(folded))

    @lru_cache(maxsize=256)  # noqa: B019
    def search_before(self, text: str, end: int) -> bool:
        """True when an alternative matches in ``text[:end]``."""
        folded = folded_text(text)
        return any(pattern.search(folded, 0, end) for pattern in self._candidates(folded))


class Scanner:
    """A pattern compiled with ``scanning`` that is not even tried on a text without the words every match of it
    contains (``pattern_needs``). ``search`` and ``finditer`` find what the pattern finds.

    A case-insensitive pattern is looked for lower-case on the folded text (``folded_pattern``, much faster) and
    then matched on the text itself where it was found, so the match is the pattern's own, groups in their case.
    """

    __slots__ = ("_locator", "needs", "pattern")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.pattern = scanning(source, flags)
        self.needs = pattern_needs(source, flags)
        self._locator = folded_pattern(source, flags) if _locatable(source, flags) else None

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        folded = folded_text(text)
        if not self.needs.met(folded):
            return None
        if self._locator is None:
            return self.pattern.search(text, pos, endpos)
        hit = self._locator.search(folded, pos, endpos)
        return None if hit is None else self._at(text, hit.start(), endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        folded = folded_text(text)
        if not self.needs.met(folded):
            return iter(())
        if self._locator is None:
            return self.pattern.finditer(text, pos, endpos)
        return self._located(text, folded, pos, endpos)

    def _located(self, text: str, folded: str, pos: int, endpos: int) -> Iterator[re.Match[str]]:
        # No match is empty (``_locatable``), so each search starts where the last match ended, as in ``finditer``.
        while (hit := self._locator.search(folded, pos, endpos)) is not None:
            match = self._at(text, hit.start(), endpos)
            if match is None:
                return
            yield match
            pos = match.end()

    def _at(self, text: str, start: int, endpos: int) -> re.Match[str] | None:
        # The located start is where the pattern matches; ``search`` from there is the safe path if it did not.
        return self.pattern.match(text, start, endpos) or self.pattern.search(text, start, endpos)

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.pattern.match(text, pos, endpos)

    def fullmatch(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.pattern.fullmatch(text, pos, endpos)


#: Inline flags, and named characters: lower-casing the pattern would change what they mean.
_CASE_SENSITIVE_PARTS = re.compile(r"\(\?[aiLmsux-]|\\N")


def _locatable(source: str, flags: int) -> bool:
    """True when matches of the case-insensitive pattern can be located with ``folded_pattern``: no inline flags,
    no cased letter outside ASCII ("µ" also matches "μ"), and no empty match (``finditer`` would step past it)."""
    return (bool(flags & re.IGNORECASE) and not _CASE_SENSITIVE_PARTS.search(source)
            and not any(not char.isascii() and char.lower() != char.upper() for char in source)
            and _parser.parse(source, flags).getwidth()[0] > 0)


class FoldedSpans:
    """A case-insensitive pattern whose matches are only wanted as spans, matched lower-case on the folded text
    (``folded_pattern``). Each top-level alternative is kept only for a text that has the words it needs: an
    alternative that can't match anywhere in the text changes nothing when left out of the alternation."""

    __slots__ = ("_compiled", "_plain", "parts")

    def __init__(self, source: str) -> None:
        alternatives = top_level_alternatives(source) if not _NUMBERED_REFERENCE.search(source) else [source]
        self.parts = tuple((_lowered(alternative), pattern_needs(alternative)) for alternative in alternatives)
        self._compiled: dict[tuple[int, ...], re.Pattern[str]] = {}
        # A cased letter outside ASCII ("µ" also matches "μ") can't be matched lower-case: such a pattern keeps
        # IGNORECASE on the text itself.
        cased = any(not char.isascii() and char.lower() != char.upper() for char in source)
        self._plain = scanning(source, re.IGNORECASE) if cased else None

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of each match ``finditer`` finds in ``text``, case-insensitively."""
        folded = folded_text(text)
        if self._plain is not None:
            met = any(needs.met(folded) for _, needs in self.parts)
            return [match.span() for match in self._plain.finditer(text)] if met else []
        kept = tuple(index for index, (_, needs) in enumerate(self.parts) if needs.met(folded))
        if not kept:
            return []
        pattern = self._compiled.get(kept)
        if pattern is None:
            pattern = self._compiled[kept] = scanning("|".join(self.parts[index][0] for index in kept))
        return [match.span() for match in pattern.finditer(folded)]


#: A back reference by number: leaving alternatives out would renumber the groups it refers to.
_NUMBERED_REFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def top_level_alternatives(source: str) -> list[str]:
    """``source`` split at each "|" outside groups and character classes."""
    parts: list[str] = []
    depth, start, position, in_class = 0, 0, 0, False
    while position < len(source):
        char = source[position]
        if char == "\\":
            position += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source.startswith("]", position + 1) or source.startswith("^]", position + 1):
                position += 1 + source.startswith("^", position + 1)  # a "]" first in a class is a member
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(source[start:position])
            start = position + 1
        position += 1
    parts.append(source[start:])
    return parts


# --- a first-character test before a pattern that is tried at every position ---------------------------

def first_characters(source: str, flags: int = 0) -> str | None:
    """A lookahead body that the first character of every match of the pattern passes (``"[<>≥\\d]"``), or
    None when that can't be told: the pattern may match an empty string, or start with any character."""
    items, nullable = _first(_parser.parse(source, flags).data, "")
    if items is None or nullable or not items:
        return None
    classes = []
    for scope in sorted({scope for _, scope in items}):
        members = "".join(sorted(item for item, where in items if where == scope))
        classes.append(f"[{members}]" if not scope else f"(?{scope}:[{members}])")
    return "|".join(classes)


def scanning(source: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(source, flags)`` with a lookahead for the first character of a match: the same matches, but a
    position where no match can start is passed over at once instead of trying every alternative there."""
    parsed = _parser.parse(source, flags)
    first = None if _skips_ahead(parsed) else first_characters(source, flags)
    if first is not None:
        try:
            return re.compile(f"(?={first})(?:{source})", flags)
        except re.error:
            pass  # global flags inside the pattern ("(?i)…") must stay at its start
    return re.compile(source, flags)


def _skips_ahead(parsed: Any) -> bool:
    """True when ``re`` itself skips to where a match can start: a literal prefix, or a first-character set (which
    a lookahead would hide from it)."""
    flags = parsed.state.flags
    try:
        prefix, _, _ = _compiler._get_literal_prefix(parsed, flags)
        return bool(prefix) or bool(_compiler._get_charset_prefix(parsed, flags))
    except Exception:  # a private helper of ``re`` that may change: then add the lookahead
        return False


_CATEGORY_CLASS = {
    _constants.CATEGORY_DIGIT: r"\d", _constants.CATEGORY_NOT_DIGIT: r"\D",
    _constants.CATEGORY_SPACE: r"\s", _constants.CATEGORY_NOT_SPACE: r"\S",
    _constants.CATEGORY_WORD: r"\w", _constants.CATEGORY_NOT_WORD: r"\W",
}


def _class_char(code: int) -> str:
    return re.escape(chr(code))


def _first(items: Any, scope: str) -> tuple[set[tuple[str, str]] | None, bool]:
    """The class items the first character of a match of this sequence is in (None: any), each with the case
    flag of its group ("i", "-i" or "" for the pattern's own), and whether the sequence may match nothing."""
    out: set[tuple[str, str]] = set()
    for op, value in items:
        if op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
            continue  # zero-width: the first character is the next item's
        if op is _constants.LITERAL:
            out.add((_class_char(value), scope))
            return out, False
        if op is _constants.IN:
            for kind, member in value:
                if kind is _constants.LITERAL:
                    out.add((_class_char(member), scope))
                elif kind is _constants.RANGE:
                    out.add((f"{_class_char(member[0])}-{_class_char(member[1])}", scope))
                elif kind is _constants.CATEGORY and member in _CATEGORY_CLASS:
                    out.add((_CATEGORY_CLASS[member], scope))
                else:
                    return None, False  # a negated class, or a category not written as an escape
            return out, False
        if op is _constants.SUBPATTERN:
            if (value[1] | value[2]) & ~re.IGNORECASE:
                return None, False  # a group with other flags of its own
            inner, nullable = _first(value[3].data, "i" if value[1] else "-i" if value[2] else scope)
        elif op is _constants.ATOMIC_GROUP:
            inner, nullable = _first(value.data, scope)
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT):
            inner, nullable = _first(value[2].data, scope)
            nullable = nullable or value[0] == 0
        elif op is _constants.BRANCH:
            inner, nullable = set(), False
            for alternative in value[1]:
                found, empty = _first(alternative.data, scope)
                if found is None:
                    return None, False
                inner |= found
                nullable = nullable or empty
        else:
            return None, False  # any character, a back reference, a conditional group …
        if inner is None:
            return None, False
        out |= inner
        if not nullable:
            return out, False
    return out, True
