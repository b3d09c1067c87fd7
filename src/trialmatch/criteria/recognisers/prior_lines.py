"""Counts of prior lines (regimens) of therapy: "at least 2 prior lines of therapy", "no more than 3 prior
chemotherapy regimens for metastatic disease", "1 to 3 prior regimens", "≥ 2 prior lines of systemic therapy
for multiple myeloma". Each becomes a ``prior_lines`` rule; a range becomes two.

Only a count with a comparator is read: "has received 2 prior regimens" may mean exactly two or at least two.
Words between the number and the noun must say which lines are counted (chemotherapy, hormonal) or nothing
("prior systemic"); any other word ("induction regimens", "platinum-based regimens") stops the reading. A count
after a failure ("refractory to 2 prior regimens", "failed at least 2 lines") asks more than a count and is left.
The wording is in ``data/criteria/prior-lines.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import load_phrases, parse_number
from trialmatch.criteria.rules import AllOf, Comparator, PriorLines, Rule
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import load_vocabulary

_CUE = re.compile(r"\b(?:lines?|regimens?|therapies|treatments)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.;:!?](?=\s|$)|\n")
_EXAMPLES = re.compile(r"\s*\(\s*(?:including|includ\w+|e\.\s?g\.|eg|such\s+as|for\s+example)\b[^()]*\)", re.IGNORECASE)
_NO = re.compile(r"(?:no|not)\s", re.IGNORECASE)
_UNSURE = 0.6
#: Counts above this are not lines of therapy ("lines of vision").
_MOST_LINES = 12


def _alternation(phrases: list[str]) -> str:
    return "|".join(sorted((p.replace(" ", r"\s+") for p in phrases), key=len, reverse=True))


@dataclass(frozen=True)
class _Grammar:
    count: re.Pattern[str]
    comparator_before: dict[str, Comparator]
    comparator_after: dict[str, Comparator]
    kinds: tuple[tuple[str, re.Pattern[str]], ...]
    neutral: frozenset[str]
    settings: tuple[tuple[str, re.Pattern[str]], ...]
    own_disease: re.Pattern[str]
    disease_lead: re.Pattern[str]
    blocked_before: re.Pattern[str]


@cache
def _grammar() -> _Grammar:
    raw = read_yaml("criteria/prior-lines.yaml")
    flags = re.IGNORECASE
    words = [w for w in load_phrases().number_words if load_phrases().number_words[w] <= _MOST_LINES]
    number = rf"(?:\d{{1,2}}|{_alternation([re.escape(w) for w in words])})(?![\w.])"
    before = {re.sub(r"\s+", " ", p.replace("\\", "")).lower(): c for c, ps in raw["before"].items() for p in ps}
    after = {re.sub(r"\s+", " ", p.replace("\\", "")).lower(): c for c, ps in raw["after"].items() for p in ps}
    before_alt = _alternation([p for ps in raw["before"].values() for p in ps] + ["only", "exactly"])
    after_alt = _alternation([p for ps in raw["after"].values() for p in ps])
    kind_words = [w for ws in raw["kinds"].values() for w in ws]
    modifier = _alternation([re.escape(w) for w in [*raw["neutral"], *kind_words]])
    modifiers = rf"(?:(?:{modifier})[\s-]+){{0,5}}"
    nouns = _alternation(raw["nouns"])
    prior_nouns = _alternation(raw["prior_nouns"])
    ranged = (rf"(?:at\s+least\s+(?P<lo>{number})\s*,?\s*(?:but|and)\s+(?:no|not)\s+more\s+than\s+(?P<hi>{number})"
              rf"|(?:between\s+)?(?P<lo2>{number})\s*(?:-|–|to|and)\s*(?P<hi2>{number})"
              rf"|(?P<lo3>{number})\s+or\s+(?P<hi3>{number}))")
    single = rf"(?:(?P<cmp>{before_alt})\s*(?P<n>{number})|(?P<n2>{number})\s*(?P<cmp2>{after_alt}))"
    count = (rf"(?<![\w.-])(?:{ranged}|{single})\s+(?:(?P<pre>{modifiers})(?P<noun>{nouns})\b"
             rf"(?:\s+of\s+(?P<post>{modifiers}(?:therapy|therapies|treatment|treatments|chemotherapy)\b))?"
             rf"|(?P<prior>(?:prior|previous)\s+)(?P<pnoun>{prior_nouns})\b)")
    settings = tuple((name, re.compile(
        rf"{raw['setting_lead']}(?:{'|'.join(patterns)}){raw['setting_tail']}(?![\w-])".replace(" ", r"\s+"), flags))
        for name, patterns in raw["settings"].items())
    return _Grammar(
        count=re.compile(count, flags),
        comparator_before={**before, "only": "=", "exactly": "="},
        comparator_after=after,
        kinds=tuple((kind, re.compile(rf"(?<![\w-])(?:{_alternation([re.escape(w) for w in ws])})(?![\w-])", flags))
                    for kind, ws in raw["kinds"].items()),
        neutral=frozenset(w.lower() for w in raw["neutral"]),
        settings=tuple(sorted(settings, key=lambda s: -len(s[1].pattern))),
        own_disease=re.compile(raw["own_disease"], flags),
        disease_lead=re.compile(raw["disease_lead"], flags),
        blocked_before=re.compile(raw["blocked_before"], flags),
    )


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not _CUE.search(text):
        return []
    grammar = _grammar()
    found = []
    for match in grammar.count.finditer(text):
        clause = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, match.start())), default=0)
        if grammar.blocked_before.search(text[clause : match.start()]):
            continue
        if not (match.group("pre") or match.group("post") or match.group("prior")) and " of " not in (
                match.group("noun") or ""):
            continue  # "3 or more lines of vision": nothing says these are lines of therapy
        therapy = _kind(" ".join(filter(None, (match.group("pre"), match.group("post"), match.group("prior")))))
        if therapy is False:
            continue
        end = match.end()
        setting, condition, end = _setting_and_disease(text, end)
        negation = _NO.match(match.group("cmp") or "")
        flipped = bool(negation and passage.negated and not text[: match.start()].strip(" -*•\t"))
        rule = _rule(match, therapy, setting, condition, passage.span(match.start(), end), flipped)
        if rule is None:
            continue
        # "Exclusion: No more than 2 prior regimens" is most likely a requirement listed in the wrong section:
        # read literally it excludes the patients the trial wants, so it never decides alone.
        confidence = _UNSURE if negation and passage.section == "exclusion" and not flipped else SURE
        found.append(Found(rule, *passage.span(match.start(), end), category="prior_therapy", confidence=confidence))
    diseases = {leaf.condition for f in found for leaf in _counts(f.rule)}
    if len(diseases) > 1:
        # "up to 3 prior regimens for CRC, up to 2 for NSCLC": a limit per disease of the trial, which neither
        # "and" nor "or" joins right.
        found = [Found(f.rule, f.start, f.end, f.category, min(f.confidence, _UNSURE), f.claimed) for f in found]
    return found


def _counts(rule: Rule) -> list[PriorLines]:
    if isinstance(rule, AllOf):
        return [leaf for child in rule.children for leaf in _counts(child)]
    return [rule] if isinstance(rule, PriorLines) else []


def _kind(words: str) -> str | bool | None:
    """The concept the words say is counted; None for every line; False when a word says something not read."""
    kinds = set()
    for kind, pattern in _grammar().kinds:
        if pattern.search(words):
            kinds.add(kind)
            words = pattern.sub(" ", words)
    rest = [w for w in re.split(r"[\s]+", words.lower().strip()) if w]
    if any(w not in _grammar().neutral for w in rest) or len(kinds) > 1:
        return False
    return kinds.pop() if kinds else None


def _setting_and_disease(text: str, position: int) -> tuple[str | None, tuple[str, str] | None, int]:
    """The setting ("for metastatic disease") and disease ("for multiple myeloma") after the count, if said."""
    grammar = _grammar()
    setting = None
    examples = _EXAMPLES.match(text, position)
    if examples and grammar.settings and any(p.match(text, examples.end()) for _, p in grammar.settings):
        # "(including any combination of fluorouracil, irinotecan, and/or oxaliplatin) for metastatic disease":
        # examples of the lines counted change nothing.
        position = examples.end()
    for name, pattern in grammar.settings:
        found = pattern.match(text, position)
        if found:
            setting, position = name, found.end()
            break
    own = grammar.own_disease.match(text, position)
    if own:
        return setting, None, own.end()
    lead = grammar.disease_lead.match(text, position) if setting is None else None
    start = lead.end() if lead else position
    named = [m for m in load_vocabulary().find(text[start : start + 80], kinds={"condition"})]
    first = min(named, key=lambda m: m.start, default=None)
    if first is not None and text[start : start + first.start].strip() == "" and (lead or setting):
        return setting, (first.concept.id, first.concept.name), start + first.end
    return setting, None, position


def _rule(match: re.Match[str], therapy: str | None, setting: str | None, condition: tuple[str, str] | None,
          span: tuple[int, int], flipped: bool = False) -> Rule | None:
    """The rule of one count. ``flipped``: the item's leading "No" put it among the exclusions (NCI layout), so
    "No more than 2 prior regimens" there excludes more than 2."""
    grammar = _grammar()
    therapy_name = None
    if therapy is not None:
        concept = load_vocabulary().get(therapy)
        therapy_name = concept.name if concept else therapy
    common = {"therapy": therapy, "therapy_name": therapy_name, "setting": setting,
              "condition": condition[0] if condition else None, "condition_name": condition[1] if condition else None,
              "span": span}
    low = match.group("lo") or match.group("lo2") or match.group("lo3")
    if low is not None:
        high = match.group("hi") or match.group("hi2") or match.group("hi3")
        lo, hi = int(parse_number(low)), int(parse_number(high))
        if match.group("lo3") is not None and hi != lo + 1:
            return None  # "2 or 4 prior regimens": not a range
        if not 0 <= lo < hi <= _MOST_LINES:
            return None
        return AllOf(children=(PriorLines(comparator=">=", value=lo, **common),
                               PriorLines(comparator="<=", value=hi, **common)), span=span)
    if match.group("cmp") is not None:
        comparator = grammar.comparator_before[re.sub(r"\s+", " ", match.group("cmp")).lower()]
        if flipped:
            comparator = {"<=": ">", "<": ">=", ">=": "<", ">": "<="}.get(comparator, comparator)
        number = match.group("n")
    else:
        comparator = grammar.comparator_after[re.sub(r"\s+", " ", match.group("cmp2")).lower()]
        number = match.group("n2")
    value = int(parse_number(number))
    if value > _MOST_LINES:
        return None
    return PriorLines(comparator=comparator, value=value, **common)
