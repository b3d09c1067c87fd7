"""Life expectancy: "Life expectancy of at least 3 months", "Estimated life expectancy > 12 weeks", "At least a
3-month life expectancy", "Expected survival ≥ 6 months".

Read as a ``Lab`` leaf on the measure ``life_expectancy`` with a time unit (weeks, months, years): the matcher
compares the clinician's estimate, when the patient's facts carry one, after converting the units. A judgement
with no number ("life expectancy compatible with the study") is not read, and neither is a limit that is not a
floor or a ceiling the patient's estimate can be compared with ("life expectancy of 3-6 months" is read as two
limits).
"""

from __future__ import annotations

import re
from functools import cache

from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import (
    COMPARATOR,
    COMPARATOR_AFTER,
    NUMBER,
    TIME_UNIT,
    parse_comparator,
    parse_comparator_after,
    parse_number,
    parse_time_unit,
)
from trialmatch.criteria.rules import AllOf, Comparator, Lab, Rule

ANALYTE = "life_expectancy"
_NAME = "Life expectancy"

#: "Survival" alone may be progression-free or overall survival: only an expected one is a life expectancy.
_SUBJECT = (r"(?:(?:(?:an?\s+)?(?:estimated|anticipated|expected|predicted|projected|minimum|minimal)\s+)?"
            r"(?:life[\s-]+expectancy|life[\s-]+span)|(?:an?\s+)?(?:estimated|anticipated|expected|predicted|"
            r"projected)\s+survival)")
_VERB = (r"(?:\s*(?:[:=]|\((?:in\s+the\s+)?(?:investigator'?s?|physician'?s?)\s+(?:opinion|judge?ment)\)|"
         r"(?:of|is|must\s+be|should\s+be|will\s+be|estimated\s+(?:to\s+be|at)|expected\s+to\s+be|"
         r"judged\s+to\s+be|in\s+excess\s+of|for)\b))*")
_LIMIT = (rf"(?P<cmp>{COMPARATOR})\s*(?P<n>{NUMBER})\s*-?\s*(?P<u>{TIME_UNIT})\b"
          rf"|(?P<n2>{NUMBER})\s*-?\s*(?P<u2>{TIME_UNIT})\s+(?P<after>{COMPARATOR_AFTER})"
          rf"|(?:between\s+)?(?P<lo>{NUMBER})\s*(?:-|–|to|and)\s*(?P<hi>{NUMBER})\s*-?\s*(?P<u3>{TIME_UNIT})\b")
#: "Life expectancy of at least 3 months", "life expectancy > 12 weeks".
_AFTER_SUBJECT = rf"\b{_SUBJECT}{_VERB}\s*(?:{_LIMIT})"
#: "At least 3 months life expectancy", "a 12-week life expectancy or more" (not a bare "6 months survival").
_BEFORE_SUBJECT = (rf"(?P<bcmp>{COMPARATOR})\s*(?:an?\s+)?(?P<bn>{NUMBER})\s*-?\s*(?P<bu>{TIME_UNIT})\b"
                   rf"(?:\s+or\s+more)?\s*(?:of\s+)?{_SUBJECT}|(?:an?\s+)?(?P<an>{NUMBER})\s*-?\s*(?P<au>{TIME_UNIT})\s+{_SUBJECT}\s+"
                   rf"(?P<aafter>{COMPARATOR_AFTER})")
#: Whose estimate it is: life expectancy is always the clinician's, so this asks nothing more.
_JUDGE = r"(?:treating\s+)?(?:investigators?|physicians?|clinicians?|doctors?|oncologists?)'?s?"
_TAIL = (rf"(?:\s*,?\s*\(?\s*(?:(?:in|per|according\s+to)\s+(?:the\s+)?(?:opinion|judge?ment|estimation|assessment|"
         rf"estimate)\s+of\s+(?:the\s+)?{_JUDGE}|(?:in|per|according\s+to)\s+(?:the\s+)?{_JUDGE}\s+(?:opinion|"
         rf"judge?ment|estimation|assessment|estimate)|as\s+(?:judged|assessed|determined|estimated|documented)\s+by\s+"
         rf"(?:the\s+)?{_JUDGE})\s*\)?)?")
_OWNER = re.compile(r"(?P<before>[\w'-]+)\s+with\s+(?:an?\s+|the\s+)?$", re.IGNORECASE)
_PEOPLE = re.compile(r"^(?:patients?|subjects?|participants?|persons?|people|individuals?|those|adults?|children|"
                     r"men|women|males?|females?|volunteers?|candidates?|cases?|\d+)$", re.IGNORECASE)
#: Confidence of a life expectancy that may belong to something named before it.
_UNSURE = 0.6
_CUE = re.compile(r"expectancy|survival|life[\s-]+span", re.IGNORECASE)


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    return (re.compile(rf"(?:{_AFTER_SUBJECT}){_TAIL}", re.IGNORECASE),
            re.compile(rf"(?:{_BEFORE_SUBJECT}){_TAIL}", re.IGNORECASE))


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not _CUE.search(text):
        return []
    found: list[Found] = []
    for pattern in _patterns():
        for match in pattern.finditer(text):
            if any(match.start() < f.end - passage.start and match.end() > f.start - passage.start for f in found):
                continue
            limits = _limits(match)
            if not limits:
                continue
            span = passage.span(match.start(), match.end())
            # "another serious disease with expected survival < 5 years": the expectancy of that disease, which
            # the reading can't tie to it; "patients with a life expectancy …" is the patient's own.
            owner = _OWNER.search(text, 0, match.start())
            confidence = SURE if owner is None or _PEOPLE.search(owner.group("before")) else _UNSURE
            leaves: list[Rule] = [Lab(analyte=ANALYTE, name=_NAME, comparator=c, value=v, unit=u, span=span)
                                  for c, v, u in limits]
            rule = leaves[0] if len(leaves) == 1 else AllOf(children=tuple(leaves), span=span)
            found.append(Found(rule, *span, category="life_expectancy", confidence=confidence))
    return found


def _limits(match: re.Match[str]) -> list[tuple[Comparator, float, str]]:
    groups = match.groupdict()
    try:
        if groups.get("cmp"):
            return [(parse_comparator(groups["cmp"]), parse_number(groups["n"]), parse_time_unit(groups["u"]))]
        if groups.get("after"):
            return [(parse_comparator_after(groups["after"]), parse_number(groups["n2"]),
                     parse_time_unit(groups["u2"]))]
        if groups.get("lo"):
            low, high, unit = parse_number(groups["lo"]), parse_number(groups["hi"]), parse_time_unit(groups["u3"])
            return [(">=", low, unit), ("<=", high, unit)] if low < high else []
        if groups.get("bcmp"):
            return [(parse_comparator(groups["bcmp"]), parse_number(groups["bn"]), parse_time_unit(groups["bu"]))]
        if groups.get("aafter"):
            return [(parse_comparator_after(groups["aafter"]), parse_number(groups["an"]),
                     parse_time_unit(groups["au"]))]
    except ValueError:
        return []
    return []
