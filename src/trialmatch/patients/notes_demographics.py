"""Age, sex, birth date, pregnancy, breastfeeding and childbearing potential in a clinical note.

An age or sex next to a relative ("her 60-year-old mother") is the relative's. Sex comes from a "Sex:" field,
a noun after the age ("34-year-old woman") or before "patient", and only then from pronouns, and only when
they all agree. Pregnancy and breastfeeding words are ConText findings like any other, so "not pregnant"
and "denies breastfeeding" are read as no, and "plans a pregnancy" as nothing. Wording lives in
``data/notes/demographics.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from trialmatch.data import read_yaml
from trialmatch.patients.facts import AgeFact, BooleanFact, Source
from trialmatch.patients.notes_context import Assertion, Target
from trialmatch.patients.notes_spans import SpanIndex
from trialmatch.patients.notes_timing import find_times

Sex = Literal["female", "male"]
SourceFor = Any  # a callable (start, end) -> Source, given by the reader


@cache
def _wording() -> dict[str, Any]:
    return read_yaml("notes/demographics.yaml")


def _words(words: list[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


@cache
def _age_patterns() -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in _wording()["age"]]


@cache
def _others() -> re.Pattern[str]:
    return re.compile(rf"\b(?:{_words(_wording()['others'])})(?:'s)?\b", re.IGNORECASE)


@dataclass(frozen=True)
class AgeReading:
    value: float
    unit: Literal["days", "weeks", "months", "years"]
    start: int
    end: int
    sex: Sex | None = None


def read_age(text: str) -> AgeReading | None:
    """The patient's age: the first age in the note that is not a relative's."""
    readings: list[AgeReading] = []
    for pattern in _age_patterns():
        for match in pattern.finditer(text):
            reading = _age_reading(text, match)
            if reading is not None:
                readings.append(reading)
    readings.sort(key=lambda r: r.start)
    return readings[0] if readings else None


def _age_reading(text: str, match: re.Match[str]) -> AgeReading | None:
    groups = match.groupdict()
    if _about_someone_else(text, match.start("n"), match.end()):
        return None
    unit_word = (groups.get("unit") or "years").lower().rstrip(".")
    unit = _wording()["age_units"].get(unit_word) or _wording()["age_units"].get(unit_word.rstrip("s"), "years")
    value = float(groups["n"])
    if value <= 0 or _in_years(value, unit) > float(_wording()["max_age_years"]):
        return None
    sex = {"F": "female", "M": "male"}.get((groups.get("sex") or "").upper())
    return AgeReading(value, unit, match.start("n"), match.end(), sex)  # type: ignore[arg-type]


def _in_years(value: float, unit: str) -> float:
    return value / {"years": 1, "months": 12, "weeks": 52.18, "days": 365.25}[unit]


def _about_someone_else(text: str, start: int, end: int) -> bool:
    """A relative (or a doctor) named just before or after: "her 60-year-old mother", "mother, aged 60"."""
    line_start = max(text.rfind("\n", 0, start) + 1, start - 25)
    before = text[line_start:start]
    after = text[end:end + 20]
    return bool(_others().search(before)) or bool(re.match(rf"^[\s,]*(?:{_others().pattern})", after, re.I))


def age_fact(reading: AgeReading, as_of: dt.date, source: Source) -> AgeFact:
    value = int(reading.value) if reading.value.is_integer() else reading.value
    return AgeFact(value=value, unit=reading.unit, as_of=as_of, source=source)


@dataclass(frozen=True)
class SexReading:
    sex: Sex
    start: int
    end: int


@cache
def _sex_patterns() -> dict[str, Any]:
    data = _wording()["sex"]
    nouns = {sex: re.compile(rf"(?:{_words(words)})\b", re.IGNORECASE) for sex, words in data["nouns"].items()}
    return {
        "fields": [re.compile(p, re.IGNORECASE) for p in data["fields"]],
        "nouns": nouns,
        "after_age": re.compile(data["noun_after_age"], re.IGNORECASE),
        "before_patient": {sex: re.compile(rf"\b(?:{_words(words)}){data['noun_before_patient']}", re.IGNORECASE)
                           for sex, words in data["nouns"].items() if sex},
        "pronouns": {sex: re.compile(rf"\b(?:{_words(words)})\b", re.IGNORECASE)
                     for sex, words in data["pronouns"].items()},
    }


_SEX_WORDS: dict[str, Sex] = {"female": "female", "f": "female", "woman": "female", "girl": "female",
                              "male": "male", "m": "male", "man": "male", "boy": "male"}


def read_sex(text: str, age: AgeReading | None, family_spans: SpanIndex) -> SexReading | None:
    """The patient's sex, from the most direct statement the note makes."""
    patterns = _sex_patterns()
    for pattern in patterns["fields"]:
        match = pattern.search(text)
        if match:
            return SexReading(_SEX_WORDS[match.group("sex").lower()], match.start(), match.end())
    if age is not None:
        if age.sex is not None:
            return SexReading(age.sex, age.start, age.end)
        after = patterns["after_age"].match(text, age.end)
        position = after.end() if after else age.end
        for sex, noun in patterns["nouns"].items():
            found = noun.match(text, position)
            if found:
                return SexReading(sex, age.start, found.end())
    for sex, pattern in patterns["before_patient"].items():
        for match in pattern.finditer(text):
            if not _about_someone_else(text, match.start(), match.end()):
                return SexReading(sex, match.start(), match.end())
    return _sex_from_pronouns(text, family_spans)


def _sex_from_pronouns(text: str, family_spans: SpanIndex) -> SexReading | None:
    """Pronouns decide only when one set is used often enough and the other never (outside family lines)."""
    found: dict[str, list[re.Match[str]]] = {}
    for sex, pattern in _sex_patterns()["pronouns"].items():
        found[sex] = [m for m in pattern.finditer(text)
                      if not family_spans.covers(m.start()) and not _about_someone_else(text, m.start(), m.end())]
    minimum = int(_wording()["sex"]["pronoun_min"])
    used = [sex for sex, matches in found.items() if matches]
    if len(used) == 1 and len(found[used[0]]) >= minimum:
        first = found[used[0]][0]
        return SexReading(used[0], first.start(), first.end())  # type: ignore[arg-type]
    return None


def read_birth_date(text: str, today: dt.date) -> tuple[dt.date, int, int] | None:
    """A full date of birth ("DOB: 2017-04-12"); a month or year alone is not one."""
    for match in re.finditer(_wording()["birth_date"], text, re.IGNORECASE):
        line_end = text.find("\n", match.end())
        line = text[match.end(): line_end if line_end != -1 else len(text)]
        times = find_times(line[:30], today)
        if times and times[0].start == 0 and _has_day(line[times[0].start:times[0].end]):
            date = times[0].date
            if date <= today:
                return date, match.start(), match.end() + times[0].end
    return None


def _has_day(written: str) -> bool:
    return len(re.findall(r"\d+", written)) >= 3 or bool(re.search(r"\b\d{1,2}(?:st|nd|rd|th)?\b", written))


# --- pregnancy, breastfeeding, childbearing potential ------------------------------------------------------


@cache
def _finding_patterns() -> list[tuple[str, re.Pattern[str], re.Pattern[str] | None, Any]]:
    data = _wording()
    out: list[tuple[str, re.Pattern[str], re.Pattern[str] | None, Any]] = []
    for label, key in (("PREGNANCY", "pregnancy"), ("BREASTFEEDING", "breastfeeding")):
        findings = re.compile(rf"(?<![\w-])(?:{_words(data[key]['findings'])})(?![\w-])", re.IGNORECASE)
        nots = data[key].get("not_findings") or []
        exclude = re.compile(rf"(?:{_words(nots)})", re.IGNORECASE) if nots else None
        out.append((label, findings, exclude, True))
    for polarity in ("true", "false"):
        words = data["childbearing"][polarity]
        pattern = re.compile(rf"(?<![\w-])(?:{_words(words)})(?![\w-])", re.IGNORECASE)
        out.append(("CHILDBEARING", pattern, None, polarity == "true"))
    return out


@cache
def _test_patterns() -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in _wording()["pregnancy"]["tests"]]


def reproduction_targets(text: str) -> list[Target]:
    """Pregnancy, breastfeeding and childbearing words, for ConText; the payload is what an affirmation says."""
    targets: list[Target] = []
    for label, pattern, exclude, polarity in _finding_patterns():
        excluded = SpanIndex((m.start(), m.end()) for m in exclude.finditer(text)) if exclude else SpanIndex([])
        for match in pattern.finditer(text):
            if not excluded.covers(match.start()):
                targets.append(Target(match.start(), match.end(), label, polarity))
    return targets


@dataclass(frozen=True)
class PregnancyTest:
    pregnant: bool
    start: int
    end: int


def read_pregnancy_tests(text: str) -> list[PregnancyTest]:
    """Pregnancy test results: "negative urine pregnancy test", "beta-hCG <2", "UPT: negative"."""
    results = {str(k): bool(v) for k, v in _wording()["pregnancy"]["results"].items()}
    found: list[PregnancyTest] = []
    for pattern in _test_patterns():
        for match in pattern.finditer(text):
            written = " ".join(match.group("result").lower().split())
            pregnant = False if written.startswith("<") else results.get(written)
            if pregnant is None or any(t.start < match.end() and match.start() < t.end for t in found):
                continue
            found.append(PregnancyTest(pregnant, match.start(), match.end()))
    return found


def reproduction_facts(assertions: list[Assertion], tests: list[PregnancyTest], source_for: SourceFor,
                       family_spans: SpanIndex, warnings: list[str]) -> dict[str, BooleanFact]:
    """The pregnant, breastfeeding and childbearing_potential facts the note states; when it says both yes and
    no about one of them, that one is left out with a warning."""
    facts: dict[str, BooleanFact] = {}
    field = {"PREGNANCY": "pregnant", "BREASTFEEDING": "breastfeeding", "CHILDBEARING": "childbearing_potential"}
    statements: list[tuple[int, str, bool, int, int]] = []
    for assertion in assertions:
        target = assertion.target
        if target.label not in field or assertion.possible or assertion.hypothetical or assertion.family:
            continue
        if family_spans.covers(target.start):
            continue
        if assertion.negated:
            if target.payload is not True:  # "not postmenopausal" says nothing
                continue
            value = False
        elif assertion.historical and target.label != "CHILDBEARING":
            continue  # "history of pregnancy-induced hypertension", "breastfed her first child"
        else:
            value = bool(target.payload)
        statements.append((target.start, field[target.label], value, assertion.sentence_start,
                           assertion.sentence_end))
    for test in tests:
        statements.append((test.start, "pregnant", test.pregnant, test.start, test.end))
    said: dict[str, set[bool]] = {}
    for _, name, value, start, end in sorted(statements):
        said.setdefault(name, set()).add(value)
        facts.setdefault(name, BooleanFact(value=value, source=source_for(start, end)))
    for name, values in said.items():
        if len(values) > 1:  # "not pregnant" and "positive pregnancy test": a question, not a guess
            del facts[name]
            warnings.append(f"the note says both yes and no about {name.replace('_', ' ')}; left for a question")
    return facts
