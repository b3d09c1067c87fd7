"""Conditions: the trial's disease and its state, comorbidities, CNS disease and other cancers.

Reads "Relapsed or refractory Ph+ B-ALL", "Second or later bone marrow relapse", "B cell precursor ALL in
first or later hematologic complete remission (CR)", "Relapse at any time after allogenic HSCT",
"History of myocardial infarction within 6 months", "Active acute or chronic GvHD requiring systemic
treatment", "History or presence of clinically relevant CNS pathology such as epilepsy …", "Active
malignancy other than ALL", "Burkitt's leukemia according to the WHO 2016 criteria".

A phrase is read as a run of units (``data/criteria/disease-state.yaml``): conditions named by the
vocabulary, disease states (relapse, refractory, remission), details (Ph status, CD19, KMT2A, after a
transplant), a status (history, active) and a window ("within 6 months"). States joined by "or" become
alternative rules; details hold for every alternative. A phrase naming a state but no disease is about
the disease under study (``DISEASE_UNDER_STUDY``). Judgement words ("uncontrolled", "clinically
significant") are never read, so the criterion stays partly a question.

The helpers ``mask_abbreviations``, ``status_units`` and ``window_at`` are shared with the infection
recogniser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import pairwise, product
from typing import Any

from trialmatch.criteria.compose import load_wording as compose_wording
from trialmatch.criteria.folding import Alternatives, Needs, folded_pattern, folded_text, pattern_needs, scanning
from trialmatch.criteria.folding import most_telling as _best
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import DURATION, load_phrases, parse_duration
from trialmatch.criteria.rules import AnyOf, Comparator, Condition, Duration, Qualifier, Rule, RuleException, leaves
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import (
    ConceptMatch,
    Vocabulary,
    _exact_key,
    _folded_key,
    _words,
    load_vocabulary,
)

#: The concept of a phrase that names a disease state but no disease ("Second or later relapse"): the
#: matcher reads it as the trial's own conditions.
DISEASE_UNDER_STUDY = "disease_under_study"
DISEASE_UNDER_STUDY_NAME = "the disease under study"

#: Confidence when "and" joins two disease states ("relapsed and refractory" often means either).
_AND_STATES = 0.75

#: Confidence when a judgement stands before a list of conditions ("severe COPD or asthma": both, or COPD only?).
_JUDGEMENT_SCOPE = 0.7

#: Confidence of a condition whose definition follows and is read by another recogniser.
_DEFINED_ELSEWHERE = 0.6
_DEFINED_AFTER = re.compile(
    r"\s*(?:[,:;(]|-{1,2})?\s*(?:(?:as\s+)?(?:defined|evidenced|measured|determined|shown|documented|indicated|"
    r"confirmed|characteri[sz]ed|manifested)\s+(?:as|by)|i\.\s?e\.?|that\s+is|meaning)\b",
    re.IGNORECASE,
)

#: Confidence of a cancer named as "other" or "another" ("other hematologic malignancy"): other than the trial's own.
_OTHER_THAN_OWN = 0.6
_OTHER_BEFORE = re.compile(r"\b(?:other|another|second|secondary|additional)\s+"
                           r"(?:(?:active|prior|previous|known|current|concurrent|primary|invasive)\s+)*$",
                           re.IGNORECASE)

#: Confidence when the sentence names a window the phrase did not read.
_UNREAD_WINDOW = 0.7

_CONDITION = frozenset({"condition"})

#: Concepts whose own window a window after them is ("chemotherapy within 4 weeks").
_OTHER_KINDS = {"drug", "drug_class", "procedure", "lab", "measure", "infection"}

#: Qualifiers that make a criterion about the disease's state rather than the disease itself.
_STATE_QUALIFIERS = frozenset({
    "relapse_number", "relapse_site", "refractory", "refractory_to", "remission", "remission_number",
    "after_transplant", "after_therapy", "philadelphia", "cd19", "kmt2a", "newly_diagnosed", "untreated",
})
_TRANSPLANT_KINDS = (("auto", "autologous_hsct"), ("allo", "allogeneic_hsct"))

_GAP = re.compile(
    r"[\s,/]*(?:(?:and\s*/\s*or|or\s*/|either|or|and|nor|with|in|of|the|a|an|that|which|who|whose|has|have|had|other|another|"
    r"is|are|was|were|been|be|at|any|time|having|patients?|participants?|subjects?)\b[\s,/]*)*|-\s*(?:patients?|participants?)\s+",
    re.IGNORECASE,
)
#: What may follow a phrase that names no disease, so "recurrent" in "recurrent MRD" is not read.
_AFTER_BARE_STATE = re.compile(
    r"\s*(?:$|[;:.,)\]]|(?:or|and|at|after|following|with|defined|as|who|which|that|in|during|despite|within|since|"
    r"per|according|is|are|was|has|have|must|should|will|patients?|participants?|subjects?|children|adults?|"
    r"infants?|disease)\b|\()",
    re.IGNORECASE,
)
#: Matched lower-case on the folded text (see ``folded_pattern``).
_CONDITIONAL = (
    r"\b(?:must|should|may|can|could|need(?:s)?\s+to|(?:is|are|will\s+be|would\s+be|be)\s+"
    r"(?:eligible|allowed|permitted|acceptable|required|included|enrolled))\b(?!\s+(?:not\b|be\s+excluded|be\s+ineligible))"
)
_DURATION_RE = re.compile(DURATION, re.IGNORECASE)
_ABBREVIATION = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9\-/.]{0,13})\s*\)")
_WORDS = re.compile(r"[A-Za-z0-9]+")


# --- data --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _UnitSpec:
    kind: str
    pattern: re.Pattern[str]
    fixed: tuple[tuple[str, Comparator, Any], ...] = ()
    number: str | None = None
    status: str | None = None
    confidence: float = SURE
    only_after: tuple[str, ...] = ()
    needs_state: bool = False
    #: The pattern is lower-case, for the folded text (a case-insensitive pattern).
    folded: bool = True
    #: Words every match contains: the pattern is tried only on texts that have them.
    needs: Needs = field(default_factory=lambda: Needs([]))


@dataclass(frozen=True)
class _Wording:
    units: tuple[_UnitSpec, ...]
    ordinals: dict[str, int]
    ordinal: re.Pattern[str]
    open_ended: re.Pattern[str]
    sites: tuple[tuple[str, re.Pattern[str]], ...]
    within: tuple[re.Pattern[str], ...]
    relevant_cns: re.Pattern[str]
    relevant_confidence: float
    judgement: tuple[str, ...]
    #: The qualifier values each judgement phrase gives.
    judgement_values: dict[str, tuple[str, ...]]
    #: Judgement words before a condition (the phrases without "active", which is a status).
    judgement_before: re.Pattern[str]
    judgement_after: tuple[tuple[str, re.Pattern[str]], ...]
    judgement_in_names: frozenset[str]
    status_after: tuple[tuple[str, re.Pattern[str]], ...]
    status_in_names: re.Pattern[str]
    phrases: tuple[tuple[str, re.Pattern[str], Needs], ...]
    definitions: dict[str, re.Pattern[str]]
    claims: re.Pattern[str]
    example_words: frozenset[str]
    example_list: re.Pattern[str]
    skip: frozenset[str]
    habits: frozenset[str]
    generic_cancer: frozenset[str]
    normalise: dict[str, tuple[str, tuple[tuple[str, Any], ...]]]
    categories: tuple[tuple[str, frozenset[str]], ...]
    block_after: re.Pattern[str]
    block_before: Alternatives
    triggers: re.Pattern[str]
    trigger_hint: re.Pattern[str]
    other_than: re.Pattern[str]
    both_forms: re.Pattern[str]
    conditional_before: re.Pattern[str]
    example_before: re.Pattern[str]
    #: Any word a state, detail or phrase pattern needs (folded text): without one, none of them can match.
    state_cue: re.Pattern[str]
    adjective_people: re.Pattern[str]


def _alternation(items: list[str]) -> str:
    return "|".join(sorted(items, key=len, reverse=True))


@cache
def load_wording() -> _Wording:
    raw = read_yaml("criteria/disease-state.yaml")
    flags = re.IGNORECASE
    ordinals = {str(k).lower(): int(v) for k, v in raw["ordinals"].items()}
    ordinal = rf"\b(?:{_alternation([re.escape(o) for o in ordinals])})\b"
    open_ended = _alternation([p.replace("{ORD}", ordinal) for p in raw["open_ended"]])
    ordlist = (rf"{ordinal}(?:\s*(?:,\s*(?:and\s*/\s*or|or|and)?|and\s*/\s*or|or|and|/)\s*{ordinal})*"
               rf"(?:\s*,?\s*(?:{open_ended}))?")
    sites = [(site, re.compile(rf"^(?:{_alternation(patterns)})$", flags)) for site, patterns
             in raw["relapse_sites"].items()]
    site = _alternation([p for patterns in raw["relapse_sites"].values() for p in patterns])
    refpoint = raw["refpoint"]
    fill = {"{ORDLIST}": ordlist, "{ORD}": ordinal, "{SITE}": site, "{TRANSPLANT}": raw["transplant"],
            "{DURATION}": DURATION, "{REFPOINT}": refpoint}

    def filled(pattern: str) -> str:
        for key, value in fill.items():
            pattern = pattern.replace(key, value)
        return pattern

    units = []
    for spec in raw["units"]:
        case = 0 if spec.get("case") == "exact" else flags
        fixed = tuple((name, value[0], value[1]) if isinstance(value, list) else (name, "=", value)
                      for name, value in (spec.get("set") or {}).items())
        units.append(_UnitSpec(kind=spec["kind"], pattern=folded_pattern(filled(spec["pattern"]), case), fixed=fixed,
                               number=spec.get("number"), status=spec.get("status"),
                               confidence=float(spec.get("confidence", SURE)),
                               only_after=tuple(spec.get("only_after", ())),
                               needs_state=bool(spec.get("needs_state", False)),
                               needs=pattern_needs(filled(spec["pattern"]), case), folded=bool(case)))
    judgement = {str(phrase).lower(): tuple(value) if isinstance(value, list) else (str(value),)
                 for phrase, value in raw["judgement"].items()}
    tail = rf"(?:\s*,?\s*(?:prior\s+to|before|preceding|of|from)\s+{refpoint})?"
    within = (
        folded_pattern(rf"\(\s*(?:within|in|during|over)\s+(?:the\s+)?(?:last|past|previous|preceding|prior)?\s*"
                       rf"(?P<d>{DURATION}){tail}\s*\)", flags),
        folded_pattern(rf"(?:within|in|during|over)\s+(?:the\s+)?(?:last|past|previous|preceding|prior)?\s*"
                       rf"(?P<d>{DURATION}){tail}", flags),
        folded_pattern(rf"(?:within|in|during|over)\s+(?:the\s+)?(?:last|past|previous|preceding|prior)\s+"
                       rf"(?P<u>year|month|week){tail}", flags),
        folded_pattern(rf"(?:<|less\s+than|≤|<=|fewer\s+than)\s*(?P<d>{DURATION})\s+(?:prior\s+to|before)\s+"
                       rf"{refpoint}", flags),
    )
    phrases = tuple((concept, folded_pattern(filled(p)), pattern_needs(filled(p), flags))
                    for concept, patterns in raw["phrases"].items() for p in patterns)
    definitions = {concept: re.compile(rf"\s*[.;:]?\s*(?:{_alternation(patterns)})", flags)
                   for concept, patterns in raw["definitions"].items()}
    claims = re.compile(rf"\s*,?\s*(?:{_alternation(raw['claims'])})", flags)
    example_list = re.compile(
        rf"\s*[,:\-–]?\s*(?:\(\s*(?P<cue>{raw['example_cues']})?\s*(?P<inner>[^()]*)\)|{raw['example_cues']}\s+"
        rf"(?P<bare>[^.;()]*))", flags)
    normalise = {concept: (spec["concept"], tuple((spec.get("qualifiers") or {}).items()))
                 for concept, spec in raw["normalise"].items()}
    return _Wording(
        units=tuple(units),
        ordinals=ordinals,
        ordinal=re.compile(ordinal, flags),
        open_ended=re.compile(rf"(?:{open_ended})\s*$", flags),
        sites=tuple(sites),
        within=within,
        relevant_cns=folded_pattern(rf"(?:{raw['relevant_cns']['pattern']})\s+$"),
        relevant_confidence=float(raw["relevant_cns"]["confidence"]),
        judgement=tuple(sorted(judgement, key=len, reverse=True)),
        judgement_values=judgement,
        judgement_before=folded_pattern(_alternation([r"[-\s]+".join(re.escape(w) for w in phrase.split())
                                                      for phrase in judgement if "active" not in phrase.split()])),
        judgement_after=tuple((str(value), folded_pattern(p)) for value, patterns in raw["judgement_after"].items()
                              for p in patterns),
        judgement_in_names=frozenset(str(w).lower() for w in raw["judgement_in_names"]),
        status_after=tuple((str(status), folded_pattern(p)) for status, p in raw["status_after"].items()),
        status_in_names=folded_pattern(raw["status_in_names"]),
        phrases=phrases,
        definitions=definitions,
        claims=claims,
        example_words=frozenset(str(w).lower() for w in raw["example_words"]),
        example_list=example_list,
        skip=frozenset(raw["skip_concepts"]),
        habits=frozenset(raw.get("habits", ())),
        generic_cancer=frozenset(raw["generic_cancer"]),
        normalise=normalise,
        categories=tuple((category, frozenset(ids)) for category, ids in raw["categories"].items()),
        block_after=folded_pattern(raw["block_after"]),
        block_before=Alternatives(raw["block_before"]),
        triggers=re.compile(raw["triggers"], flags),
        trigger_hint=re.compile(raw["trigger_hint"]),
        other_than=re.compile(r"\s*(?:\(\s*(?:with\s+)?(?:certain|some)\s+exceptions?\s*\)\s*)?"
                              r"(?P<cue>(?:other\s+than|besides)\s+)", flags),
        both_forms=folded_pattern(rf"(?:{raw['both_forms']})\s*$"),
        conditional_before=folded_pattern(raw["conditional_before"]),
        example_before=folded_pattern(raw["example_before"]),
        state_cue=re.compile(_alternation(list(dict.fromkeys(re.escape(w) for needs in [
            *(u.needs for u in units if u.kind in ("state", "attr")), *(n for _, _, n in phrases)]
            for w in _best(list(needs.groups)))))),
        adjective_people=re.compile(raw["adjective_people"], flags),
    )


# --- shared helpers ---------------------------------------------------------------------------------

@lru_cache(maxsize=64)  # read by the condition and the infection recognisers, the same passage in a row
def mask_abbreviations(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """``text`` with each abbreviation in parentheses that repeats the words before it blanked out.

    "acute lymphoblastic leukemia (ALL)" → "acute lymphoblastic leukemia      ": the vocabulary then
    reads "Isolated extramedullary (EM) disease" as one phrase, and "(ALL)" is not a second disease.
    Offsets are unchanged. Returns the masked text and the masked spans.
    """
    out = text
    spans: list[tuple[int, int]] = []
    for match in _ABBREVIATION.finditer(text):
        inner = match.group(1)
        if not _abbreviates(inner, text[: match.start()]):
            continue
        spans.append((match.start(), match.end()))
        out = out[: match.start()] + " " * (match.end() - match.start()) + out[match.end():]
    return out, tuple(spans)


def _abbreviates(inner: str, before: str) -> bool:
    """True when ``inner`` ("ALL", "alloHSCT", "GvHD") is an acronym of the words right before it."""
    letters = re.sub(r"[^A-Za-z0-9]", "", inner).lower()
    capitals = sum(c.isupper() for c in inner)
    if len(letters) < 2 or capitals < 1 or (capitals < 2 and not any(c.isdigit() for c in inner)):
        return False
    words = _WORDS.findall(before)[-7:]
    for first in range(len(words)):
        if words[first][0].lower() != letters[0]:
            continue
        joined = "".join(words[first:]).lower()
        position = 0
        for letter in letters:
            position = joined.find(letter, position)
            if position < 0:
                break
            position += 1
        else:
            return True
    return False


def extend_over(text: str, end: int, masked: tuple[tuple[int, int], ...]) -> int:
    """``end`` moved past blanked abbreviations right after it (only whitespace between)."""
    for start, stop in sorted(masked):
        if start >= end and not text[end:start].strip():
            end = stop
    return end


@dataclass(frozen=True)
class Unit:
    """One piece of a condition phrase, offsets relative to the passage text."""

    kind: str  # disease | head | state | attr | status | within | judgement
    start: int
    end: int
    concept: str | None = None
    qualifiers: tuple[Qualifier, ...] = ()
    status: str | None = None
    within: Duration | None = None
    confidence: float = SURE
    only_after: tuple[str, ...] = ()
    needs_state: bool = False
    exceptions: tuple[RuleException, ...] = ()
    other: bool = False


def status_units(text: str) -> list[Unit]:
    """Status words ("history of", "active", "known") and windows ("within 6 months") in ``text``."""
    wording = load_wording()
    folded = folded_text(text)
    out = [Unit("status", m.start(), m.end(), status=spec.status, within=_duration(m))
           for spec in wording.units if spec.kind == "status" and spec.needs.met(folded)
           for m in _word_matches(spec.pattern, folded)]
    out += window_units(text)
    return out


def window_units(text: str) -> list[Unit]:
    out: list[Unit] = []
    if not _may_name_time(folded_text(text)):
        return out
    for pattern in load_wording().within:
        for match in pattern.finditer(folded_text(text)):
            duration = _duration(match)
            if duration is not None:
                out.append(Unit("within", match.start(), match.end(), within=duration))
    return out


@cache
def _time_cue() -> re.Pattern[str]:
    """What every window needs (folded text): a digit, a number word, or "year", "month", "week"."""
    words = [*load_phrases().number_words, "year", "month", "week"]
    return scanning(rf"\d|\b(?:{_alternation([re.escape(str(w).lower()) for w in words])})")


def _may_name_time(folded: str) -> bool:
    """False when the text can't name a length of time (no number at all): a cheap test before DURATION."""
    return _time_cue().search(folded) is not None


def window_at(text: str, position: int) -> Unit | None:
    """A window ("within the past 6 months prior to enrollment") starting at ``position``, if any."""
    best = None
    for pattern in load_wording().within:
        match = pattern.match(folded_text(text), position)
        if match and (best is None or match.end() > best.end):
            duration = _duration(match)
            if duration is not None:
                best = Unit("within", match.start(), match.end(), within=duration)
    return best


def _duration(match: re.Match[str]) -> Duration | None:
    groups = match.groupdict()
    try:
        if groups.get("d"):
            return parse_duration(groups["d"])
        unit = groups.get("u")
        if unit:
            return Duration(value=1, unit=f"{unit.lower()}s")  # type: ignore[arg-type]
    except ValueError:
        return None
    return None


def _word_matches(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Matches that start and end on word boundaries."""
    out = []
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if (before.isalnum() and match.group(0)[0].isalnum()) or (after.isalnum() and match.group(0)[-1].isalnum()):
            continue
        out.append(match)
    return out


def trim_judgement(text: str, start: int, end: int) -> int:
    """``start`` moved past judgement words ("uncontrolled", "clinically significant") opening text[start:end]."""
    pattern = _judgement_patterns()
    while match := pattern.match(text, start, end):
        start = match.end()
    return start


def judgement_qualifiers(text: str) -> tuple[Qualifier, ...]:
    """The judgement qualifiers of the judgement words in ``text`` ("uncontrolled active" → uncontrolled)."""
    wording = load_wording()
    return tuple(Qualifier(name="judgement", value=value) for phrase in _judgement_patterns().findall(text.lower())
                 for value in wording.judgement_values[" ".join(phrase.replace("-", " ").replace(",", " ").split())])


def judgement_before(text: str, end: int) -> int:
    """``end`` moved back over judgement words right before it ("serious " in "serious active infection")."""
    pattern = _judgement_ending()
    while match := pattern.search(folded_text(text), 0, end):
        end = match.start()
    return end


@cache
def _judgement_ending() -> re.Pattern[str]:
    words = (r"[-\s]+".join(re.escape(w) for w in phrase.split()) for phrase in load_wording().judgement)
    return re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")[-\s,]+$")


def judgement_inside(text: str) -> bool:
    """True when a judgement word stands inside ``text`` ("active, uncontrolled infection")."""
    return _judgement_anywhere().search(text) is not None


@cache
def _judgement_anywhere() -> re.Pattern[str]:
    words = (r"[-\s]+".join(re.escape(w) for w in phrase.split()) for phrase in load_wording().judgement)
    return re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])", re.IGNORECASE)


@cache
def _judgement_patterns() -> re.Pattern[str]:
    """The judgement words, longest first (the first alternative that matches wins, as in a list)."""
    return re.compile("|".join(r"[-\s]+".join(re.escape(w) for w in phrase.split()) + r"[-\s,]+"
                               for phrase in load_wording().judgement), re.IGNORECASE)


# --- the recogniser ---------------------------------------------------------------------------------

def recognise(passage: Passage) -> list[Found]:
    text = passage.text
    if not text.strip():
        return []
    wording = load_wording()
    vocabulary = load_vocabulary()
    masked, abbreviations = mask_abbreviations(text)
    diseases = _disease_units(masked, vocabulary, wording)
    if not diseases and not (wording.trigger_hint.search(folded_text(masked)) and wording.triggers.search(masked)):
        return []
    units = _select(_state_units(masked, wording) + _other_units(masked, wording) + diseases)
    found: list[Found] = []
    taken_until = 0
    for chunk in _chunks(units, masked):
        if chunk[0].start < taken_until:
            continue
        example = wording.example_before.search(folded_text(masked), taken_until, chunk[0].start)
        if example and example.end() == chunk[0].start:
            continue  # an example of something not read here ("medical illness (e.g. diabetes)")
        built = _build(chunk, passage, masked, abbreviations, vocabulary, wording)
        if built is None:
            continue
        found.append(built)
        taken_until = built.end - passage.start
    return [_unsure_state_of_other_cancer(f) for f in found]


_DISEASE_STATES = frozenset({"measurable_disease", "evaluable_disease"})


def _unsure_state_of_other_cancer(found: Found) -> Found:
    """A state of the disease read beside another cancer ("Concurrent malignancies with evidence of active or
    measurable disease"): it is that cancer's state, not the trial's own disease, which the rule can't say."""
    concepts = {leaf.concept for leaf in leaves(found.rule) if isinstance(leaf, Condition)} if found.rule else set()
    if concepts & _DISEASE_STATES and "other_malignancy" in concepts:
        return Found(found.rule, found.start, found.end, found.category, min(found.confidence, _OTHER_THAN_OWN),
                     found.claimed)
    return found


def _state_units(text: str, wording: _Wording) -> list[Unit]:
    """Disease states, details and conditions named by a phrase."""
    folded = folded_text(text)
    units: list[Unit] = []
    if not wording.state_cue.search(folded):
        return units
    for spec in wording.units:
        if spec.kind not in ("state", "attr") or not spec.needs.met(folded):
            continue
        for match in _word_matches(spec.pattern, folded if spec.folded else text):
            unit = _unit_from(spec, match)
            if unit is not None:
                units.append(unit)
    for concept, pattern, needs in wording.phrases:
        if needs.met(folded):
            units += [Unit("disease", m.start(), m.end(), concept=concept) for m in _word_matches(pattern, folded)]
    return units


def _other_units(text: str, wording: _Wording) -> list[Unit]:
    """Statuses, windows and "the disease"."""
    folded = folded_text(text)
    units = [_unit_from(spec, m) for spec in wording.units if spec.kind == "head" and spec.needs.met(folded)
             for m in _word_matches(spec.pattern, folded if spec.folded else text)]
    return [u for u in units if u is not None] + status_units(text) + _judgement_units(text, wording)


def _judgement_units(text: str, wording: _Wording) -> list[Unit]:
    """Judgement words ("uncontrolled", "clinically significant"), each a qualifier for the condition after it."""
    return [Unit("judgement", m.start(), m.end(), qualifiers=tuple(
        Qualifier(name="judgement", value=v) for v in wording.judgement_values[" ".join(m.group(0).replace("-", " ")
                                                                                         .split())]))
            for m in _word_matches(wording.judgement_before, folded_text(text))]


def _unit_from(spec: _UnitSpec, match: re.Match[str]) -> Unit | None:
    groups = match.groupdict()
    qualifiers = [Qualifier(name=name, comparator=comparator, value=value) for name, comparator, value in spec.fixed]
    wording = load_wording()
    if groups.get("ord") and spec.number:
        numbers = _ordinal_limits(groups["ord"], bool(groups.get("later")))
        if numbers is None:
            return None
        if groups.get("beyond"):
            # "greater than second relapse": past the one ordinal named; a list or an open end is not read.
            if len(numbers) != 1 or numbers[0][0] != "=":
                return None
            numbers = [(">", numbers[0][1])]
        qualifiers += [Qualifier(name=spec.number, comparator=c, value=float(v)) for c, v in numbers]
    if groups.get("crn"):
        comparator: Comparator = ">=" if groups.get("later") else "="
        qualifiers.append(Qualifier(name="remission_number", comparator=comparator, value=float(groups["crn"])))
    if groups.get("site"):
        site = " ".join(groups["site"].split())
        name = next((n for n, p in wording.sites if p.match(site)), None)
        if name is None:
            return None
        qualifiers.append(Qualifier(name="relapse_site", value=name))
    if groups.get("untreated"):
        qualifiers.append(Qualifier(name="untreated", value=True))
    if groups.get("primary"):
        qualifiers.append(Qualifier(name="refractory_to", value="induction"))
    elif groups.get("to"):
        to = groups["to"].lower().replace("-", "")
        qualifiers.append(Qualifier(name="refractory_to", value="reinduction" if to == "reinduction" else to))
    if groups.get("transplant"):
        transplant = groups["transplant"].lower()
        kind = next((k for cue, k in _TRANSPLANT_KINDS if cue in transplant), "hsct")
        qualifiers.append(Qualifier(name="after_transplant", value=kind))
    if groups.get("nyha"):
        # "class III or IV", "class II or greater": that class or worse; "class III" alone: that class.
        comparator = ">=" if groups.get("nyha_open") else "="
        qualifiers.append(Qualifier(name="nyha_class", comparator=comparator, value=float(_roman(groups["nyha"]))))
    if groups.get("grade"):
        grade = float(_roman(groups["grade"]))
        if groups.get("gcmp"):
            written = " ".join(groups["gcmp"].lower().split())
            cmp: Comparator = _GRADE_COMPARATORS.get(written, written)  # type: ignore[assignment]
        else:
            cmp = ">" if groups.get("gmore") else ">=" if groups.get("gopen") or groups.get("gtop") else "="
        qualifiers.append(Qualifier(name="grade", comparator=cmp, value=grade))
    if not qualifiers and spec.kind in ("state", "attr"):
        return None
    return Unit(spec.kind, match.start(), match.end(), qualifiers=tuple(qualifiers), confidence=spec.confidence,
                only_after=spec.only_after, needs_state=spec.needs_state)


#: How criteria write a grade comparator ("grade >/= 2", "greater than or equal to grade 2").
_GRADE_COMPARATORS = {"≥": ">=", "≤": "<=", ">/=": ">=", "=>": ">=", "</=": "<=", "=<": "<=",
                      "greater than or equal to": ">=", "equal to or greater than": ">=", "at least": ">="}


def _roman(value: str) -> int:
    return {"i": 1, "ii": 2, "iii": 3, "iv": 4}.get(value.lower()) or int(value)


def _ordinal_limits(text: str, later: bool) -> list[tuple[Comparator, int]] | None:
    wording = load_wording()
    numbers = [wording.ordinals[m.group(0).lower()] for m in wording.ordinal.finditer(text)]
    if not numbers:
        return None
    # "or more than third" names an ordinal that only bounds the list: it is already covered.
    open_match = wording.open_ended.search(text)
    if open_match:
        numbers = [n for n in numbers if not wording.ordinal.search(open_match.group(0))
                   or n != numbers[-1]] or numbers
    if later or open_match:
        return [(">=", min(numbers))]
    if len(numbers) == 1:
        return [("=", numbers[0])]
    if sorted(numbers) != list(range(min(numbers), max(numbers) + 1)):
        return None  # "first or third": not a range
    return [(">=", min(numbers)), ("<=", max(numbers))]


@cache
def _name_starts(kinds: frozenset[str]) -> tuple[frozenset[object], frozenset[object]]:
    """How names of ``kinds`` begin (folded, exact): a one-word name, or the first two words of a longer one;
    and the first words of both kinds of start (a cheaper first test)."""
    concepts = [c for c in load_vocabulary().concepts.values() if c.kind in kinds]
    folded = {key[0] if len(key) == 1 else key[:2]
              for c in concepts for key in map(_folded_key, (c.name, *c.synonyms)) if key}
    exact = {key[0] if len(key) == 1 else key[:2] for c in concepts for key in map(_exact_key, c.abbreviations) if key}
    return frozenset(folded), frozenset(exact), frozenset(k if isinstance(k, str) else k[0] for k in folded), \
        frozenset(k if isinstance(k, str) else k[0] for k in exact)


def find_kinds(text: str, kinds: frozenset[str]) -> list[ConceptMatch]:
    """``Vocabulary.find(text, kinds)``, skipped when no word or pair of words of the text begins such a name."""
    folded_starts, exact_starts, folded_firsts, exact_firsts = _name_starts(kinds)
    raw, folded = _words(text)
    if (folded_firsts.isdisjoint(folded) or (folded_starts.isdisjoint(folded)
                                             and folded_starts.isdisjoint(pairwise(folded)))) \
            and (exact_firsts.isdisjoint(raw) or (exact_starts.isdisjoint(raw)
                                                  and exact_starts.isdisjoint(pairwise(raw)))):
        return []
    return load_vocabulary().find(text, kinds=set(kinds))


def _disease_units(text: str, vocabulary: Vocabulary, wording: _Wording) -> list[Unit]:
    out: list[Unit] = []
    for match in find_kinds(text, _CONDITION):
        unit = _disease_unit(text, match, vocabulary, wording)
        if unit is not None:
            out.append(unit)
    return out


def _disease_unit(text: str, match: ConceptMatch, vocabulary: Vocabulary, wording: _Wording) -> Unit | None:
    concept = match.concept.id
    if concept in wording.skip:
        return None
    folded = folded_text(text)
    named = folded[match.start : match.end].split(" ", 1)[0] in wording.judgement_in_names
    start = match.start if named else trim_judgement(text, match.start, match.end)
    if start != match.start:
        trimmed = vocabulary.find(text[start : match.end], kinds={"condition"})
        if len(trimmed) != 1 or trimmed[0].end != match.end - start:
            return None  # nothing to read without the judgement ("uncontrolled illness")
        if trimmed[0].concept.id == concept:
            start += trimmed[0].start  # "uncontrolled diabetes": diabetes, and "uncontrolled" stays unread
        else:
            start = match.start  # "unstable angina" is a condition of its own, not a judgement on angina
    elif judgement_inside(text[start : match.end]) and not named:
        return None  # "active, uncontrolled infection": the judgement can't be left out of the middle
    status = wording.status_in_names.match(folded, start, match.end)
    if status:  # "active autoimmune disease": the status is read as a status
        again = vocabulary.find(text[status.end() : match.end], kinds={"condition"})
        if len(again) == 1 and again[0].concept.id == concept and status.end() + again[0].end == match.end:
            start = status.end() + again[0].start
    if wording.block_after.match(folded[match.end:]) or wording.block_before.search_before(text, start):
        return None
    if "/" in text[max(0, start - 2) : start] and re.search(r"(?:leuka?emia|lymphoma)/$", text[:start], re.IGNORECASE):
        return None  # the second half of "leukemia/lymphoma"
    if re.search(r"ic$", match.text, re.IGNORECASE) and not wording.adjective_people.match(text[match.end:]):
        return None  # "diabetic retinopathy" is not diabetes
    if _after_exception_cue(text, start):
        return None  # named in an exception: compose reads it there
    if conditional_subject(text, match.end):
        return None
    both = wording.both_forms.search(folded, 0, start)
    if both and re.match(r"(?:acute|chronic)\b", text[start:], re.IGNORECASE):
        parents = vocabulary.concepts[concept].parents if concept in vocabulary.concepts else ()
        if len(parents) != 1:
            return None
        concept, start = parents[0], both.start()
    confidence = SURE
    if (_OTHER_BEFORE.search(text, 0, start) and concept not in wording.generic_cancer
            and "cancer" in vocabulary.ancestors(concept)):
        # "Other hematologic malignancy" means one other than the trial's own, which the rule can't say: read
        # alone it would exclude every patient with the disease under study.
        confidence = min(confidence, _OTHER_THAN_OWN)
    if _is_cns(concept, vocabulary):
        relevant = wording.relevant_cns.search(folded, 0, start)
        if relevant:
            start, confidence = relevant.start(), wording.relevant_confidence
    end = match.end
    if start != match.start:
        # "poorly controlled diabetes mellitus": the vocabulary's judged name ("poorly controlled diabetes") may be
        # shorter than the condition's own name read without the judgement ("diabetes mellitus").
        own = vocabulary.find(text[start : end + 40], kinds={"condition"})
        if own and own[0].start == 0 and own[0].concept.id == concept and start + own[0].end > end:
            end = start + own[0].end
    if re.match(r"/(?:lymphoma|leuka?emia)\b", text[end:], re.IGNORECASE):
        end += re.match(r"/\w+", text[end:]).end()  # type: ignore[union-attr]  # "leukemia/lymphoma": one entity
    after: tuple[Qualifier, ...] = ()
    for value, pattern in wording.judgement_after:
        judged = pattern.match(folded, end)
        if judged:  # "hypertension not controlled by medication"
            after, end = (Qualifier(name="judgement", value=value),), judged.end()
            break
    said: str | None = None
    for status_said, pattern in wording.status_after:
        stated = pattern.match(folded, end)
        if stated:  # "PTSD (current)"
            said, end = status_said, stated.end()
            break
    other = False
    exceptions: tuple[RuleException, ...] = ()
    other_than = wording.other_than.match(text, end)
    if other_than:
        excepted = vocabulary.find(text[other_than.end():], kinds={"condition"})
        if excepted and not text[other_than.end() : other_than.end() + excepted[0].start].strip() and \
                excepted[0].concept.id not in {concept, *vocabulary.ancestors(concept)}:
            first = excepted[0]
            stop = other_than.end() + first.end
            cue = other_than.start("cue")
            exceptions = (RuleException(text=text[cue:stop], span=(cue, stop), concepts=(first.concept.id,)),)
            end, other = stop, True
    inner = tuple(q for spec in wording.units if spec.kind == "attr" and concept in spec.only_after
                  for m in spec.pattern.finditer(folded_text(text) if spec.folded else text, start, match.end)
                  if (u := _unit_from(spec, m))
                  for q in u.qualifiers)
    return Unit("disease", start, end, concept=concept, confidence=confidence, exceptions=exceptions, other=other,
                qualifiers=inner + after, status=said)


def conditional_subject(text: str, end: int) -> bool:
    """True when the rest of the sentence makes the condition a subject of a conditional rule ("Patients
    with Gilbert's syndrome must have total bilirubin < 3 x ULN", "HIV-positive patients may enrol if …"):
    the condition is then not itself a requirement, and reading it alone would be wrong."""
    stop = re.search(r"[.;]\s|$", text[end:])
    return _conditional().search(folded_text(text), end, end + (stop.start() if stop else len(text))) is not None


@cache
def _conditional() -> re.Pattern[str]:
    return folded_pattern(_CONDITIONAL)


def _after_exception_cue(text: str, position: int) -> bool:
    if not compose_wording().exception_needs[0].met(folded_text(text)):
        return False  # no word any exception cue needs (speed only)
    sentence_start = max((m.end() for m in re.finditer(r"[.;]\s", text[:position])), default=0)
    return compose_wording().exception_start.search(text, sentence_start, position) is not None


def _is_cns(concept: str, vocabulary: Vocabulary) -> bool:
    lineage = {concept, *vocabulary.ancestors(concept)}
    return "cns_disorder" in lineage


def _select(units: list[Unit]) -> list[Unit]:
    """Longest units that don't overlap; on a tie a state or detail beats a vocabulary name."""
    order = {"state": 0, "attr": 0, "within": 1, "status": 2, "judgement": 2, "disease": 3, "head": 4}
    chosen: list[Unit] = []
    for unit in sorted(units, key=lambda u: (-(u.end - u.start), order[u.kind], u.start)):
        if all(unit.end <= c.start or unit.start >= c.end for c in chosen):
            chosen.append(unit)
    return sorted(chosen, key=lambda u: u.start)


def _chunks(units: list[Unit], text: str) -> list[list[Unit]]:
    """Runs of units joined only by connectives; a run needs a disease, a state or a detail."""
    runs: list[list[Unit]] = []
    current: list[Unit] = []
    for unit in units:
        if current:
            gap = text[current[-1].end : unit.start]
            joined = _GAP.fullmatch(gap) is not None or (
                len(current) == 1 and current[0].kind == "status" and unit.kind == "disease"
                and _judgement_gap(gap))
            previous = [u for u in current if u.kind == "disease"]
            if joined and unit.kind == "disease" and previous:
                joined = _connective(text[previous[-1].end : unit.start]) in ("or", "comma")
            if not joined:
                runs.append(current)
                current = []
        current.append(unit)
    if current:
        runs.append(current)
    out = []
    for run in runs:
        # A status, judgement or window after the last disease belongs to the next phrase unless it is a window.
        while run and run[-1].kind in ("status", "judgement"):
            run = run[:-1]
        while run and run[0].kind == "within":
            run = run[1:]
        if any(u.kind in ("disease", "state", "attr", "head") for u in run):
            out.append(run)
    return out


def _judgement_gap(gap: str) -> bool:
    """True when ``gap`` holds only judgement words ("relevant", "clinically significant")."""
    position = len(gap) - len(gap.lstrip())
    if position == len(gap):
        return False
    while position < len(gap):
        moved = trim_judgement(gap, position, len(gap))
        if moved == position:
            return False
        position = moved + len(gap[moved:]) - len(gap[moved:].lstrip())
    return True


def _connective(gap: str) -> str:
    if re.search(r"\bor\b|/", gap, re.IGNORECASE):
        return "or"
    if re.search(r"\band\b", gap, re.IGNORECASE):
        return "and"
    if "," in gap:
        return "comma"
    return "adjacent"


def _build(chunk: list[Unit], passage: Passage, text: str, abbreviations: tuple[tuple[int, int], ...],
           vocabulary: Vocabulary, wording: _Wording) -> Found | None:
    diseases = [u for u in chunk if u.kind == "disease"]
    states = [u for u in chunk if u.kind == "state"]
    attrs = [u for u in chunk if u.kind == "attr" and (not u.only_after or any(
        d.concept in u.only_after for d in diseases))]
    if not all(_cancer_like(u.concept or "", vocabulary) for u in diseases):
        # Relapse or remission of a comorbidity ("recurrent seizures") is not read.
        states = []
        attrs = [u for u in attrs if not any(q.name in _STATE_QUALIFIERS for q in u.qualifiers)]
    if not states:
        attrs = [u for u in attrs if not u.needs_state]
    heads = [u for u in chunk if u.kind == "head"]
    if not diseases and not states and not attrs:
        return None
    if not diseases and not (states or any(q.name in _STATE_QUALIFIERS for u in attrs for q in u.qualifiers)):
        return None
    statuses = [u for u in chunk if u.kind == "status" and (not diseases or u.start < diseases[-1].start)]
    windows = [u for u in chunk if u.kind == "within"]
    # A judgement holds for the condition right after it; with no condition it is not read.
    judgements = [u for u in chunk if u.kind == "judgement" and diseases and u.start < diseases[-1].start]
    kept = [u for u in chunk if u in (*diseases, *states, *attrs, *heads, *statuses, *windows, *judgements)]
    start = min(u.start for u in kept)
    end = extend_over(text, max(u.end for u in kept), abbreviations)
    if wording.conditional_before.search(folded_text(text), 0, start) or \
            wording.block_before.search_before(text, start):
        return None  # "For participants in first relapse: …" names whom the rest applies to
    claimed: tuple[tuple[int, int], ...] = ()
    if len(kept) > 1 and kept[0].kind == "status" and _GAP.fullmatch(text[kept[0].end : kept[1].start]) is None:
        # "History of or active relevant autoimmune disease": the judgement word stays unread.
        claimed, start = (passage.span(kept[0].start, kept[0].end),), kept[1].start
    if not diseases and not heads and not _AFTER_BARE_STATE.match(text, end):
        return None  # "recurrent MRD": the state describes something this recogniser does not read

    confidence = min([u.confidence for u in kept] + [SURE])
    alternatives, and_joined = _alternatives(states, text)
    if and_joined or any(sum(q.name == "extent" for q in alternative) > 1 for alternative in alternatives):
        # "relapsed and refractory", "unresectable locally advanced/recurrent": the scope is unclear
        confidence = min(confidence, _AND_STATES)
    # A detail for one disease only (NYHA class: heart failure) holds only for that disease.
    common = tuple(q for u in attrs if not u.only_after for q in u.qualifiers)
    window = windows[0].within if windows else next((u.within for u in statuses if u.within), None)
    if window is None and _window_elsewhere(text, start, end):
        confidence = min(confidence, _UNREAD_WINDOW)
    judged, unsure = _judged(diseases, judgements, text)
    if any(_connective(text[a.end : b.start]) == "or" for a, b in pairwise(kept)
           if {a.kind, b.kind} == {"status", "judgement"}):
        unsure = True  # "active or symptomatic": a status or a judgement, not both
    if kept[0].kind == "judgement" and re.search(r"(?:\bor|\band/or|/)\s*$", text[:start], re.IGNORECASE):
        unsure = True  # "recent or significant cardiovascular disease": an unread alternative
    if any(_connective(text[a.end : b.start]) == "comma" for a, b in pairwise(states)
           if any(q.name == "extent" for q in (*a.qualifiers, *b.qualifiers))):
        unsure = True  # "locally advanced, unresectable": both, or either?
    if {"history", "active"} <= {u.status for u in statuses} and not any(
            _connective(text[a.end : b.start]) == "or" or not text[a.end : b.start].strip()
            for a, b in pairwise(statuses)):
        unsure = True  # "History of any other active malignancies": had one, or has one now? ("current history": one)
    if window is not None and any(q.name == "grade" for u in (*diseases, *attrs) for q in u.qualifiers):
        unsure = True  # "Grade ≥ 2 neuropathy within 14 days before enrollment": when graded, not when diagnosed
    if unsure:
        confidence = min(confidence, _JUDGEMENT_SCOPE)
    # "Concurrent malignancy or malignancy in the last 3 years": a condition named again in the same words is
    # another alternative, with its own status and window ("stroke or cerebrovascular accident" share theirs).
    named = [(d.concept, text[d.start : d.end].lower()) for d in diseases]
    repeated = len(set(named)) < len(named)
    conditions: list[Condition] = []
    for unit, alternative in product(diseases or [None], alternatives):
        concept, name = _concept(unit, passage, vocabulary, wording)
        for judgement in judged.get(unit, [()]):
            conditions.append(Condition(
                concept=concept, name=name,
                status=_status_for(unit, statuses, diseases, own_only=repeated),  # type: ignore[arg-type]
                qualifiers=_merge(common + _own(unit, attrs, wording, text) + alternative + judgement),
                within=(_window_for(unit, windows, diseases if repeated else []) if unit else window)
                if windows else window,
                span=passage.span(start, end),
                exceptions=tuple(e.model_copy(update={"span": passage.span(*e.span)}) for e in unit.exceptions)
                if unit else (),
            ))
    read_end, examples, unread = _claims_after(diseases, text, end, vocabulary, wording)
    if (read_end == end and _DEFINED_AFTER.match(text, end)) or unread:
        confidence = min(confidence, _DEFINED_ELSEWHERE)  # "renal insufficiency, defined as creatinine > 1.5"
    for concept in examples:
        found = vocabulary.get(concept)
        conditions.append(Condition(concept=concept, name=found.name if found else concept, status=conditions[0].status,
                                    within=window, span=passage.span(start, read_end)))
    unattached = [u for u in attrs if u.only_after and not any(
        q in c.qualifiers for c in conditions for q in u.qualifiers)]
    if unattached:
        confidence = min(confidence, _DEFINED_ELSEWHERE)  # "NYHA class I or decompensated heart failure"
    conditions = _deduplicated(conditions)
    if any(c.within is not None and {c.concept, *vocabulary.ancestors(c.concept)} & wording.habits
           for c in conditions):
        confidence = min(confidence, _DEFINED_ELSEWHERE)  # "smoking within the last year": when last done, not begun
    rule: Rule = conditions[0] if len(conditions) == 1 else AnyOf(children=tuple(conditions),
                                                                   span=passage.span(start, end))
    category = _category(conditions, passage.section, vocabulary, wording)
    return Found(rule, *passage.span(start, read_end), category=category, confidence=confidence, claimed=claimed)


def _judged(diseases: list[Unit], judgements: list[Unit], text: str
            ) -> tuple[dict[Unit, list[tuple[Qualifier, ...]]], bool]:
    """The judgement qualifiers of each condition: the judgement words since the condition before it;
    words joined by "or" are alternatives ("symptomatic or uncontrolled"). Also whether the reading is
    unsure: a judgement before a list may hold for one condition or all ("uncontrolled hypertension or
    diabetes")."""
    out: dict[Unit, list[tuple[Qualifier, ...]]] = {}
    previous_end = -1
    judged_before = False
    unsure = False
    for unit in diseases:
        own = [j for j in judgements if previous_end <= j.start < unit.start]
        if own:
            groups: list[list[Unit]] = [[own[0]]]
            for before, after in pairwise(own):
                if _connective(text[before.end : after.start]) == "or":
                    groups.append([after])
                else:
                    groups[-1].append(after)
            out[unit] = [tuple(q for j in group for q in j.qualifiers) for group in groups]
            judged_before = True
        elif judged_before:
            unsure = True
        previous_end = unit.end
    return out, unsure


def _window_for(unit: Unit | None, windows: list[Unit], diseases: list[Unit]) -> Duration | None:
    """The first window after the disease: "MI within 6 months, or unstable angina" gives angina none. With
    ``diseases``, only a window before the next of them counts."""
    if unit is None:
        return None
    limit = min((d.start for d in diseases if d.start >= unit.end), default=10**9)
    return next((w.within for w in windows if unit.end <= w.start < limit), None)


def _window_elsewhere(text: str, start: int, end: int) -> bool:
    """True when the phrase's sentence names a length of time this phrase did not read, with no therapy or
    lab between them ("Diagnosed with type 2 diabetes at least 12 weeks prior to inclusion"): the time
    may be the condition's, so the rule is unsure."""
    if not _may_name_time(folded_text(text)):
        return False
    before = max((m.end() for m in re.finditer(r"[.;]\s", text[:start])), default=0)
    after = re.search(r"[.;](?:\s|$)", text[end:])
    sentence = text[before : end + (after.start() if after else len(text) - end)]
    vocabulary = load_vocabulary()
    for duration in _DURATION_RE.finditer(sentence):
        if start - before <= duration.start() < end - before:
            continue
        after_phrase = duration.start() >= end - before
        between = (sentence[end - before : duration.start()] if after_phrase
                   else sentence[duration.end() : start - before])
        if not vocabulary.find(between, kinds=_OTHER_KINDS):
            return True
    return False


def _cancer_like(concept: str, vocabulary: Vocabulary) -> bool:
    return concept == DISEASE_UNDER_STUDY or "cancer" in {concept, *vocabulary.ancestors(concept)}


def _alternatives(states: list[Unit], text: str) -> tuple[list[tuple[Qualifier, ...]], bool]:
    """Alternative qualifier sets: states joined by "or" are alternatives, adjacent ones hold together."""
    if not states:
        return [()], False
    groups: list[list[Unit]] = [[states[0]]]
    and_joined = False
    for previous, unit in pairwise(states):
        connective = _connective(text[previous.end : unit.start])
        if connective in ("or", "comma"):
            groups.append([unit])
        else:
            if connective == "and":
                and_joined = True
            groups[-1].append(unit)
    return [tuple(q for unit in group for q in unit.qualifiers) for group in groups], and_joined


def _merge(qualifiers: tuple[Qualifier, ...]) -> tuple[Qualifier, ...]:
    """One relapse count per condition: "refractory first relapse" keeps the ordinal, not "relapse"."""
    named: dict[str, list[Qualifier]] = {}
    for qualifier in qualifiers:
        named.setdefault(qualifier.name, [])
        if qualifier not in named[qualifier.name]:
            named[qualifier.name].append(qualifier)
    out: list[Qualifier] = []
    for name, group in named.items():
        if name == "relapse_number" and any(q.comparator in ("=", ">=") and q.value != 1 for q in group):
            group = [q for q in group if not (q.comparator == ">=" and q.value == 1)]
        out.extend(group)
    return tuple(out)


def _concept(unit: Unit | None, passage: Passage, vocabulary: Vocabulary, wording: _Wording) -> tuple[str, str]:
    if unit is None or unit.concept is None:
        return DISEASE_UNDER_STUDY, DISEASE_UNDER_STUDY_NAME
    concept = unit.concept
    if concept in wording.normalise:
        concept = wording.normalise[concept][0]
    if concept in wording.generic_cancer and (unit.other or passage.section == "exclusion" or _negated(passage, unit)):
        concept = "other_malignancy"
    found = vocabulary.get(concept)
    return concept, found.name if found else concept


def _own(unit: Unit | None, attrs: list[Unit], wording: _Wording, text: str) -> tuple[Qualifier, ...]:
    """Qualifiers of this disease alone: from its name, its normalisation and details only it takes."""
    if unit is None:
        return ()
    only = tuple(q for u in attrs if u.only_after and unit.concept in u.only_after
                 and _connective(text[min(u.end, unit.end) : max(u.start, unit.start)]) == "adjacent"
                 for q in u.qualifiers)
    return _normalised(unit, wording) + unit.qualifiers + only


def _negated(passage: Passage, unit: Unit) -> bool:
    """True when a negation cue opens the clause before the unit ("No active malignancy within 5 years")."""
    text = passage.text
    clause = max((m.end() for m in re.finditer(r"[.;:]\s", text[: unit.start])), default=0)
    return re.match(r"\s*(?:no|not|without|free\s+of|absence\s+of)\b", text[clause : unit.start], re.I) is not None


def _normalised(unit: Unit, wording: _Wording) -> tuple[Qualifier, ...]:
    if unit.concept not in wording.normalise:
        return ()
    return tuple(Qualifier(name=name, value=value) for name, value in wording.normalise[unit.concept][1])


def _status_for(unit: Unit | None, statuses: list[Unit], diseases: list[Unit], own_only: bool = False) -> str:
    """The status said since the disease before this one; "history" covers "history of, or active".
    ``own_only``: a status said before an earlier disease does not count."""
    if unit is not None and unit.status:
        return unit.status  # said after it: "PTSD (current)"
    after = max((d.end for d in diseases if unit is not None and d.end <= unit.start), default=-1)
    said = [u.status for u in statuses if (unit is None or u.start < unit.start) and u.start >= after]
    if not said and not own_only:
        # "History of MI or stroke": a status said once counts for every disease listed after it.
        said = [u.status for u in statuses if unit is None or u.start < unit.start][-1:]
    for status in ("history", "active"):
        if status in said:
            return status
    return "any"


def _deduplicated(conditions: list[Condition]) -> list[Condition]:
    out: list[Condition] = []
    for condition in conditions:
        same = next((c for c in out if c.model_copy(update={"status": "any", "span": None})
                     == condition.model_copy(update={"status": "any", "span": None})), None)
        if same is None:
            out.append(condition)
        elif {same.status, condition.status} == {"history", "active"} or condition.status == "history":
            out[out.index(same)] = same.model_copy(update={"status": "history"})
    return out


def _claims_after(diseases: list[Unit], text: str, end: int, vocabulary: Vocabulary, wording: _Wording
                  ) -> tuple[int, tuple[str, ...], bool]:
    """What the finding reads after its phrase: a definition, examples or a source of criteria.

    Returns the end of the reading; the example conditions that are not narrower than the phrase's own
    ("thromboembolic event including myocardial infarction": read as either); and whether examples follow
    that could not be read (the rule is then unsure).
    """
    concepts = {d.concept for d in diseases if d.concept}
    for concept in concepts:
        definition = wording.definitions.get(concept)
        if definition:
            match = definition.match(text, end)
            if match:
                end = match.end()
    extra: tuple[str, ...] = ()
    unread = False
    examples = wording.example_list.match(text, end)
    if examples and concepts:
        listed = _examples_of(examples.group("inner") or examples.group("bare") or "", concepts, vocabulary, wording)
        if listed is None and examples.group("inner") is not None and not examples.group("cue"):
            pass  # a parenthesis that is not a list of conditions ("(see appendix)"): not examples
        elif listed is None:
            unread = True
        else:
            extra = listed
            end = examples.end()
            if examples.group("bare") is not None:
                end = examples.start("bare") + len(examples.group("bare").rstrip(" ,"))
    claim = wording.claims.match(text, end)
    if claim:
        end = claim.end()
    return end, extra, unread


def _examples_of(listed: str, concepts: set[str], vocabulary: Vocabulary, wording: _Wording
                 ) -> tuple[str, ...] | None:
    """The conditions in an example list that are not narrower than ``concepts``; None when the list says
    anything else than conditions."""
    matches = vocabulary.find(listed, kinds={"condition"})
    if not matches:
        return None
    rest = listed
    for match in reversed(matches):
        rest = rest[: match.start] + " " + rest[match.end:]
    judged = {w for phrase in wording.judgement for w in _WORDS.findall(phrase)}  # "uncontrolled arrhythmias"
    if not all(w.lower() in wording.example_words or w.lower() in judged for w in _WORDS.findall(rest)):
        return None
    wider = [m.concept.id for m in matches if not {m.concept.id, *vocabulary.ancestors(m.concept.id)} & concepts]
    return tuple(dict.fromkeys(wider))


def _category(conditions: list[Condition], section: str, vocabulary: Vocabulary, wording: _Wording) -> str:
    first = conditions[0]
    if first.concept == DISEASE_UNDER_STUDY or any(q.name in _STATE_QUALIFIERS for c in conditions
                                                   for q in c.qualifiers):
        return "disease_state"
    lineage = {first.concept, *vocabulary.ancestors(first.concept)}
    for category, ids in wording.categories:
        if lineage & ids:
            return category
    if "cancer" in lineage:
        if section == "exclusion" and (first.status == "history" or first.within is not None):
            return "other_cancer"
        return "disease"
    return "comorbidity"


__all__ = ["DISEASE_UNDER_STUDY", "Unit", "conditional_subject", "extend_over", "judgement_before", "judgement_inside",
           "judgement_qualifiers", "load_wording",
           "mask_abbreviations", "recognise", "status_units", "trim_judgement", "window_at", "window_units"]
