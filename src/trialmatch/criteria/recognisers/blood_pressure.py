"""Blood pressure written as one pair: "Supine blood pressure ≤160/100 mmHg", "BP > 150/90 mm Hg".

A pair is read as two ``lab`` leaves, systolic and diastolic, on the measures ``systolic_blood_pressure`` and
``diastolic_blood_pressure`` (mmHg). An upper limit ("≤ 160/100") holds when both readings are within it, so it
is their ``all``; a lower bound or an excess ("> 150/90", "at least 130/85") is met by either reading, so it is their
``any`` (the usual reading of a blood pressure limit, and the negation of the upper limit). A systolic or diastolic
pressure named on its own ("systolic BP < 140 mmHg") is the labs recogniser's.
"""

from __future__ import annotations

import re
from functools import cache

from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import COMPARATOR, parse_comparator
from trialmatch.criteria.rules import AllOf, AnyOf, Comparator, Lab

_CUE = re.compile(r"blood\s+pressure|\bBP\b", re.IGNORECASE)
_SYSTOLIC = ("systolic_blood_pressure", "Systolic blood pressure")
_DIASTOLIC = ("diastolic_blood_pressure", "Diastolic blood pressure")
#: Plausible limits in mmHg: outside them the pair is a misreading.
_SYSTOLIC_RANGE = (60.0, 260.0)
_DIASTOLIC_RANGE = (30.0, 160.0)


@cache
def _pattern() -> re.Pattern[str]:
    return re.compile(
        r"\b(?:(?:supine|sitting|seated|resting|screening|baseline|mean|average)\s+)*(?:arterial\s+)?"
        r"(?:blood\s+pressure|BP)(?:\s*\(\s*BP\s*\))?(?:\s+(?:value|reading|measurement))?\s*"
        r"(?:(?:of|is|was|must\s+be|should\s+be|:)\s*)?"
        rf"(?P<comparator>{COMPARATOR})\s*(?:\(\s*[<>≤≥=]{{1,2}}\s*\)\s*)?"
        r"(?P<systolic>\d{2,3})\s*/\s*(?P<diastolic>\d{2,3})(?![\d/.])\s*(?:mm\s*hg|mmhg|mm\s*\[hg\])?",
        re.IGNORECASE,
    )


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if "/" not in text or not _CUE.search(text):
        return []
    found = []
    for match in _pattern().finditer(text):
        try:
            comparator = parse_comparator(match.group("comparator"))
        except ValueError:
            continue
        systolic, diastolic = float(match.group("systolic")), float(match.group("diastolic"))
        if comparator == "=" or not (_SYSTOLIC_RANGE[0] <= systolic <= _SYSTOLIC_RANGE[1]
                                     and _DIASTOLIC_RANGE[0] <= diastolic <= _DIASTOLIC_RANGE[1]):
            continue
        span = passage.span(match.start(), match.end())
        leaves = (_leaf(_SYSTOLIC, comparator, systolic, span), _leaf(_DIASTOLIC, comparator, diastolic, span))
        rule = AllOf(children=leaves, span=span) if comparator in ("<", "<=") else AnyOf(children=leaves, span=span)
        found.append(Found(rule, *span, category="lab", confidence=SURE))
    return found


def _leaf(measure: tuple[str, str], comparator: Comparator, value: float, span: tuple[int, int]) -> Lab:
    return Lab(analyte=measure[0], name=measure[1], comparator=comparator, value=value, unit="mmHg", span=span)
