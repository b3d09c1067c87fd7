"""Age limits: "Age > 28 days and < 18 years at the time of informed consent", "Are at least 18 years old",
"Age: 0-1 year at diagnosis", "18 years of age or older", "between 18 and 65 years".

An age comparison counts only next to an age cue ("age", "aged", "years old", "of age", "or older"), so
durations such as "life expectancy of at least 12 weeks" are left to other recognisers.
"""

from __future__ import annotations

import re

from trialmatch.criteria.folding import Scanner, scanning
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
from trialmatch.criteria.rules import Age, AllOf, AnyOf, Comparator, Rule, TimeUnit

_OLD = r"(?:\s+(?:of\s+age|old|of\s+age\s+or\s+older))?"
_RANGE_SEP = r"\s*(?:-|–|—|to|and|through|until)\s*"
_ONE = (
    rf"(?P<cmp>{COMPARATOR})\s*(?P<n>{NUMBER})(?:\s*(?P<u>{TIME_UNIT})\b)?{_OLD}"
    rf"|(?P<n2>{NUMBER})(?:\s*(?P<u2>{TIME_UNIT})\b)?{_OLD}\s*(?P<after>{COMPARATOR_AFTER})"
    rf"|(?:between\s+|from\s+)?(?P<lo>{NUMBER})(?:\s*(?P<lu>{TIME_UNIT})\b)?{_RANGE_SEP}(?P<hi>{NUMBER})"
    rf"(?:\s*(?P<hu>{TIME_UNIT})\b)?{_OLD}"
)
_LEAD = (r"\b(?:age[ds]?|ages)\b(?:\s*\([^)]{0,20}\))?\s*(?:[:=]\s*)?(?:(?:of|is|was|must\s+be|should\s+be|at\s+"
         r"(?:the\s+time\s+of\s+)?(?:diagnosis|enrolment|enrollment|consent|screening|registration|entry)|limits?|"
         r"range|group|between|from)\s*[:,]?\s*)*")
#: "≥ 18 and ≤ 65", "≥ 18 to < 70" (both limits); "below 18 or above 65" (either: an alternative).
_CHAIN = r"\s*(?:,\s*)?(?:and|&|but|to|or|,)\s*(?:(?:age[ds]?|is|be)\s+)?"
_EITHER = re.compile(r"\s*,?\s*or\b", re.IGNORECASE)
_REFERENCE = re.compile(
    r"^\s*,?\s*(?:\(?\s*(?:at|on)\s+(?:the\s+)?(?:time|day|date)\s+of\s+(?:the\s+)?"
    r"(?P<when>initial\s+diagnosis|diagnosis|original\s+diagnosis|informed\s+consent(?:\s*/\s*assent)?|consent(?:\s*/\s*assent)?|"
    r"assent|enrol+ment|registration|screening|study\s+entry|randomi[sz]ation|"
    r"(?:signing|obtaining|giving|providing)\s+(?:the\s+)?(?:written\s+)?(?:informed\s+)?consent)"
    r"|\(?\s*at\s+(?P<when2>diagnosis|initial\s+diagnosis|enrol+ment|screening|registration|study\s+entry|consent)"
    r"|\(?\s*when\s+diagnosed|\(?\s*when\s+enrol+ed(?:\s+(?:onto|on|in|into))?(?:\s+(?:this|the)\s+(?:study|trial))?)"
    r"\s*\)?",
    re.IGNORECASE,
)
_ONE_UNNAMED = re.sub(r"\(\?P<\w+>", "(?:", _ONE)
_WITH_LEAD = Scanner(rf"{_LEAD}(?P<first>{_ONE_UNNAMED})(?P<rest>(?:{_CHAIN}(?:{_ONE_UNNAMED}))?)", re.IGNORECASE)
#: A comparator restated as a symbol in parentheses: "greater than or equal to (>=) 18 years of age".
_RESTATED = r"(?:\s*\(\s*[<>≤≥=]{1,2}\s*\))?"
_SELF_CUED = Scanner(
    rf"(?P<chained>(?:{COMPARATOR})\s*(?:{NUMBER})\s*(?:years?|yrs?|months?)?\s*(?:and|&|,)\s*)?"
    rf"(?P<first>(?P<cmp>{COMPARATOR}){_RESTATED}\s*(?P<n>{NUMBER})\s*(?P<u>years?|yrs?|months?)\s+(?:of\s+age|old)\b"
    rf"|(?P<n2>{NUMBER})\s*(?P<u2>years?|yrs?|months?)?(?:\s+of\s+age|\s+old)?\s*(?P<after>or\s+(?:older|younger)|"
    rf"and\s+(?:older|over|above|younger))\b"
    # "18 years old or over", "18 years or above": with the unit, "or over" is an age ("grade 2 or above" is not)
    rf"|(?P<n4>{NUMBER})\s*(?P<u4>years?|yrs?)(?:\s+of\s+age|\s+old)?\s*(?P<after4>or\s+(?:over|above))\b"
    # "over the age of 18", "above the age of 65"
    rf"|(?P<cmp5>over|above|under|below)\s+the\s+age\s+of\s+(?P<n5>{NUMBER})(?:\s*(?P<u5>years?|yrs?))?"
    # "Minimum age: 18", "Age minimum: 18 years old", "Maximum age 65"
    rf"|(?P<bound>minimum|maximum|min\.?|max\.?)\s+age\s*[:=]?\s*(?P<n6>{NUMBER})(?:\s*(?P<u6>years?|yrs?|months?))?(?:\s+old)?(?![\w.])"
    rf"|age\s+(?P<bound2>minimum|maximum)\s*[:=]?\s*(?P<n7>{NUMBER})(?:\s*(?P<u7>years?|yrs?|months?))?(?:\s+old)?(?![\w.])"
    rf"|(?:between\s+|from\s+)?(?P<lo>{NUMBER})\s*(?P<lu>years?)?{_RANGE_SEP}(?P<hi>{NUMBER})\s*(?P<hu>years?)\s+"
    rf"(?:of\s+age|old)\b)",
    re.IGNORECASE,
)
_ONE_RE = re.compile(_ONE, re.IGNORECASE)

#: Every age limit has one of these words; texts without them are skipped cheaply.
_CUE = scanning(r"\bage|\bold|older|younger|years?\s+of|\bover\b|\babove\b|\bbelow\b|\bunder\b", re.IGNORECASE)

#: Ages above this many years are not ages ("age > 1,000"): leave them to a question.
_OLDEST = 130

#: An age that names who a requirement is for ("Subjects 16 and 17 years old must also adhere to …") is no
#: limit: reading it as one would fail everyone else. Left unread, it makes the criterion a question.
_SUBJECT_BEFORE = re.compile(
    r"\b(?:subjects?|patients?|participants?|those|children|adolescents|individuals|persons|people|women|men|"
    r"females?|males?)\s+(?:who\s+are\s+|aged\s+)?$", re.IGNORECASE)
_OBLIGATION_AFTER = re.compile(r"^\s*,?\s*(?:must|should|need|needs|will\s+(?:need|have)|are\s+required|also)\b",
                               re.IGNORECASE)


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not _CUE.search(text):
        return []
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    for pattern in (_WITH_LEAD, _SELF_CUED):
        for match in pattern.finditer(text):
            if any(match.start() < end and match.end() > start for start, end in taken):
                continue
            limits = _limits(match.group("first"))
            rest = match.groupdict().get("rest")
            if rest:
                tail = _ONE_RE.search(rest)
                limits += _limits(tail.group(0)) if tail else []
            chained = match.groupdict().get("chained")
            if chained:
                head = _ONE_RE.search(chained)
                limits = (_limits(head.group(0)) if head else []) + limits
            if not limits or any(value > _OLDEST * 366 for _, value, unit in limits if unit == "days"):
                continue
            limits = _default_units(limits)
            if limits is None:
                continue
            end = match.end()
            at = "today"
            reference = _REFERENCE.match(text[end:])
            if reference:
                # "when enrolled" names no group: the words themselves say which day the age is taken on.
                at = "diagnosis" if "diagnos" in reference.group(0).lower() else "today"
                end += reference.end()
            start = match.start()
            if _SUBJECT_BEFORE.search(text[:start]) and _OBLIGATION_AFTER.match(text[end:]):
                continue
            rules: list[Rule] = [
                Age(comparator=comparator, value=value, unit=unit, at=at, span=passage.span(start, end))
                for comparator, value, unit in limits
                if not (comparator == ">=" and value == 0)  # "0-1 year": the lower bound says nothing
            ]
            if not rules:
                continue
            either = bool(rest) and _EITHER.match(rest) is not None
            if either and not (len(rules) == 2 and {r.comparator for r in rules} <= {"<", "<="}
                               | {">", ">="} and rules[0].comparator[0] != rules[1].comparator[0]):
                continue  # "≥ 18 or ≥ 16 with consent": not two sides of one range
            joined = AnyOf if either else AllOf
            rule = rules[0] if len(rules) == 1 else joined(children=tuple(rules), span=passage.span(start, end))
            found.append(Found(rule, *passage.span(start, end), category="age", confidence=SURE))
            taken.append((start, end))
    return found


def _limits(text: str) -> list[tuple[Comparator, float, str | None]]:
    match = _ONE_RE.fullmatch(text.strip()) or _SELF_CUED.fullmatch(text.strip())
    if match is None:
        return []
    groups = match.groupdict()
    try:
        if groups.get("cmp"):
            return [(parse_comparator(groups["cmp"]), parse_number(groups["n"]), _unit(groups.get("u")))]
        if groups.get("after"):
            return [(parse_comparator_after(groups["after"]), parse_number(groups["n2"]), _unit(groups.get("u2")))]
        if groups.get("after4"):
            return [(">=", parse_number(groups["n4"]), _unit(groups.get("u4")))]
        if groups.get("cmp5"):
            comparator: Comparator = ">" if groups["cmp5"].lower() in ("over", "above") else "<"
            return [(comparator, parse_number(groups["n5"]), _unit(groups.get("u5")))]
        bound = groups.get("bound") or groups.get("bound2")
        if bound:
            number, unit = (groups["n6"], groups.get("u6")) if groups.get("bound") else (groups["n7"], groups.get("u7"))
            return [(">=" if bound.lower().startswith("min") else "<=", parse_number(number), _unit(unit))]
        if groups.get("lo"):
            high_unit = _unit(groups.get("hu"))
            low_unit = _unit(groups.get("lu")) or high_unit
            low, high = parse_number(groups["lo"]), parse_number(groups["hi"])
            if low_unit == high_unit and low >= high:
                return []
            return [(">=", low, low_unit), ("<=", high, high_unit)]
    except ValueError:
        return []
    return []


def _unit(text: str | None) -> TimeUnit | None:
    if not text:
        return None
    try:
        return parse_time_unit(text)
    except ValueError:
        return None


def _default_units(limits: list[tuple[Comparator, float, str | None]]
                   ) -> list[tuple[Comparator, float, TimeUnit]] | None:
    """Fill a missing unit from a sibling limit, else years; an age in hours is no age limit."""
    known = [unit for _, _, unit in limits if unit]
    fallback = known[-1] if known else "years"
    out: list[tuple[Comparator, float, TimeUnit]] = []
    for comparator, value, unit in limits:
        unit = unit or fallback
        if unit == "hours":
            return None
        out.append((comparator, value, unit))  # type: ignore[arg-type]
    return out
