"""The compiler's speed-ups for regular expressions must find exactly what the plain patterns find.

``scanning`` adds a first-character lookahead, ``Scanner`` skips texts without the words a match needs; both are
checked against ``re.compile`` on real criteria texts from the shared corpus and on the traps of case folding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trialmatch.criteria.folding import (
    FoldedSpans,
    Scanner,
    first_characters,
    pattern_needs,
    scanning,
    top_level_alternatives,
)
from trialmatch.criteria.phrases import COMPARATOR, DURATION, NUMBER
from trialmatch.data import read_yaml

CORPUS = Path("/work/shared/data/criteria-corpus/hint-trials.jsonl")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    if not CORPUS.exists():
        pytest.skip("criteria corpus not available")
    out: list[str] = []
    with CORPUS.open(encoding="utf-8") as handle:
        for line in handle:
            criteria = json.loads(line).get("criteria")
            if criteria:
                out.append(criteria)
            if len(out) >= 150:
                break
    # The case-folding traps: dotted and dotless i, long s, the Kelvin sign, micro and mu.
    return [*out, "EXCLUSİON: ſevere diſease", "Age ≥ 18 yeaRS, KPS ≥ 70", "B12 > 5 μg/L or 5 µg/l", "ı ſ K µ μ"]


def _compiler_patterns() -> list[tuple[str, int]]:
    raw = read_yaml("criteria/compose.yaml")  # the patterns as written
    sources = [raw["negation_before"], raw["exception_start"], raw["filler_meaningful"], raw["exception_sentence"],
               raw["asks_nothing"], *raw["question_categories"].values()]
    return [(s, re.IGNORECASE) for s in sources] + [
        (COMPARATOR, re.IGNORECASE), (NUMBER, re.IGNORECASE), (DURATION, re.IGNORECASE),
        (r"(?i:ecog|karnofsky|\bps\b)|\bWHO\b", 0), (r"(?<=[.;])\s+(?=[A-Z(\"“])", 0), (r"µg|mcg", re.IGNORECASE),
        (r"\bage|\bold|years?\s+of", re.IGNORECASE), (r"[^\W\d_]+", 0), (r"x?", 0),
    ]


@pytest.mark.parametrize(("source", "flags"), _compiler_patterns())
def test_scanning_and_scanner_find_what_the_pattern_finds(texts: list[str], source: str, flags: int) -> None:
    plain = re.compile(source, flags)
    fast = scanning(source, flags)
    scanner = Scanner(source, flags)
    for text in texts:
        expected = [(m.span(), m.groups()) for m in plain.finditer(text)]
        assert [(m.span(), m.groups()) for m in fast.finditer(text)] == expected
        assert [(m.span(), m.groups()) for m in scanner.finditer(text)] == expected
        assert (scanner.search(text) is None) == (plain.search(text) is None)
        if flags == re.IGNORECASE:
            assert FoldedSpans(source).spans(text) == [span for span, _ in expected]


def test_top_level_alternatives() -> None:
    assert top_level_alternatives(r"a(?:b|c)|[|]d|\|e|[]|]f") == ["a(?:b|c)", "[|]d", r"\|e", "[]|]f"]
    assert top_level_alternatives("x") == ["x"]


def test_first_characters_of_a_pattern() -> None:
    assert first_characters(r"\b(?:age|old)\b", re.IGNORECASE) == "[ao]"
    assert first_characters(r"(?:at\s+least|≥)\s*\d+") == "[a≥]"
    assert first_characters(r"(?i:ecog)|\bWHO\b") == "[W]|(?i:[e])"
    # A pattern that may match nothing, or may start anywhere, gets no lookahead.
    assert first_characters(r"x?") is None
    assert first_characters(r".+x") is None
    assert first_characters(r"[^a]b") is None


def test_needs_leave_out_letters_that_fold_to_other_letters() -> None:
    # Under IGNORECASE "µ" (micro sign) also matches "μ" (mu): it can't be required.
    assert Scanner(r"µg/l", re.IGNORECASE).search("B12 > 5 μg/L") is not None
    assert pattern_needs(r"ecog\s+performance", re.IGNORECASE).met("ecog 1") is False
    assert pattern_needs(r"ecog\s+performance", re.IGNORECASE).met("ecog performance status") is True


def test_scanner_matches_keep_the_case_of_the_text() -> None:
    # Located lower-case on the folded text, the match itself is taken from the text: groups keep their case.
    scanner = Scanner(r"(?P<name>all|aml)\s+(\d+)", re.IGNORECASE)
    assert [m.group("name") for m in scanner.finditer("ALL 5, then Aml 6")] == ["ALL", "Aml"]
    assert scanner.search("see AML 7").group(0) == "AML 7"  # type: ignore[union-attr]
