"""Infections: "Known infection with human immunodeficiency virus (HIV)", "chronic infection with hepatitis B
virus (hepatitis B surface antigen [HBsAg] positive)", "HIV positive", "active hepatitis B or C",
"Negative HIV test" (compose negates), "Hepatitis B surface antigen negative" (read here as not), "active
infection requiring systemic therapy".

The infections are vocabulary concepts of kind ``infection``; the wording around them (status, test
results, markers in parentheses) is in the ``infections`` part of ``data/criteria/disease-state.yaml``.
Judgement words ("uncontrolled infection", "serious infection") are not read, so such a criterion stays
a question. A mention that is about a vaccine, a test to be done, a treatment or a lab value ("HIV RNA
< 50 copies") is not read. In an exclusion, infections listed together ("HIV, hepatitis B and hepatitis
C") are alternatives: any one of them excludes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from trialmatch.criteria.compose import load_wording as compose_wording
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.recognisers.conditions import (
    Alternatives,
    conditional_subject,
    extend_over,
    find_kinds,
    judgement_before,
    judgement_inside,
    judgement_qualifiers,
    mask_abbreviations,
    trim_judgement,
    window_at,
)
from trialmatch.criteria.rules import AnyOf, Infection, Not, Qualifier, Rule
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import ConceptMatch, Vocabulary, load_vocabulary

#: Infections that are generic ("active infection"): only these take "requiring systemic therapy".
_GENERIC = frozenset({"infection", "bacterial_infection", "viral_infection", "fungal_infection"})
_INFECTION = frozenset({"infection"})
_LETTER = {"B": "hepatitis_b", "C": "hepatitis_c"}
_LIST_GAP = re.compile(
    r"[\s,/]*(?:(?:patients?|subjects?|participants?|people|individuals)\s+)?(?:(?:and\s*/\s*or|and|or|nor)\b)?"
    r"[\s,/]*(?:(?:those|patients?|subjects?|participants?)\s+(?:with|who\s+(?:are|have))\s+(?:known\s+)?)?",
    re.IGNORECASE)
_EXAMPLE_CUE = re.compile(r"\s*[,(]?\s*(?:such\s+as|including|e\.\s?g\.?,?|eg,?|like)\s+", re.IGNORECASE)
_NAMED_AFTER = re.compile(r"\s+(?:with|by|due\s+to|caused\s+by)\s+(?:the\s+)?(?=\S)", re.IGNORECASE)
_MARKER = re.compile(r"\s*\((?P<inner>(?:[^()\[\]]|\[[^\]]*\])*)\)")
_WORD = re.compile(r"[A-Za-z0-9]+")
_RESULT_BEFORE = re.compile(r"\b(?:negative|positive|reactive|non-?reactive)\s+$", re.IGNORECASE)
#: A marker named after an infection ("HIV antibody"), read only with a result ("positive test for …").
_MARKER_NAME = re.compile(r"[-\s]+(?:1/2\s+|-?[12]\s+)?(?:antibod(?:y|ies)|antigen|Ab|Ag|serology)\b", re.IGNORECASE)
_ACTIVE_AND = re.compile(r"active\s*(?:,|and)\s*(?=(?:uncontrolled|uncontrollable)\b)", re.IGNORECASE)
#: Kinds of infection said with one noun for all: "bacterial, viral, or fungal infection".
_KIND_INFECTIONS = {"bacterial": "bacterial_infection", "viral": "viral_infection", "fungal": "fungal_infection"}
_ELIDED_KINDS = re.compile(r"(?<![\w-])(?:(?:bacterial|viral|fungal)\s*(?:,\s*(?:and\s*/\s*or\s+|or\s+|and\s+)?|"
                           r"(?:and\s*/\s*or|or|and)\s+|/\s*))+$", re.IGNORECASE)


@dataclass(frozen=True)
class _Wording:
    before: tuple[re.Pattern[str], ...]
    positive_after: re.Pattern[str]
    negative_after: re.Pattern[str]
    requiring: re.Pattern[str]
    marker_words: frozenset[str]
    hepatitis_pair: re.Pattern[str]
    block_after: re.Pattern[str]
    block_before: Alternatives


@cache
def _wording() -> _Wording:
    raw = read_yaml("criteria/disease-state.yaml")["infections"]
    flags = re.IGNORECASE
    return _Wording(
        before=tuple(re.compile(rf"(?<![\w-])(?:{p})$", flags) for p in raw["before"]),  # whole words only
        positive_after=re.compile(raw["positive_after"], flags),
        negative_after=re.compile(raw["negative_after"], flags),
        requiring=re.compile(raw["requiring"], flags),
        marker_words=frozenset(str(w).lower() for w in raw["marker_words"]),
        hepatitis_pair=re.compile(raw["hepatitis_pair"]),  # the letter is a capital: case matters
        block_after=re.compile(raw["block_after"], flags),
        block_before=Alternatives(raw["block_before"]),
    )


@dataclass(frozen=True)
class _Read:
    rule: Rule
    start: int
    end: int
    negative: bool
    #: The text gives this infection's own result ("positive for HIV", "HBsAg positive").
    result: bool = False


def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not text.strip():
        return []
    vocabulary = load_vocabulary()
    masked, abbreviations = mask_abbreviations(text)
    reads: list[_Read] = []
    for match in find_kinds(masked, _INFECTION):
        if reads and (match.start < reads[-1].end or _in_parenthesis_after(masked, reads[-1].end, match.start)):
            continue  # a marker of the infection just read ("(e.g., HCV RNA is detected)")
        read = _read(masked, match, abbreviations, passage, vocabulary)
        if read is not None:
            reads.append(read)
    reads = _with_examples(reads, masked, passage)
    reads = _negated_lists(reads, masked, passage)
    if passage.section == "exclusion":
        reads = _listed(reads, masked, passage)
    return [Found(r.rule, *passage.span(r.start, r.end), category="infection", confidence=SURE) for r in reads]


def _read(text: str, match: ConceptMatch, abbreviations: tuple[tuple[int, int], ...], passage: Passage,
          vocabulary: Vocabulary) -> _Read | None:
    wording = _wording()
    concept, start, end = match.concept.id, match.start, match.end
    elided: list[str] = []
    kinds = _ELIDED_KINDS.search(text, max(0, start - 60), start) if concept in _KIND_INFECTIONS.values() else None
    if kinds:
        # "Active bacterial, viral, or fungal infection requiring systemic therapy": every kind shares the noun and
        # all that is said around the list.
        elided = [c for word in re.findall(r"[a-z]+", kinds.group(0).lower())
                  if (c := _KIND_INFECTIONS.get(word)) and c != concept]
        start = kinds.start()
    coordinate = _ACTIVE_AND.match(text, start, end) if concept == "infection" else None
    read_from = start
    if coordinate:
        # "active, uncontrolled infection": both adjectives hold; "active" is what the concept names anyway.
        start = coordinate.end()
    trimmed = trim_judgement(text, start, end)
    if trimmed == start and judgement_inside(text[start + 1 : end]):
        return None  # "active, uncontrolled infection"
    qualifiers: tuple[Qualifier, ...] = ()
    if trimmed != start:
        # "uncontrolled infection": the infection the vocabulary names, judged; "uncontrolled HIV infection": HIV
        again = vocabulary.find(text[trimmed:end], kinds={"infection"})
        if again and (len(again) != 1 or trimmed + again[0].end != end):
            return None
        if again:
            concept = again[0].concept.id
        qualifiers = judgement_qualifiers(text[start:trimmed])
    start = read_from
    blocked = wording.block_after.match(text[end:])
    if blocked and _RESULT_BEFORE.search(text[:start]) and re.fullmatch(r"\s*tests?", blocked.group(0), re.I):
        blocked = None  # "negative HIV test": a result, not a test to be done
    if blocked or wording.block_before.search_before(text, start):
        return None
    if _after_exception_cue(text, start) or conditional_subject(text, end):
        return None
    named = _NAMED_AFTER.match(text, end) if concept in _GENERIC else None
    if named and any(m.start == 0 for m in vocabulary.find(text[named.end():], kinds={"infection"})[:1]):
        return None  # "active infection with HIV": the infection is HIV, read with it
    status = _status(match.text) if concept not in _GENERIC else "active"
    before = max((m for p in wording.before if (m := p.search(text[:start]))), key=lambda m: m.end() - m.start(),
                 default=None)
    if before is not None and before.end() - before.start() > 0:
        start = before.start()
        if before.groupdict().get("status") and concept not in _GENERIC:
            status = _status(before.group("status"))
    if _unreadable_status(text[start:end], concept in _GENERIC):
        return None
    judged = judgement_before(text, start)
    if judged != start:  # "serious active infection"
        if re.search(r"(?:\bor|\band/or|/)\s*$", text[:judged], re.IGNORECASE):
            return None  # "active or symptomatic hepatitis": a status or a judgement, not both
        qualifiers = judgement_qualifiers(text[judged:start]) + qualifiers
        start = judged
    concepts = [*dict.fromkeys(elided), concept]
    pair = wording.hepatitis_pair.match(text, end) if concept in ("hepatitis_b", "hepatitis_c") else None
    if pair and _LETTER[pair.group("letter")] != concept:
        concepts.append(_LETTER[pair.group("letter")])
        end = pair.end()
    end, negative, required = _after(text, end, abbreviations, concept in _GENERIC, cued=before is not None)
    qualifiers += required
    window = None if negative else window_at(text, len(text) - len(text[end:].lstrip(" ,")))
    if window is not None:  # "serious infection within 4 weeks prior to the first dose": had one in the window
        end, status = window.end, "any"
    result = negative or bool(re.search(r"positiv|reactive|\+", text[start:end], re.IGNORECASE))
    rules = [Infection(concept=c, name=_name(c, vocabulary), status=status, qualifiers=qualifiers,  # type: ignore[arg-type]
                       within=window.within if window else None, span=passage.span(start, end)) for c in concepts]
    rule: Rule = rules[0] if len(rules) == 1 else AnyOf(children=tuple(rules), span=passage.span(start, end))
    if negative:
        rule = Not(child=rule, span=passage.span(start, end))
    return _Read(rule, start, end, negative, result)


def _after(text: str, end: int, abbreviations: tuple[tuple[int, int], ...], generic: bool, cued: bool
           ) -> tuple[int, bool, tuple[Qualifier, ...]]:
    """The end of what follows an infection's name and belongs to it; whether it says "negative"; and the
    treatment it needs ("requiring systemic therapy")."""
    wording = _wording()
    negative = False
    required: tuple[Qualifier, ...] = ()
    while True:
        moved = extend_over(text, end, abbreviations)
        marker = _MARKER.match(text, moved)
        if marker and _is_marker(marker.group("inner")):
            moved = marker.end()
        marker_name = _MARKER_NAME.match(text, moved)
        if marker_name and (cued or wording.positive_after.match(text, marker_name.end())):
            moved = marker_name.end()
        positive = wording.positive_after.match(text, moved)
        if positive and positive.end() > moved:
            moved = positive.end()
        if generic:
            requiring = wording.requiring.match(text, moved)
            if requiring:
                moved = requiring.end()
                required = (Qualifier(name=_required(requiring.group(0)), value=True),)
        if not negative:
            denied = wording.negative_after.match(text, moved)
            if denied:
                moved, negative = denied.end(), True
        if moved == end:
            return end, negative, required
        end = moved


def _required(words: str) -> str:
    """The qualifier "requiring …" gives: intravenous, systemic or any treatment."""
    if re.search(r"\b(?:intravenous|IV|parenteral)\b", words, re.IGNORECASE) and not re.search(
            r"\boral\b", words, re.IGNORECASE):
        return "requires_intravenous_treatment"
    if re.search(r"\bsystemic\b", words, re.IGNORECASE):
        return "requires_systemic_treatment"
    return "requires_treatment"


def _in_parenthesis_after(text: str, end: int, position: int) -> bool:
    opened = text.find("(", end, position)
    return opened >= 0 and not text[end:opened].strip() and text.find(")", opened, position) < 0


def _is_marker(inner: str) -> bool:
    words = [w.lower() for w in _WORD.findall(inner)]
    return bool(words) and all(w in _wording().marker_words for w in words)


_CHRONIC_ACTIVE = re.compile(
    r"\bchronic[\s,]+(?:and\s+)?(?:active|acute)\b|\b(?:active|acute)[\s,]+(?:and\s+)?chronic\b", re.IGNORECASE)
_ACUTE = re.compile(r"\bacute\b(?![\s,]+(?:or|and/or)\b)", re.IGNORECASE)


def _unreadable_status(around: str, generic: bool) -> bool:
    """Statuses the leaf can't say: "chronic active hepatitis" (chronic and active at once), "acute viral
    infection" (active would take in chronic infections too) and "chronic infectious disease" (a generic
    infection is read as active)."""
    if _CHRONIC_ACTIVE.search(around) or (generic and re.search(r"\bchronic\b", around, re.IGNORECASE)):
        return True
    acute = _ACUTE.search(around)
    return acute is not None and not re.search(r"\b(?:or|and/or)\s+$", around[: acute.start()], re.IGNORECASE) \
        and not re.search(r"^\s*(?:or|and/or)\b", around[acute.end() :], re.IGNORECASE)


def _status(words: str) -> str:
    lowered = words.lower()
    if re.search(r"\b(?:or|and/or)\b", lowered):
        return "any"  # "acute or chronic", "active or chronic"
    if "chronic" in lowered:
        return "chronic"
    if re.search(r"\b(?:active|ongoing|current|acute|persistent)\b", lowered):
        return "active"
    return "any"


def _name(concept: str, vocabulary: Vocabulary) -> str:
    found = vocabulary.get(concept)
    return found.name if found else concept


def _after_exception_cue(text: str, position: int) -> bool:
    sentence_start = max((m.end() for m in re.finditer(r"[.;]\s", text[:position])), default=0)
    return compose_wording().exception_start.search(text, sentence_start, position) is not None


def _listed(reads: list[_Read], text: str, passage: Passage) -> list[_Read]:
    """Infections listed together in an exclusion, as one "any of" rule."""
    out: list[_Read] = []
    for read in reads:
        previous = out[-1] if out else None
        if (previous is not None and not previous.negative and not read.negative
                and _LIST_GAP.fullmatch(text[previous.end : read.start])):
            children = (*_children(previous.rule), *_children(read.rule))
            span = passage.span(previous.start, read.end)
            out[-1] = _Read(AnyOf(children=children, span=span), previous.start, read.end, False)
        else:
            out.append(read)
    return out


def _with_examples(reads: list[_Read], text: str, passage: Passage) -> list[_Read]:
    """"Active infections such as hepatitis B, hepatitis C and HIV": the general infection or any example."""
    out: list[_Read] = []
    index = 0
    while index < len(reads):
        read = reads[index]
        cue = _EXAMPLE_CUE.fullmatch(text[read.end : reads[index + 1].start]) if index + 1 < len(reads) else None
        if cue is None or read.negative or not any(isinstance(c, Infection) and c.concept in _GENERIC
                                                    for c in _children(read.rule)):
            out.append(read)
            index += 1
            continue
        examples = [reads[index + 1]]
        while index + 1 + len(examples) < len(reads) and _LIST_GAP.fullmatch(
                text[examples[-1].end : reads[index + 1 + len(examples)].start]):
            examples.append(reads[index + 1 + len(examples)])
        children = (*_children(read.rule), *(c for e in examples for c in _children(e.rule)))
        end = examples[-1].end
        out.append(_Read(AnyOf(children=children, span=passage.span(read.start, end)), read.start, end, False,
                         read.result))
        index += 1 + len(examples)
    return out


def _negated_lists(reads: list[_Read], text: str, passage: Passage) -> list[_Read]:
    """"Hepatitis B and/or hepatitis C negative": a result after a list is every listed infection's."""
    out: list[_Read] = []
    for read in reads:
        listed: list[_Read] = []
        while (read.negative and out and not out[-1].result
               and _LIST_GAP.fullmatch(text[out[-1].end : (listed[0] if listed else read).start])):
            listed.insert(0, out.pop())
        if not listed:
            out.append(read)
            continue
        inner = read.rule.child if isinstance(read.rule, Not) else read.rule
        children = (*(c for r in listed for c in _children(r.rule)), *_children(inner))
        span = passage.span(listed[0].start, read.end)
        out.append(_Read(Not(child=AnyOf(children=children, span=span), span=span), listed[0].start, read.end,
                         True, True))
    return out


def _children(rule: Rule) -> tuple[Rule, ...]:
    return rule.children if isinstance(rule, AnyOf) else (rule,)
