"""Taking part in another study: "participation in another clinical trial within 30 days", "Currently
receiving treatment in, or less than 30 days since ending treatment on another investigational study(ies)",
"Have had any treatment in a trial in the last 4 weeks".

This module names the study phrases (``study_spans``); the therapy recogniser reads them like the name of
a therapy, so "chemotherapy or participation in another trial within 4 weeks" shares its window. A study
phrase becomes ``StudyEnrolment``: ``window`` None means taking part now, a window means now or within it.
Only *another* study counts: "this study" is never read, nor is "prior participation" without a window
(the leaf has no "ever").

Wording that names an investigational *drug* ("any investigational product within 4 weeks") is read by
the therapy recogniser as ``Therapy(investigational_agent)``: the text speaks of a drug the patient
received, which a medication history can settle, while "treatment in a trial" speaks of the study.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from trialmatch.criteria.folding import scanning
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import DURATION, parse_duration
from trialmatch.criteria.rules import StudyEnrolment
from trialmatch.data import read_yaml


def _alternation(phrases: list[str]) -> str:
    # Longest first, spaces as any whitespace.
    return "|".join(p.replace(" ", r"\s+") for p in sorted(phrases, key=len, reverse=True))


@dataclass(frozen=True)
class StudyWording:
    phrase: re.Pattern[str]
    now_or_since: re.Pattern[str]
    past: re.Pattern[str]


@cache
def study_wording() -> StudyWording:
    raw = read_yaml("criteria/therapy-wording.yaml")
    spec = raw["studies"]
    kinds = _alternation(spec["kinds"])
    phrase = (
        rf"\b(?:{_alternation(spec['verbs'])})\s+(?:{_alternation(spec['prepositions'])})\s+"
        rf"(?:{_alternation(spec['determiners'])})\s+(?:(?:{kinds})[\s/,-]+)*(?:{_alternation(spec['nouns'])})"
        rf"(?!\w)(?:\s+{spec['involving']})?"
    )
    less_than = _alternation(raw["less_than"])
    since_leads = _alternation(raw["since_leads"])
    now_or_since = (
        rf"\b{spec['now_or_since']}(?:{less_than})\s*(?P<d>{DURATION})\s+(?:since|from|after)\s+"
        rf"(?:(?:{since_leads})\s+)*{phrase}"
    )
    return StudyWording(phrase=scanning(phrase, re.IGNORECASE), now_or_since=scanning(now_or_since, re.IGNORECASE),
                        past=re.compile(rf"^(?:{_alternation(spec['past_verbs'])})\b", re.IGNORECASE))


def is_past(phrase: str) -> bool:
    """True when a study phrase says the patient took part at some time ("participated in a trial")."""
    return study_wording().past.match(phrase) is not None


#: Every study phrase ends in one of these nouns (``studies.nouns``): without one, nothing to search.
_NOUNS = ("stud", "trial", "protocol")


def _may_name_study(text: str) -> bool:
    lowered = text.lower()
    return any(noun in lowered for noun in _NOUNS)


def study_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` names taking part in another study ("participation in another clinical trial")."""
    if not _may_name_study(text):
        return []
    return [(m.start(), m.end()) for m in study_wording().phrase.finditer(text)]


def recognise_now_or_since(passage: Passage) -> list[Found]:
    """ "Currently receiving treatment in, or less than 30 days since ending treatment on another study":
    one study shared by both halves, so one ``StudyEnrolment`` with the window."""
    found: list[Found] = []
    if not _may_name_study(passage.text):
        return found
    for match in study_wording().now_or_since.finditer(passage.text):
        span = passage.span(match.start(), match.end())
        rule = StudyEnrolment(window=parse_duration(match.group("d")), span=span)
        found.append(Found(rule, *span, category="other_study", confidence=SURE))
    return found
