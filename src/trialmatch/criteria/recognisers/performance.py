"""Performance status: "ECOG performance status less than or equal to 2", "ECOG 0-1", "KPS ≥ 70%",
"Karnofsky ≥ 50% for participants ≥ 16 years" (a limit that applies only to that age group).

The scales' names come from ``data/criteria/performance.yaml``; conversions between the scales are
the matcher's job.
"""

from __future__ import annotations

import re
from functools import cache

from trialmatch.criteria.folding import scanning
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import (
    COMPARATOR,
    COMPARATOR_AFTER,
    NUMBER,
    parse_comparator,
    parse_comparator_after,
    parse_number,
)
from trialmatch.criteria.rules import Age, AnyOf, Comparator, Not, Performance, Rule
from trialmatch.data import read_yaml

#: Confidence when the text says "performance status" without naming a scale (read as ECOG).
_UNNAMED_SCALE = 0.85
_RANGES = {"ecog": (0, 5), "karnofsky": (0, 100), "lansky": (0, 100)}


@cache
def _patterns() -> tuple[re.Pattern[str], dict[str, re.Pattern[str]], re.Pattern[str], re.Pattern[str]]:
    raw = read_yaml("criteria/performance.yaml")
    names = {scale: [re.escape(s).replace(r"\ ", r"\s+") for s in spec.get("synonyms", [])] + [scale]
             for scale, spec in raw["scales"].items()}
    scale_words = {scale: re.compile(rf"\b(?:{'|'.join(sorted(words, key=len, reverse=True))})\b", re.IGNORECASE)
                   for scale, words in names.items()}
    every = "|".join(sorted((w for words in names.values() for w in words), key=len, reverse=True))
    status = (r"\)?(?:\s*\([^()]{1,40}\))?(?:\s+(?:performance|play[- ]performance|play))?"
              r"(?:\s+(?:status|score|scale|level|index|PS))?(?:\s*\([^()]{1,24}\))?")
    values = (rf"(?P<cmp>{COMPARATOR})\s*(?P<n>{NUMBER})\s*%?"
              rf"|(?P<n2>{NUMBER})\s*%?\s*(?P<after>{COMPARATOR_AFTER})"
              rf"|(?P<list>\d{{1,3}}\s*%?(?:\s*(?:,\s*or|,\s*and|,|or|and|to|-|–)\s*\d{{1,3}}\s*%?)+)"
              rf"|(?P<n3>\d{{1,3}})\s*%?(?!\s*(?:years|months|weeks|days))")
    lay = raw.get("lay_descriptions", [])
    lay_re = re.compile("|".join(lay), re.IGNORECASE) if lay else re.compile(r"(?!x)x")
    pattern = scanning(
        rf"(?:(?:performance\s+(?:status|level)|PS)\s*(?:[-:–]|of|by|per|using|on\s+the)?\s*)?"
        rf"(?:(?P<scale>{every}){status}|(?P<bare>performance\s+status|PS)(?:\s*\(\s*PS\s*\))?"
        rf"(?:\s*\(\s*(?P<scale2>{every})(?:\s*(?:/|or)\s*(?:{every}))?(?:\s+(?:scale|score))?\s*\))?)"
        rf"\s*(?:score\s*)?(?:(?:of|is|was|must\s+be|should\s+be|=|:|at|grade)\s*)*(?:{values})",
        re.IGNORECASE,
    )
    # The scale named after an unnamed "performance status 0-2": "(Zubrod scale)", "(ECOG)".
    named_after = re.compile(rf"\s*\(\s*(?P<scale>{every})(?:\s+(?:performance\s+status|scale|score))?\s*\)",
                             re.IGNORECASE)
    return pattern, scale_words, lay_re, named_after


_FOR_AGE = re.compile(
    rf"^\s*,?\s*(?:in|for)\s+(?:participants|patients|subjects|children|those|people|individuals|persons)?\s*"
    rf"(?:who\s+are\s+|aged\s+|age\s+)?(?P<cmp>{COMPARATOR})\s*(?P<n>{NUMBER})\s*(?P<u>years?|months?)(?:\s+of\s+age|\s+old)?",
    re.IGNORECASE,
)


#: Every reading names a scale or "performance status"/"PS"; other texts are skipped cheaply.
_CUE = scanning(r"(?i:ecog|eastern\s+co|karnofsky|lansky|performance|\bps\b|zubrod|\bkps\b)|\bWHO\b")


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not _CUE.search(text):
        return []
    pattern, scale_words, lay, named_after = _patterns()
    found = []
    for match in pattern.finditer(text):
        scale = "ecog"
        confidence = SURE
        named = match.group("scale") or match.group("scale2")
        if named:
            scale = next((name for name, words in scale_words.items() if words.fullmatch(named)), "ecog")
        else:
            confidence = _UNNAMED_SCALE
        limit = _limit(match, scale)
        if limit is None:
            continue
        comparator, value = limit
        start, end = match.start(), match.end()
        end += len(re.match(r"\s*%?", text[end:]).group(0))  # type: ignore[union-attr]
        after = named_after.match(text, end) if not named else None
        if after is not None:
            scale = next((name for name, words in scale_words.items() if words.fullmatch(after.group("scale"))),
                         "ecog")
            limit = _limit(match, scale)
            if limit is None:
                continue
            comparator, value = limit
            confidence, end = SURE, after.end()
        rule: Rule = Performance(scale=scale, comparator=comparator, value=value, span=passage.span(start, end))
        for_age = _FOR_AGE.match(text[end:])
        if for_age:
            age_end = end + for_age.end()
            applies = Age(comparator=parse_comparator(for_age.group("cmp")), value=parse_number(for_age.group("n")),
                          unit="months" if for_age.group("u").lower().startswith("month") else "years",
                          span=passage.span(end + for_age.start("cmp"), age_end))
            rule = AnyOf(children=(Not(child=applies, span=applies.span), rule), span=passage.span(start, age_end))
            end = age_end
        claimed: tuple[tuple[int, int], ...] = ()
        description = lay.search(text[:start])
        if description:
            claimed = (passage.span(description.start(), description.end()),)
        found.append(Found(rule, *passage.span(start, end), category="performance", confidence=confidence,
                           claimed=claimed))
    return found


def _limit(match: re.Match[str], scale: str) -> tuple[Comparator, float] | None:
    low, high = _RANGES[scale]
    try:
        if match.group("cmp"):
            comparator, value = parse_comparator(match.group("cmp")), parse_number(match.group("n"))
        elif match.group("after"):
            comparator, value = parse_comparator_after(match.group("after")), parse_number(match.group("n2"))
        elif match.group("list"):
            values = [float(v) for v in re.findall(r"\d{1,3}", match.group("list"))]
            comparator, value = _from_list(values, scale)
        elif match.group("n3"):
            value = float(match.group("n3"))
            comparator = "<=" if scale == "ecog" else ">="
        else:
            return None
    except ValueError:
        return None
    if not low <= value <= high:
        return None
    return comparator, value


def _from_list(values: list[float], scale: str) -> tuple[Comparator, float]:
    # "0, 1 or 2" / "0-2" on ECOG means at most 2; "70-100" on Karnofsky means at least 70.
    if scale == "ecog":
        if min(values) != 0:  # "ECOG 1-2" also excludes 0: leave it to a question
            raise ValueError("not an upper limit")
        return "<=", max(values)
    if max(values) == 100 or len(values) > 1:
        return ">=", min(values)
    return ">=", values[0]

