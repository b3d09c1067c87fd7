"""Sex: "Male or female" (asks nothing), "Women aged 18-65" (female only, in an inclusion).

A single sex counts only at the start of an inclusion and not before a population qualifier:
"Women of childbearing potential must use contraception" restricts nobody to women.
"""

from __future__ import annotations

import re
from functools import cache

from trialmatch.criteria.folding import Scanner
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.rules import Sex
from trialmatch.data import read_yaml


@cache
def _patterns() -> tuple[Scanner, re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    raw = read_yaml("criteria/phrases.yaml")
    flags = re.IGNORECASE
    both = Scanner(rf"\b(?:{'|'.join(raw['sex_both'])})\b", flags)
    lead = r"^\W*(?:(?:only|adult)\s+)?"
    # Longest spelling first, so "male subjects" is read whole before "male".
    female = re.compile(rf"{lead}(?:{'|'.join(sorted(raw['sex_female'], key=len, reverse=True))})\b(?:\s+only\b)?",
                        flags)
    male = re.compile(rf"{lead}(?:{'|'.join(sorted(raw['sex_male'], key=len, reverse=True))})\b(?:\s+only\b)?", flags)
    return both, female, male, re.compile(raw["sex_population_qualifier"], flags)


def recognise(passage: Passage) -> list[Found]:
    both, female, male, qualifier = _patterns()
    text = passage.text
    found = [Found(None, *passage.span(m.start(), m.end()), category="sex") for m in both.finditer(text)]
    if found or passage.section != "inclusion":
        return found
    for pattern, sex in ((female, "female"), (male, "male")):
        match = pattern.match(text)
        if match and not qualifier.match(text[match.end():]):
            start = match.start() + len(match.group(0)) - len(match.group(0).lstrip(" -*•\t\n"))
            rule = Sex(sex=sex, span=passage.span(start, match.end()))
            return [Found(rule, *passage.span(start, match.end()), category="sex", confidence=SURE)]
    return []
