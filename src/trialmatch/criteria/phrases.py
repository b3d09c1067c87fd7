"""Numbers, comparators and durations as criteria write them: "≥1,000", "at least 18", "10^-4", "six weeks".

The wording lives in ``data/criteria/phrases.yaml``; this module compiles it into regular expressions
that recognisers embed (``NUMBER``, ``COMPARATOR``, ``DURATION`` …) and parsers for what they capture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import cast

from trialmatch.criteria.rules import Comparator, Duration, TimeUnit
from trialmatch.data import read_yaml

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_FLIP: dict[str, Comparator] = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


@dataclass(frozen=True)
class Phrases:
    comparators_before: dict[str, tuple[str, ...]]
    comparators_after: dict[str, tuple[str, ...]]
    number_words: dict[str, float]
    time_units: dict[str, tuple[str, ...]]


@cache
def load_phrases() -> Phrases:
    raw = read_yaml("criteria/phrases.yaml")
    return Phrases(
        comparators_before={k: tuple(v) for k, v in raw["comparators_before"].items()},
        comparators_after={k: tuple(v) for k, v in raw["comparators_after"].items()},
        number_words={str(k): float(v) for k, v in raw["number_words"].items()},
        time_units={k: tuple(v) for k, v in raw["time_units"].items()},
    )


def _alternation(fragments: list[str]) -> str:
    # Longest first, so "greater than or equal to" wins over "greater than".
    return "|".join(sorted(fragments, key=len, reverse=True))


def _spaced(fragment: str) -> str:
    return fragment.replace(" ", r"\s+")


_P = load_phrases()
_BEFORE_LOOKUP = {re.sub(r"\s+", " ", p): c for c, ps in _P.comparators_before.items() for p in ps}

#: A number: "1,000", "1.5", ".5", "10^-4", "10-4" after "10^", "1 x 10^9", "1x10⁹", or a number word.
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|\.\d+)"
_POWER = r"10\s*(?:\^|\*\*|e)\s*[-−–]?\s*\d+|10[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+"
NUMBER = (rf"(?:{_DIGITS}\s*[x×\*]\s*(?:{_POWER})|{_POWER}|{_DIGITS}"
          rf"|\b(?:{_alternation([re.escape(w) for w in _P.number_words])})\b)")

COMPARATOR = rf"(?:{_alternation([_spaced(p) for ps in _P.comparators_before.values() for p in ps])})"
COMPARATOR_AFTER = rf"(?:{_alternation([_spaced(p) for ps in _P.comparators_after.values() for p in ps])})"

_UNIT_ALTERNATIVES = {unit: _alternation([_spaced(s) for s in spellings]) for unit, spellings in _P.time_units.items()}
TIME_UNIT = rf"(?:{_alternation([_spaced(s) for ss in _P.time_units.values() for s in ss])})"
#: A duration: "12 weeks", "six weeks", "30-days", "4 wks".
DURATION = rf"(?:{NUMBER})\s*(?:-\s*)?(?:{TIME_UNIT})\b"

_NUMBER_RE = re.compile(NUMBER, re.IGNORECASE)
_TIME_UNIT_RES = {unit: re.compile(rf"^(?:{alt})$", re.IGNORECASE) for unit, alt in _UNIT_ALTERNATIVES.items()}
_DURATION_PARTS = re.compile(rf"(?P<n>{NUMBER})\s*(?:-\s*)?(?P<u>{TIME_UNIT})\b", re.IGNORECASE)


def parse_number(text: str) -> float:
    """The value of a NUMBER match. Raises ValueError for anything else."""
    raw = " ".join(text.translate(_SUPERSCRIPTS).lower().split()).replace("−", "-").replace("–", "-")
    if raw in _P.number_words:
        return _P.number_words[raw]
    power = re.fullmatch(r"(?:(?P<m>[\d.,]+)\s*[x×*]\s*)?10\s*(?P<op>\^|\*\*|e)?\s*(?P<e>-?\s*\d+)", raw)
    # "10⁹" reads as "109" once folded: a power only when the text wrote one ("100 days" is a hundred days).
    if power and (power.group("op") or power.group("m") or power.group("e").startswith("-")
                  or text != text.translate(_SUPERSCRIPTS)):
        mantissa = float(power.group("m").replace(",", "")) if power.group("m") else 1.0
        return mantissa * 10 ** int(power.group("e").replace(" ", ""))
    return float(raw.replace(",", ""))


def parse_comparator(text: str) -> Comparator:
    """The comparator a COMPARATOR match means ("at least" → ">=")."""
    key = " ".join(text.lower().split())
    if key in _BEFORE_LOOKUP:
        return cast(Comparator, _BEFORE_LOOKUP[key])
    for comparator, patterns in _P.comparators_before.items():
        if any(re.fullmatch(p, key) for p in patterns):
            return cast(Comparator, comparator)
    raise ValueError(f"not a comparator: {text!r}")


def parse_comparator_after(text: str) -> Comparator:
    """The comparator a COMPARATOR_AFTER match means ("or older" → ">=")."""
    key = " ".join(text.lower().split())
    for comparator, patterns in _P.comparators_after.items():
        if any(re.fullmatch(_spaced(p), key) for p in patterns):
            return cast(Comparator, comparator)
    raise ValueError(f"not a trailing comparator: {text!r}")


def flip(comparator: Comparator) -> Comparator:
    """The comparator with its sides swapped: ``a < x`` is ``x > a``."""
    return _FLIP[comparator]


def parse_time_unit(text: str) -> TimeUnit:
    key = " ".join(text.split())
    for unit, pattern in _TIME_UNIT_RES.items():
        if pattern.match(key):
            return cast(TimeUnit, unit)
    raise ValueError(f"not a time unit: {text!r}")


def parse_duration(text: str) -> Duration:
    """The Duration in a DURATION match ("six weeks" → 6 weeks)."""
    match = _DURATION_PARTS.search(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return Duration(value=parse_number(match.group("n")), unit=parse_time_unit(match.group("u")))


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text``."""
    out = []
    for match in _NUMBER_RE.finditer(text):
        try:
            out.append(parse_number(match.group(0)))
        except ValueError:
            continue
    return out
