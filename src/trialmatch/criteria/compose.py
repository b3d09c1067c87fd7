"""Join what the recognisers found in one passage into a single rule.

The steps, in order: keep the longest non-overlapping findings; set aside stated exceptions ("with the
exception of intrathecal chemotherapy") and attach them to the rules they relax; apply negation cues
("No history of HIV or hepatitis B" → not (HIV or hepatitis B)); join the findings with the passage's
own connective (and / or); and check what is left over. Any meaningful left-over word makes the rule
part question, so nothing in the text is silently dropped. The wording lives in
``data/criteria/compose.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

from trialmatch.criteria.folding import FoldedSpans, Needs, Scanner, folded_text, pattern_needs, scanning
from trialmatch.criteria.passage import Found, Passage, Recogniser
from trialmatch.criteria.phrases import DURATION, parse_duration
from trialmatch.criteria.rules import (
    AllOf,
    AnyOf,
    Condition,
    Lab,
    Not,
    Question,
    Rule,
    RuleException,
    Therapy,
)
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import Vocabulary, load_vocabulary

#: Confidence of a rule whose connectives mix "and" with "or", or whose exception was not fully read.
UNSURE = 0.6

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_NUMBER_WORD = re.compile(r"\d+(?:[.,]\d+)*")
_MEASURED_WITHIN = FoldedSpans(
    r"\b(?:(?:obtained|performed|done|measured|drawn|taken|assessed)\s+)?(?:within|in\s+the\s+(?:last|past)|≤|<=)\s*"
    r"\d+\s*(?:days?|weeks?|hours?)\s+(?:before|prior\s+to|of)\s+(?:the\s+)?(?:\w+\s+){0,2}?(?:enrol+ment|"
    r"registration|randomi[sz]ation|entry|treatment|start|day\s*[01]|dosing|first\s+dose|screening|inclusion|"
    r"induction\s+cycle)\b"
)
#: Where a sentence ends; a clause after ";" counts as one ("Active CNS leukemia; patients with known previous
#: CNS leukemia may continue to receive intrathecal therapy" grants an exception in its second clause).
_SENTENCE_BREAK = re.compile(r"(?<=[.;])\s+(?=[A-Z(\"“])|(?<=;)\s+(?=[a-z])")
_PARENTHESIS = re.compile(r"\(([^()]*)\)")
_CLAUSE_BREAK = re.compile(r"[.;:]\s")
_ENDED_BEFORE = re.compile(
    rf"\b(?:ended|completed|stopped|discontinued|finished|last\s+(?:dose|administration|treatment)|received)"
    rf"(?:\s+\w+){{0,3}}?\s+(?:more\s+than|greater\s+than|>|≥|>=|at\s+least|over|in\s+excess\s+of)\s*"
    rf"(?P<d>{DURATION})",
    re.IGNORECASE,
)
_EXCEPTION_FILLER = frozenset(
    "low dose doses such example examples like namely failed prior allowed will be permitted if provided ended "
    "treatment treatments therapy therapies more than weeks days months prior start protocol eligible "
    "certain exceptions acceptable excluded is are with the of and or for e g eg ie i".split()
)


@dataclass(frozen=True)
class ComposeWording:
    negation_before: re.Pattern[str]
    forbidden_after: re.Pattern[str]
    exception_start: re.Pattern[str]
    exception_anywhere: re.Pattern[str]
    nci_negation: re.Pattern[str]
    exception_sentence: re.Pattern[str]
    exclusion_prohibition: re.Pattern[str]
    asks_nothing: FoldedSpans
    filler: frozenset[str]
    filler_meaningful: re.Pattern[str]
    group_lead: frozenset[str]
    question_categories: tuple[tuple[str, Scanner], ...]
    #: Words some exception cue needs: a text without any states no exception (speed only).
    exception_needs: tuple[Needs, Needs]


@cache
def load_wording() -> ComposeWording:
    raw = read_yaml("criteria/compose.yaml")
    flags = re.IGNORECASE
    return ComposeWording(
        negation_before=scanning(raw["negation_before"], flags),
        forbidden_after=re.compile(raw["forbidden_after"], flags),
        exception_start=scanning(raw["exception_start"], flags),
        exception_anywhere=re.compile(raw["exception_anywhere"], flags),
        nci_negation=re.compile(raw["nci_negation"], flags),
        exception_sentence=scanning(raw["exception_sentence"], flags),
        exclusion_prohibition=re.compile(raw["exclusion_prohibition"], flags),
        asks_nothing=FoldedSpans(raw["asks_nothing"]),
        filler=frozenset(str(w).lower() for w in raw["filler"]),
        filler_meaningful=scanning(raw["filler_meaningful"], flags),
        group_lead=frozenset(str(w).lower() for w in raw["group_lead"]),
        question_categories=tuple((k, Scanner(v, flags)) for k, v in raw["question_categories"].items()),
        exception_needs=(pattern_needs(raw["exception_start"], flags), pattern_needs(raw["exception_sentence"], flags)),
    )


@dataclass(frozen=True)
class Composed:
    """The rule read from a passage. ``residue`` holds the words nobody understood (empty when none)."""

    rule: Rule | None
    confidence: float
    category: str
    residue: tuple[str, ...]


def compose(passage: Passage, recognisers: Sequence[Recogniser], *, lead_words: frozenset[str] = frozenset()
            ) -> Composed:
    """The rule for ``passage``; ``rule`` is None when nothing at all was found and nothing is left over.

    ``lead_words`` are extra words that may be left over without making a question (group parents).
    """
    wording = load_wording()
    text = passage.text
    found = _best(finding for recognise in recognisers for finding in recognise(passage))
    exceptions = _exception_segments(passage, found, wording)
    main = [f for f in found if not _inside(f.start, exceptions) and f.rule is not None]
    covered: list[tuple[int, int]] = [(f.start, f.end) for f in found]
    covered += [c for f in found for c in f.claimed]
    covered += exceptions
    if passage.negated and (leading := wording.nci_negation.match(text)):
        covered.append(passage.span(leading.start(), leading.end()))
    confidence = min((f.confidence for f in main), default=1.0)

    claimed = [c for f in found for c in f.claimed]
    units, consumed, mixed, cued = _units(passage, main, wording, claimed)
    covered += consumed
    rule = _join(units, passage, mixed)
    if mixed:
        confidence = min(confidence, UNSURE)
    if _defined_in_parenthesis(passage.source, main, cued or passage.negated):
        confidence = min(confidence, UNSURE)
    if cued and passage.section == "exclusion" and not passage.negated:
        # "Exclusion: No prior chemotherapy" is usually a double negative written in error; reading it
        # literally would exclude everyone who had none, so it never decides on its own. A prohibition that
        # opens the item ("Must not have known HIV", "Patients may not be receiving other investigational agents")
        # can only mean the thing excludes: the rule is the thing itself.
        prohibited = _prohibition(text, units, wording)
        if prohibited is not None:
            units = prohibited
            rule = _join(units, passage, mixed)
        else:
            confidence = min(confidence, UNSURE)

    if main and all(f.category in ("lab", "disease_burden") for f in main):
        # When a lab was measured ("within 14 days before enrollment") does not change who is eligible.
        covered += [passage.span(start, end) for start, end in _MEASURED_WITHIN.spans(text)]
    if main:
        # Pointers into the protocol and the time a fact is assessed ("(see Appendix A)") ask nothing more.
        covered += [passage.span(start, end) for start, end in wording.asks_nothing.spans(text)]
    residue = _residue(passage, covered, wording.filler | lead_words if lead_words else wording.filler)
    if residue:
        question = Question(text=" ".join(text.split()), span=passage.span(0, len(text)))
        example = _EXAMPLE.search(text)
        if example and main and main[0].start >= passage.start + example.end():
            # "Lack of marrow involvement such as a CNS-only relapse": only the example was read, and an
            # example is not the condition itself.
            rule = None
        if _SCOPE.match(text):
            # "For participants in first relapse: failure to achieve CR after reinduction" holds only for those it
            # names; read without them it would fail everyone else.
            rule = None
        if rule is None:
            rule = question
        elif isinstance(rule, AnyOf):
            rule = AnyOf(children=(*rule.children, question), span=rule.span)
        elif isinstance(rule, AllOf):
            rule = AllOf(children=(*rule.children, question), span=rule.span)
        elif main and _OR_AFTER.match(passage.source, main[-1].end, passage.end):
            # "Hypersensitivity to immunoglobulin or to any other component of the formulation": what was not
            # read is one more alternative, not a further condition.
            rule = AnyOf(children=(rule, question), span=passage.span(0, len(text)))
        else:
            rule = AllOf(children=(rule, question), span=passage.span(0, len(text)))

    for start, end in exceptions:
        if rule is None:
            break
        rule, complete = _apply_exception(rule, passage, start, end)
        if not complete:
            confidence = min(confidence, UNSURE)

    category = max(main, key=lambda f: f.length).category if main else question_category(text)
    if rule is None and not residue and found and passage.section == "inclusion":
        # Only words that ask nothing ("Male or female"): an inclusion that every patient meets.
        rule, category = AllOf(children=(), span=passage.span(0, len(text))), found[0].category
    return Composed(rule, confidence, category, residue)


#: Leaves a prohibition in an exclusion is read for: what a patient had or has.
_PROHIBITED_KINDS = frozenset({"condition", "infection", "therapy", "study_enrolment", "pregnancy", "breastfeeding",
                               "hypersensitivity"})


#: States of the disease under study that an exclusion may well mean to negate ("No measurable disease").
_STATES_OF_DISEASE = frozenset({"disease_under_study", "measurable_disease", "evaluable_disease"})


def _prohibition(text: str, units: list[tuple[Rule, str]], wording: ComposeWording
                 ) -> list[tuple[Rule, str]] | None:
    """An exclusion that opens with a prohibition over its one negated group: the units without that negation."""
    negated = [index for index, (rule, _) in enumerate(units) if isinstance(rule, Not)]
    if negated != [0] or not wording.exclusion_prohibition.match(text):
        return None
    rule, gap = units[0]
    assert isinstance(rule, Not)
    if not all(leaf.kind in _PROHIBITED_KINDS and getattr(leaf, "concept", "") not in _STATES_OF_DISEASE
               for leaf in _leaves(rule.child)):
        # "No circulating blasts", "no relapse", "no measurable disease", "not using contraception": such a
        # negation may well be meant.
        return None
    return [(rule.child, gap), *units[1:]]


_OPEN_PARENTHESIS = re.compile(r"\s*[(\[]\s*")
_OPEN_INCLUDING = re.compile(r"\s*[(\[]\s*(?:includ(?:es|ing)|e\.?\s?g\.?|such\s+as|for\s+example)[\s,:]*",
                             re.IGNORECASE)
_CLOSE_PARENTHESIS = re.compile(r"\s*[)\]]")


def _defined_in_parenthesis(source: str, main: list[Found], negated: bool) -> bool:
    """A finding restated in a parenthesis after another: "No AML (≥ 20% bone marrow blasts)" (a definition,
    under a negation), "brain metastases (includes active brain metastases)" (a part of it). Neither "and" nor
    "or" joins them right every time, so the reading is unsure."""
    for before, after in pairwise(main):
        if not _CLOSE_PARENTHESIS.match(source, after.end):
            continue
        if _OPEN_INCLUDING.fullmatch(source, before.end, after.start):
            return True
        if (((negated and isinstance(before.rule, Condition)) or isinstance(before.rule, AnyOf))
                and after.category in ("lab", "disease_burden")
                and _OPEN_PARENTHESIS.fullmatch(source, before.end, after.start)):
            # "heart failure or poorly controlled diabetes (HbA1c ≥ 10%)": the value may define only the last one
            return True
    return False


def question_category(text: str) -> str:
    """The category of a criterion read only as a question, from its wording."""
    for category, pattern in load_wording().question_categories:
        if pattern.search(text):
            return category
    return "other"


def _best(found: Iterable[Found]) -> list[Found]:
    """The longest findings that don't overlap, in text order."""
    chosen: list[Found] = []
    for candidate in sorted(found, key=lambda f: (-f.length, -f.confidence, f.start)):
        if all(candidate.end <= c.start or candidate.start >= c.end for c in chosen):
            chosen.append(candidate)
    return sorted(chosen, key=lambda f: f.start)


def _inside(position: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in ranges)


def _exception_segments(passage: Passage, found: list[Found], wording: ComposeWording) -> list[tuple[int, int]]:
    """Absolute ranges of the passage that state exceptions: sentences, parentheses and trailing clauses."""
    text = passage.text
    segments: list[tuple[int, int]] = []
    if not any(needs.met(folded_text(text)) for needs in wording.exception_needs):
        return segments
    sentence_starts = [0] + [m.end() for m in _SENTENCE_BREAK.finditer(text)]
    for i, start in enumerate(sentence_starts):
        end = sentence_starts[i + 1] if i + 1 < len(sentence_starts) else len(text)
        sentence = text[start:end]
        if i > 0 and (wording.exception_start.match(sentence.lstrip("( ")) or
                      wording.exception_sentence.search(sentence)):
            segments.append(passage.span(start, end))
            continue
        for paren in _PARENTHESIS.finditer(sentence):
            if wording.exception_start.match(paren.group(1).strip()) or _PARENTHESIS_EXCEPTION.match(paren.group(1)):
                segments.append(passage.span(start + paren.start(), start + paren.end()))
        read = [(f.start, f.end) for f in found] + [c for f in found for c in f.claimed]
        for cue in wording.exception_start.finditer(sentence):
            absolute = passage.start + start + cue.start()
            if _inside(absolute, read) or _inside(absolute, segments):
                continue
            before = sentence[: cue.start()].rstrip()
            strong = wording.exception_anywhere.match(sentence, cue.start()) is not None
            if not before or strong or before[-1] in ",;(" or before.lower().endswith((" and", " but")):
                # A trailing exception runs to the end of the sentence or to a parenthesis that follows it.
                parenthesis = sentence.find("(", cue.end())
                clause_end = start + parenthesis if parenthesis > 0 and before[-1:] != "(" else end
                if before[-1:] == "(":  # inside a parenthesis: the exception ends with it
                    closing = sentence.find(")", cue.end())
                    clause_end = start + closing + 1 if closing > 0 else end
                segments.append((absolute, passage.start + clause_end))
                break
    return sorted(segments)


def _units(passage: Passage, main: list[Found], wording: ComposeWording, claimed: list[tuple[int, int]]
           ) -> tuple[list[tuple[Rule, str]], list[tuple[int, int]], bool, bool]:
    """Findings grouped under their negation cues, each with the connective text before it.

    Returns ``(units, consumed spans, mixed, cued)``: ``mixed`` is True when the connectives mix "and" and
    "or"; ``cued`` when a negation cue negated something.
    """
    source = passage.source
    units: list[tuple[Rule, str]] = []
    consumed: list[tuple[int, int]] = []
    group: list[Rule] = []
    group_gap = ""
    previous_end = passage.start
    connectives: set[str] = set()
    cued = False

    def close_group() -> None:
        if group:
            inner = group[0] if len(group) == 1 else AnyOf(children=tuple(group), span=_cover(group))
            units.append((Not(child=inner, span=_cover(group)), group_gap))
            group.clear()

    for index, finding in enumerate(main):
        gap = _blanked(source, previous_end, finding.start, claimed)
        clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(gap)), default=0)
        cue = wording.negation_before.search(gap[clause_start:])
        if cue and not (passage.negated and index == 0):
            cued = True
            close_group()
            group.append(finding.rule)
            group_gap = gap[: clause_start + cue.start()]
            consumed.append((previous_end + clause_start + cue.start(), finding.start))
        elif group and _is_list_gap(gap):
            group.append(finding.rule)
        else:
            close_group()
            units.append((finding.rule, gap))
        if index and not (group and len(group) > 1 and _is_list_gap(gap)):
            connectives |= _connective_words(gap)
        previous_end = finding.end
        after = source[finding.end : passage.end]
        forbidden = wording.forbidden_after.match(after)
        if forbidden and passage.section == "inclusion" and not group:
            rule, gap_before = units.pop()
            units.append((Not(child=rule, span=rule.span), gap_before))
            consumed.append((finding.end, finding.end + forbidden.end()))
        elif forbidden:
            consumed.append((finding.end, finding.end + forbidden.end()))
    close_group()
    mixed = {"and", "or"} <= connectives
    return units, consumed, mixed, cued


def _blanked(source: str, start: int, end: int, claimed: list[tuple[int, int]]) -> str:
    """``source[start:end]`` with the characters a recogniser claimed ("(transfusion permitted)") blanked.
    A connective stays: "Pregnant women or women unwilling to …" still says "or" when "women or women" is claimed.
    """
    chars = list(source[start:end])
    kept = [(m.start(), m.end()) for m in _CONNECTIVE.finditer(source, start, end)]
    for lo, hi in claimed:
        for i in range(max(lo, start), min(hi, end)):
            if not any(a <= i < b for a, b in kept):
                chars[i - start] = " "
    return "".join(chars)


#: A gap opening a relative clause about the subject before it ("… ALL) who have …"), not an alternative to it
#: ("… or who have …").
_RELATIVE = re.compile(r"^(?:(?!\bor\b)[^.;])*?\b(?:who|whose)\b", re.IGNORECASE)
_OR_AFTER = re.compile(r"\s*,?\s*(?:or|and/or)\s+(?!\s*(?:more|greater|less|fewer|higher|lower|older|younger|equal)\b)",
                       re.IGNORECASE)
_EXAMPLE = re.compile(r"\b(?:such\s+as|e\.\s?g\.|for\s+example|for\s+instance)", re.IGNORECASE)
#: A requirement for some patients only, named first ("For participants in first relapse: …").
_SCOPE = re.compile(r"\W*for\s+(?:the\s+)?(?:participants?|patients?|subjects?|those|children|adolescents|adults|"
                    r"women|men|females?|males?|individuals|people|persons)\b[^:;,.]{1,120}[:,]", re.IGNORECASE)
#: A parenthesis that leaves something out: "ALL or lymphoblastic lymphoma (excluded Burkitt lymphoma)".
_PARENTHESIS_EXCEPTION = re.compile(r"\s*(?:excluded|excludes)\b", re.IGNORECASE)
_CONNECTIVE = scanning(r"\b(?:and\s*/\s*or|or|and|nor)\b", re.IGNORECASE)


def _is_list_gap(gap: str) -> bool:
    return re.fullmatch(r"[\s,/]*(?:(?:and\s*/\s*or|and|or|nor)\b[\s,/]*)?", gap, re.IGNORECASE) is not None


def _connective_words(gap: str) -> set[str]:
    words = set()
    if re.search(r"\bor\b|\band\s*/\s*or\b|\w/\w", gap, re.IGNORECASE):
        words.add("or")
    elif re.search(r"\b(?:and|plus|as\s+well\s+as)\b", gap, re.IGNORECASE):
        words.add("and")
    return words


def _join(units: list[tuple[Rule, str]], passage: Passage, mixed: bool) -> Rule | None:
    if not units:
        return None
    if len(units) == 1:
        return units[0][0]
    units = _distinct(units)
    if len(units) == 1:
        return units[0][0]
    # "ALL (B or T lineage) who have received … and have relapsed": what a relative clause says is said of the
    # subject before it, whatever words hide the connective. Each side is joined on its own.
    cut = next((i for i, (_, gap) in enumerate(units) if i and _RELATIVE.match(_PARENTHESIS.sub("", gap))), None)
    if cut is not None:
        sides = [_join(units[:cut], passage, mixed), _join([(units[cut][0], ""), *units[cut + 1:]], passage, mixed)]
        parts = tuple(c for side in sides if side is not None
                      for c in (side.children if isinstance(side, AllOf) else (side,)))
        return AllOf(children=parts, span=_cover(parts))
    gaps = [gap for _, gap in units[1:]]
    words = set().union(*(_connective_words(gap) for gap in gaps))
    rules = tuple(rule for rule, _ in units)
    span = _cover(rules)
    if any(_wordy(gap) for gap in gaps):
        # Unread words between findings hide the connective: take the reading that can't wrongly exclude
        # (any-of in an inclusion, all-of in an exclusion); the residue makes the item part question anyway.
        return AnyOf(children=rules, span=span) if passage.section == "inclusion" else AllOf(children=rules, span=span)
    if "or" in words and ("and" not in words or _connective_words(gaps[-1]) == {"or"}):
        return AnyOf(children=rules, span=span)
    if "and" in words or not all("," in gap or ";" in gap for gap in gaps):
        return AllOf(children=rules, span=span)
    # A bare comma list: requirements in an inclusion, alternatives in an exclusion.
    return AllOf(children=rules, span=span) if passage.section == "inclusion" else AnyOf(children=rules, span=span)


def _distinct(units: list[tuple[Rule, str]]) -> list[tuple[Rule, str]]:
    """The units without repeats: "Down Syndrome Patients with Down Syndrome" names one condition, not two."""
    seen: set[str] = set()
    out: list[tuple[Rule, str]] = []
    for rule, gap in units:
        meaning = _meaning(rule)
        if meaning not in seen:
            seen.add(meaning)
            out.append((rule, gap))
    return out


def _meaning(rule: Rule) -> str:
    """The rule without its spans, as text: equal for the same rule read at two places."""
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "span"}
        if isinstance(value, list | tuple):
            return [strip(v) for v in value]
        return value
    return repr(strip(rule.model_dump()))


_POPULATION = frozenset("and or nor male males female females men women".split())


def _wordy(gap: str) -> bool:
    """Unread words in a gap, within one sentence (separate sentences simply add up)."""
    if re.search(r"[.;]\s", gap):
        return False
    filler = load_wording().filler
    return any(w.lower() not in filler and w.lower() not in _POPULATION for w in _WORD.findall(gap))


def _cover(rules: Iterable[Rule]) -> tuple[int, int] | None:
    spans = [rule.span for rule in rules if rule.span is not None]
    if not spans:
        return None
    return (min(s for s, _ in spans), max(e for _, e in spans))


def _residue(passage: Passage, covered: list[tuple[int, int]], filler: frozenset[str]) -> tuple[str, ...]:
    text = passage.text
    mask = bytearray(len(text))
    for start, end in covered:
        lo, hi = max(start - passage.start, 0), min(end - passage.start, len(text))
        if lo < hi:
            mask[lo:hi] = b"\x01" * (hi - lo)
    words = []
    meaningful: bytearray | None = None  # made only when needed: most texts have no such words
    for found in load_wording().filler_meaningful.finditer(text):
        if meaningful is None:
            meaningful = bytearray(len(text))
        meaningful[found.start() : max(found.end(), found.start() + 1)] = b"\x01" * (
            max(found.end(), found.start() + 1) - found.start())
    if meaningful is None and mask.find(1) < 0:  # nothing read (a question): every word and number is left over
        words = [word for word in map(str.lower, _WORD.findall(text)) if len(word) > 1 and word not in filler]
        return (*words, *_NUMBER_WORD.findall(text))
    for match in _WORD.finditer(text):
        start, end = match.span()
        if mask.find(1, start, end) >= 0:
            continue
        word = match.group(0).lower()
        if len(word) > 1 and (word not in filler or (meaningful is not None and meaningful[start])):
            words.append(word)
    # A number nobody read is a limit nobody checks ("Males and females ≥ 18 years").
    words += [m.group(0) for m in _NUMBER_WORD.finditer(text) if mask.find(1, *m.span()) < 0]
    return tuple(words)


#: The most words an exception read as text alone may have and still leave the rule sure.
_SHORT_EXCEPTION_WORDS = 12


def _apply_exception(rule: Rule, passage: Passage, start: int, end: int) -> tuple[Rule, bool]:
    """``rule`` relaxed by the exception at ``source[start:end]``; and whether the exception was read in full."""
    vocabulary = load_vocabulary()
    segment = passage.source[start:end]
    exception = _read_exception(segment, start, vocabulary)
    targets = _exception_targets(rule, exception, vocabulary)
    if not targets:
        # Nothing the exception can attach to: it stays a question that relaxes the whole criterion.
        question = Question(text=" ".join(segment.strip(" ()").split()), span=(start, end))
        if passage.section == "exclusion":
            return AllOf(children=(rule, Not(child=question, span=(start, end))), span=rule.span), False
        return AnyOf(children=(rule, question), span=rule.span), False
    attached = _attach(rule, exception, targets)
    complete = all(e.complete for leaf in _leaves(attached) for e in getattr(leaf, "exceptions", ()))
    # An exception that names nothing read ("except for physiologic replacement doses") still leaves a sound rule
    # when it relaxes every leaf: a patient it might cover is asked, everyone else is settled. One that names
    # concepts but says more ("adequately treated basal cell carcinoma") would exempt them outright: unsure.
    # A long one may hide another criterion ("(except finasteride … - -evidence of metastatic disease …)"): unsure.
    short = len(_WORD.findall(segment)) <= _SHORT_EXCEPTION_WORDS and not _SENTENCE_BREAK.search(segment.strip())
    trusted = complete or (short and all(id(leaf) in targets for leaf in _leaves(rule)) and all(
        e.complete or not e.concepts for leaf in _leaves(attached) for e in getattr(leaf, "exceptions", ())))
    return attached, trusted


def _read_exception(segment: str, offset: int, vocabulary: Vocabulary) -> RuleException:
    matches = vocabulary.find(segment)
    covered = [(m.start, m.end) for m in matches]
    ended = _ENDED_BEFORE.search(segment)
    ended_before = None
    if ended:
        ended_before = parse_duration(ended.group("d"))
        covered.append((ended.start(), ended.end()))
    concepts = tuple(dict.fromkeys(m.concept.id for m in matches))
    residue = _residue(Passage(segment, 0, len(segment)), covered,
                       load_wording().filler | load_wording().group_lead | _EXCEPTION_FILLER)
    cue = load_wording().exception_start.search(segment)
    leftover = [w for w in residue if not (cue and w in cue.group(0).lower().split())]
    return RuleException(text=" ".join(segment.strip(" ()").split()), span=(offset, offset + len(segment)),
                         concepts=concepts, ended_before=ended_before, complete=bool(concepts) and not leftover)


def _exception_targets(rule: Rule, exception: RuleException, vocabulary: Vocabulary) -> list[int]:
    """ids of the leaves the exception relaxes: same-kind concepts first, else every leaf that can take one."""
    kinds = {vocabulary.concepts[c].kind for c in exception.concepts if c in vocabulary.concepts}
    capable = [leaf for leaf in _leaves(rule) if isinstance(leaf, Therapy | Condition | Lab)]
    therapy_kinds = {"drug", "drug_class", "procedure"}
    if kinds and kinds <= therapy_kinds:
        preferred = [leaf for leaf in capable if isinstance(leaf, Therapy)]
    elif kinds and not kinds & therapy_kinds:
        preferred = [leaf for leaf in capable if isinstance(leaf, Condition | Lab)]
    else:
        preferred = []
    return [id(leaf) for leaf in (preferred or capable)]


def _leaves(rule: Rule) -> list[Rule]:
    if isinstance(rule, AllOf | AnyOf):
        return [leaf for child in rule.children for leaf in _leaves(child)]
    if isinstance(rule, Not):
        return _leaves(rule.child)
    return [rule]


def _attach(rule: Rule, exception: RuleException, targets: list[int]) -> Rule:
    if isinstance(rule, AllOf | AnyOf):
        return rule.model_copy(update={"children": tuple(_attach(c, exception, targets) for c in rule.children)})
    if isinstance(rule, Not):
        return rule.model_copy(update={"child": _attach(rule.child, exception, targets)})
    if id(rule) in targets and isinstance(rule, Therapy | Condition | Lab):
        own = getattr(rule, "concept", None) or getattr(rule, "analyte", None)
        vocabulary = load_vocabulary()
        # An exception can't exempt the very thing the rule is about ("chemotherapy, except pre-phase
        # chemotherapy" keeps chemotherapy): such concepts are dropped from it.
        kept = tuple(c for c in exception.concepts if c != own and c not in vocabulary.ancestors(own or ""))
        # A dropped concept is a part of the exception nobody can apply: it is no longer read in full.
        complete = exception.complete and len(kept) == len(exception.concepts)
        relaxed = exception.model_copy(update={"concepts": kept, "complete": complete})
        return rule.model_copy(update={"exceptions": (*rule.exceptions, relaxed)})
    return rule
