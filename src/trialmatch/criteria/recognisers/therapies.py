"""Therapies, procedures and transplants the patient had, and when: washout windows ("Radiotherapy within 2
weeks prior to start of protocol-specified therapy", "Have had chemotherapy in the last 2 weeks"), prior
therapy ("Prior allogeneic stem cell transplant", "stem cell transplant using donor cells in the past"),
current therapy ("Concurrent use of systemic corticosteroids") and waits ("At least 4 weeks since prior
radiotherapy" → not within 4 weeks). Another study ("participation in another clinical trial within 30 days")
is read the same way (see ``studies``); allergies are read by ``hypersensitivity``.

How a mention is read: the vocabulary's drugs, drug classes and procedures (and study phrases) in the
passage are masked, so the grammar sees "§ or § (e.g., §) within 4 weeks". Consecutive names joined by
"," / "or" / "and" form one list that shares the words before it (the lead: "prior", "currently receiving",
"have had treatment with") and after it (the window: "within 2 weeks prior to start of protocol-specified
therapy"). A list is read only when its timing is said, nothing before it turns it into something else
("refractory to prior TKIs", "2 prior regimens", "eligible for HSCT") and nothing unread follows it ("for
ALL", "to the chest"). Examples of a class ("monoclonal antibodies eg rituximab and alemtuzumab") are read
with it: one under the class adds nothing, one outside it is an alternative. A stated exception right after
the name ("chemotherapy other than hydroxyurea") is read here; others are left to compose.

A list in an exclusion is any of its therapies ("chemotherapy and radiotherapy within 4 weeks" excludes
either); in an inclusion "and" asks for all of them unless a negation cue precedes the list.

The wording is in ``data/criteria/therapy-wording.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Literal

from trialmatch.criteria.compose import load_wording
from trialmatch.criteria.folding import scanning
from trialmatch.criteria.passage import SURE, Found, Passage
from trialmatch.criteria.phrases import DURATION, load_phrases, parse_duration
from trialmatch.criteria.recognisers import conditions, hypersensitivity, studies
from trialmatch.criteria.rules import (
    AllOf,
    AnyOf,
    Condition,
    Duration,
    Not,
    Rule,
    RuleException,
    StudyEnrolment,
    Therapy,
)
from trialmatch.data import read_yaml
from trialmatch.vocabulary.concepts import (
    Concept,
    ConceptMatch,
    _exact_key,
    _folded_key,
    _words,
    load_vocabulary,
)

_KINDS = {"drug", "drug_class", "procedure"}
#: Confidence of a list whose connectives mix "and" with "or", or with a timing duration left unread.
_UNSURE = 0.6
_MARK, _FILL, _STUDY, _STUDY_FILL = "\ue000", "\ue001", "\ue002", "\ue003"
_MARKS = re.compile(f"[{_MARK}{_STUDY}]")  # where a name or a study starts: the only places _units looks at
_NAME = f"{_MARK}{_FILL}*"
_ANY_NAME = f"(?:{_MARK}{_FILL}*|{_STUDY}{_STUDY_FILL}*)"
_SEP = (r"\s*(?:,\s*(?:and\s*/\s*or|and|or|nor)?|\band\s*/\s*or\b|\bor\b|\band\b|\bnor\b|/|\bplus\b)\s*"
        r"(?:(?:any|other|another|a|an|the|(?:prior\s+)?(?:treatment|therapy)\s+with)\s+)*")
_NAME_LIST = rf"{_NAME}(?:{_SEP}{_NAME})*(?:\s*,?\s*etc\.?)?"
#: Leads that, after a noun, describe that noun ("malignancy treated with chemotherapy").
_PARTICIPLES = frozenset({"treated with", "exposed to", "been treated with", "was treated with", "were treated with"})
_CLAUSE_BREAK = re.compile(r"[.;:!?](?=\s|$)|\n")

Timing = Literal["within", "ever", "current", "not_within", "not_within_nor_current"]


def _alternation(phrases: list[str], escape: bool = True) -> str:
    """Longest first; a space matches any whitespace."""
    parts = [re.escape(p).replace(r"\ ", r"\s+") if escape else p.replace(" ", r"\s+") for p in phrases]
    return "|".join(sorted(parts, key=len, reverse=True))


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


@dataclass(frozen=True)
class _Wording:
    lead_timing: dict[str, str]
    lead_end: re.Pattern[str]
    since: re.Pattern[str]
    prior_and_no_concurrent: re.Pattern[str]
    suffix: re.Pattern[str]
    qualifiers_end: re.Pattern[str]
    neutral_qualifiers: frozenset[str]
    narrowing: dict[str, dict[str, list[str]]]
    not_a_therapy: re.Pattern[str]
    examples: re.Pattern[str]
    paren_examples: re.Pattern[str]
    other_than: re.Pattern[str]
    window: re.Pattern[str]
    anchor: re.Pattern[str]
    completed_before: re.Pattern[str]
    ever_after: re.Pattern[str]
    any_purpose: re.Pattern[str]
    followers: re.Pattern[str]
    blocked: frozenset[str]
    narrowing_filler: frozenset[str]
    own_window: re.Pattern[str]
    treated_lead: re.Pattern[str]
    treated_determiners: re.Pattern[str]
    own_disease: re.Pattern[str]


@cache
def _wording() -> _Wording:
    raw = read_yaml("criteria/therapy-wording.yaml")
    flags = re.IGNORECASE
    lead_timing = {_norm(p): timing for timing, phrases in raw["leads"].items() for p in phrases}
    leads = _alternation(list(lead_timing))
    since_leads = _alternation(raw["since_leads"])
    at_least, less_than = _alternation(raw["at_least"]), _alternation(raw["less_than"])
    since = (rf"(?:(?P<ge>{at_least})|(?P<lt>{less_than}))\s*(?P<d>{DURATION})\s+(?:(?:must\s+have\s+|must\s+|"
             rf"should\s+have\s+|has\s+|have\s+)?(?:elapsed|passed|gone\s+by)\s+)?(?:since|from)\s+"
             rf"(?P<lead>(?:(?:{raw['prior_and_no_concurrent']}|{since_leads})\s+)*)$")
    qualifiers = raw["qualifiers"]
    qualifier_words = list(qualifiers["neutral"]) + list(qualifiers["narrowing"])
    # "of the study drug" before the bare word "of": the alternation takes the first that matches, and a
    # name after "of" ("within 4 weeks of the first dose of ibrutinib") ends the anchor.
    anchor_token = (rf"(?:of\s+(?:the\s+)?{_NAME}|(?:{_alternation([str(w) for w in raw['anchor_words']])})(?![\w-])"
                    rf"|[+-]?\d+(?![\w-]))")
    anchor_body = rf"{anchor_token}(?:(?:\s+|\s*,\s*(?=day\b)|-){anchor_token})*"
    anchor = (rf"^\s*,?\s*(?:{_alternation(raw['anchor_lead'].split('|'), escape=False)})\s+{anchor_body}"
              rf"(?:\s*\(\s*{anchor_body}\s*\))?")
    given = (r"(?:(?:that|which)\s+(?:was|were|is|are)\s+)?"
             r"(?:(?:given|administered|received|completed|performed|done|taken|used)\s+)?")
    window = (rf"^\s*,?\s*{given}(?:(?:{_alternation(raw['window_before_duration'], escape=False)})(?P<d>{DURATION})"
              rf"|(?P<needs>{_alternation(raw['window_needs_anchor'], escape=False)})(?P<d2>{DURATION}))")
    completed_verb = raw["completed_before"].replace(" ", r"\s+")
    completed = (rf"^\s*,?\s*(?:{completed_verb})?(?:{at_least})\s*(?P<d>{DURATION})"
                 rf"(?=\s+(?:prior\s+to|before|from|since)\b)")
    cues = _alternation(raw["example_cues"], escape=False)
    return _Wording(
        lead_timing=lead_timing,
        lead_end=scanning(rf"(?<![\w/-])(?P<w>{leads})[\s,]*$", flags),
        since=scanning(since, flags),
        prior_and_no_concurrent=re.compile(raw["prior_and_no_concurrent"], flags),
        suffix=re.compile(rf"^[\s-]+(?:{_alternation(raw['suffixes'])})\b", flags),
        qualifiers_end=scanning(rf"(?<![\w-])(?P<q>(?:(?:{_alternation(qualifier_words)})[\s-]+)+)$", flags),
        neutral_qualifiers=frozenset(_norm(q) for q in qualifiers["neutral"]),
        narrowing={_norm(word): {c: list(v.get("except", [])) for c, v in spec.items()}
                   for word, spec in qualifiers["narrowing"].items()},
        not_a_therapy=re.compile(rf"(?:{'|'.join(raw['not_a_therapy'])})".replace(" ", r"\s+"), flags),
        examples=re.compile(rf"^\s*,?\s*(?:{cues})\s*[,:]?\s*(?P<list>{_NAME_LIST})", flags),
        paren_examples=re.compile(rf"^\s*(?:(?:{cues})\s*[,:]?\s*)?(?P<list>{_NAME_LIST})\s*$", flags),
        other_than=re.compile(rf"^\s+(?P<cue>(?:{_alternation(raw['other_than'])})\s+(?P<list>{_NAME_LIST}))", flags),
        window=scanning(window, flags),
        anchor=scanning(anchor, flags),
        completed_before=scanning(completed, flags),
        ever_after=re.compile(rf"^\s*,?\s*(?:{_alternation(raw['ever_after'])})\b", flags),
        any_purpose=re.compile(rf"^\s*,?\s*(?:{_alternation(raw['any_purpose'])})\b", flags),
        followers=re.compile(rf"^\s*{raw['followers']}", flags),
        blocked=frozenset(str(w).lower() for w in raw["blocked_after_words"]),
        narrowing_filler=frozenset(str(w).lower() for w in raw["narrowing_filler"]),
        own_window=re.compile(
            "^\\s*" + raw["own_window"].replace("{DURATION}", DURATION).replace("{NAMES}", _NAME_LIST), flags),
        treated_lead=re.compile(raw["treated"]["lead"], flags),
        treated_determiners=re.compile(raw["treated"]["determiners"], flags),
        own_disease=re.compile(raw["treated"]["own_disease"], flags),
    )


@dataclass
class _Unit:
    """One named therapy (or study) of a list, with what was read around its name."""

    start: int
    end: int
    concept: Concept | None  # None: a study
    exceptions: list[RuleException] = field(default_factory=list)
    alternatives: list[Concept] = field(default_factory=list)
    #: A parenthesis right after the name that is read by nobody (its words stay residue) or by compose.
    skipped: tuple[int, int] | None = None
    skipped_is_exception: bool = False
    #: Longer windows for some therapies: "(6 weeks for nitrosoureas or mitomycin C)".
    own_windows: list[tuple[Concept, Duration]] = field(default_factory=list)
    #: A study phrase in the past tense ("participated in a clinical trial"): taken part in at some time.
    past: bool = False


@dataclass
class _List:
    units: list[_Unit]
    connectives: set[str]


def recognise(passage: Passage) -> list[Found]:
    found = _recognise_therapies(passage)
    found += studies.recognise_now_or_since(passage)
    found = _merge_studies(passage, found)
    found = _check_durations(passage, found)
    return found + hypersensitivity.recognise(passage)


def _recognise_therapies(passage: Passage) -> list[Found]:
    text = passage.text
    study_spans = studies.study_spans(text)
    matches = [m for m in find_named(text, _KINDS)
               if not _wording().not_a_therapy.fullmatch(m.text)
               and not any(m.start < e and m.end > s for s, e in study_spans)]
    matches = _with_elided(text, matches)
    if not matches and not study_spans:
        return []
    masked = _mask(text, matches, study_spans)
    units = _units(passage, masked, {m.start: m for m in matches})
    found = []
    for listed in _lists(masked, units):
        finding = _read_list(passage, masked, listed, {m.start: m for m in matches})
        if finding is not None:
            found.append(finding)
    return found


#: A donor-source adjective whose noun is said once for two: "allogeneic or autologous HSCT".
_SOURCE = r"(?:allogene?ic|allo|autologous|auto|syngeneic)"
_ELIDED = re.compile(rf"\b(?P<w>{_SOURCE})\s*(?:,\s*(?:or\s+|and\s+)?|or\s+|and/or\s+|and\s+|/\s*)$", re.IGNORECASE)
_SOURCE_START = re.compile(rf"{_SOURCE}[-\s]+(?P<noun>.+)$", re.IGNORECASE)


def _with_elided(text: str, matches: list[ConceptMatch]) -> list[ConceptMatch]:
    """Adds the adjective that shares the next name's noun ("allogeneic" in "allogeneic or autologous HSCT") as a
    name of its own, when the vocabulary knows the adjective with that noun as one concept."""
    added: list[ConceptMatch] = []
    for match in matches:
        source = _SOURCE_START.match(match.text)
        elided = _ELIDED.search(text, max(0, match.start - 40), match.start) if source else None
        if source is None or elided is None or any(m.start <= elided.start() < m.end for m in matches):
            continue
        phrase = f"{elided.group('w')} {source.group('noun')}"
        found = load_vocabulary().find(phrase, kinds=_KINDS)
        whole = len(found) == 1 and found[0].start == 0 and found[0].end == len(phrase)
        if whole and found[0].concept != match.concept:
            added.append(ConceptMatch(found[0].concept, elided.start("w"), elided.end("w"), elided.group("w")))
    return sorted([*matches, *added], key=lambda m: m.start) if added else matches


@cache
def _starts(kinds: frozenset[str]) -> tuple[frozenset[object], frozenset[object]]:
    """How names of ``kinds`` begin (folded, exact): a one-word name, or the first two words of a longer one."""
    return name_starts(kinds)


def name_starts(kinds: frozenset[str]) -> tuple[frozenset[object], frozenset[object]]:
    concepts = [c for c in load_vocabulary().concepts.values() if c.kind in kinds]
    folded = {key[0] if len(key) == 1 else key[:2]
              for c in concepts for key in map(_folded_key, (c.name, *c.synonyms)) if key}
    exact = {key[0] if len(key) == 1 else key[:2] for c in concepts for key in map(_exact_key, c.abbreviations) if key}
    return frozenset(folded), frozenset(exact)


def may_name(text: str, starts: tuple[frozenset[object], frozenset[object]]) -> bool:
    """False when no word or pair of words of ``text`` begins a name (then ``Vocabulary.find`` finds none)."""
    raw, folded = _words(text)
    firsts = _pair_firsts(starts)
    # A pair can start a name only after a word that begins some two-word start: most texts have none.
    return not (starts[0].isdisjoint(folded)
                and (firsts[0].isdisjoint(folded) or starts[0].isdisjoint(pairwise(folded)))
                and starts[1].isdisjoint(raw)
                and (firsts[1].isdisjoint(raw) or starts[1].isdisjoint(pairwise(raw))))


@cache
def _pair_firsts(starts: tuple[frozenset[object], frozenset[object]]) -> tuple[frozenset[object], frozenset[object]]:
    """The first words of the two-word starts (folded, exact)."""
    return (frozenset(k[0] for k in starts[0] if isinstance(k, tuple)),
            frozenset(k[0] for k in starts[1] if isinstance(k, tuple)))


def find_named(text: str, kinds: set[str]) -> list[ConceptMatch]:
    """``load_vocabulary().find(text, kinds)``, skipped at once when no word of ``text`` could begin a name
    of those kinds (most passages name no therapy)."""
    if not may_name(text, _starts(frozenset(kinds))):
        return []
    return load_vocabulary().find(text, kinds=kinds)


def _mask(text: str, matches: list[ConceptMatch], study_spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for m in matches:
        chars[m.start] = _MARK
        chars[m.start + 1 : m.end] = _FILL * (m.end - m.start - 1)
    for start, end in study_spans:
        chars[start] = _STUDY
        chars[start + 1 : end] = _STUDY_FILL * (end - start - 1)
    return "".join(chars)


def _names_in(masked: str, start: int, end: int, by_start: dict[int, ConceptMatch]) -> list[ConceptMatch]:
    return [by_start[i] for i in range(start, end) if masked[i] == _MARK and i in by_start]


def _units(passage: Passage, masked: str, by_start: dict[int, ConceptMatch]) -> list[_Unit]:
    """Every name in the passage with its qualifiers, examples and attached exception."""
    wording = _wording()
    units: list[_Unit] = []
    consumed_to = 0
    for mark in _MARKS.finditer(masked):
        position, char = mark.start(), mark.group()
        if position < consumed_to:
            continue
        filler = _FILL if char == _MARK else _STUDY_FILL
        end = position + 1
        while end < len(masked) and masked[end] == filler:
            end += 1
        if char == _STUDY:
            units.append(_Unit(position, end, None, past=studies.is_past(passage.text[position:end])))
            consumed_to = end
            continue
        match = by_start[position]
        concept = match.concept
        unit = _Unit(position, end, concept)
        _read_qualifiers(passage, masked, unit, match, floor=units[-1].end if units else 0)
        suffix = wording.suffix.match(masked[unit.end :])
        if suffix:
            unit.end += suffix.end()
        _read_attachments(passage, masked, unit, by_start)
        units.append(unit)
        consumed_to = unit.end
    return units


def _read_qualifiers(passage: Passage, masked: str, unit: _Unit, match: ConceptMatch, floor: int) -> None:
    """Take "cancer", "systemic" … before the name when they don't change it, or narrow it in a known way."""
    wording = _wording()
    concept_id = unit.concept.id if unit.concept else ""
    for word in re.findall(r"[\w-]+", match.text.lower()):
        _narrow(passage, unit, word, concept_id, (unit.start, unit.end))
    qualifiers = wording.qualifiers_end.search(masked[floor : unit.start])
    if not qualifiers:
        return
    words = list(re.finditer(r"[\w-]+", qualifiers.group("q")))
    start = unit.start
    for word in reversed(words):
        key = word.group(0).lower()
        if key in wording.neutral_qualifiers or concept_id in wording.narrowing.get(key, {}):
            start = floor + qualifiers.start("q") + word.start()
            _narrow(passage, unit, key, concept_id, (start, start + len(key)))
        else:
            break
    unit.start = start


def _narrow(passage: Passage, unit: _Unit, word: str, concept_id: str, span: tuple[int, int]) -> None:
    exempt = _wording().narrowing.get(word, {}).get(concept_id)
    if not exempt or any(e.concepts == tuple(exempt) for e in unit.exceptions):
        return
    # "Systemic chemotherapy … (except for intrathecal prophylaxis)" says it again: compose reads that one.
    stated = load_wording().exception_start.search(passage.text, span[1])
    if stated and set(exempt) <= {m.concept.id for m in load_vocabulary().find(passage.text[stated.end() :])}:
        return
    absolute = passage.span(*span)
    unit.exceptions.append(RuleException(text=passage.source[absolute[0] : absolute[1]], span=absolute,
                                         concepts=tuple(exempt)))


def _read_attachments(passage: Passage, masked: str, unit: _Unit, by_start: dict[int, ConceptMatch]) -> None:
    """Examples ("(eg, rituximab)", "such as X and Y"), a restated abbreviation ("(HSCT)") and an exception
    written without a comma ("other than hydroxyurea") right after the name."""
    wording = _wording()
    for _ in range(3):
        rest = masked[unit.end :]
        own = _own_windows(masked, unit.end, by_start)
        if own is not None:
            unit.own_windows += own[0]
            unit.end = own[1]
            continue
        paren = re.match(r"^\s*\(([^()]*)\)", rest)
        if paren and unit.skipped is None:
            inner = paren.group(1)
            listed = wording.paren_examples.match(inner)
            if listed:
                names = _names_in(masked, unit.end + paren.start(1), unit.end + paren.end(1), by_start)
                _add_examples(unit, names)
                unit.end += paren.end()
                continue
            unit.skipped = (unit.end + paren.start(), unit.end + paren.end())
            unit.skipped_is_exception = bool(load_wording().exception_start.match(inner.strip()))
            return
        examples = wording.examples.match(rest)
        if examples:
            names = _names_in(masked, unit.end + examples.start("list"), unit.end + examples.end("list"), by_start)
            _add_examples(unit, names)
            unit.end += examples.end()
            continue
        other = wording.other_than.match(rest)
        if other:
            names = _names_in(masked, unit.end + other.start("list"), unit.end + other.end("list"), by_start)
            span = passage.span(unit.end + other.start("cue"), unit.end + other.end())
            unit.exceptions.append(RuleException(
                text=" ".join(passage.source[span[0] : span[1]].split()), span=span,
                concepts=tuple(dict.fromkeys(m.concept.id for m in names))))
            unit.end += other.end()
            continue
        return


def _own_windows(masked: str, position: int, by_start: dict[int, ConceptMatch]
                 ) -> tuple[list[tuple[Concept, Duration]], int] | None:
    """ "(6 weeks for nitrosoureas or mitomycin C)" at ``position``: the therapies with their own window."""
    match = _wording().own_window.match(masked[position:])
    if match is None:
        return None
    duration = parse_duration(match.group("d"))
    names = _names_in(masked, position + match.start("list"), position + match.end("list"), by_start)
    return [(m.concept, duration) for m in names], position + match.end()


def _add_examples(unit: _Unit, names: list[ConceptMatch]) -> None:
    """An example under the named class adds nothing; one outside it (by the vocabulary) is an alternative."""
    vocabulary = load_vocabulary()
    assert unit.concept is not None
    own = unit.concept.id
    for name in names:
        example = name.concept.id
        related = example == own or own in vocabulary.ancestors(example) or example in vocabulary.ancestors(own)
        if not related and name.concept not in unit.alternatives:
            unit.alternatives.append(name.concept)


def _lists(masked: str, units: list[_Unit]) -> list[_List]:
    """Units joined by list separators ("chemotherapy, radiotherapy or immunotherapy")."""
    lists: list[_List] = []
    separator = re.compile(_SEP, re.IGNORECASE)
    for unit in units:
        if lists:
            previous = lists[-1].units[-1]
            gap = masked[previous.end : unit.start]
            if previous.skipped is None and separator.fullmatch(gap):
                lists[-1].units.append(unit)
                lists[-1].connectives |= _connectives(gap)
                continue
        lists.append(_List([unit], set()))
    return lists


def _connectives(gap: str) -> set[str]:
    if re.search(r"\bor\b|\bnor\b|/", gap, re.IGNORECASE):
        return {"or"}
    if re.search(r"\band\b|\bplus\b", gap, re.IGNORECASE):
        return {"and"}
    return {","}


def _clause_start(text: str, position: int) -> int:
    return max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, position)), default=0)


def _read_list(passage: Passage, masked: str, listed: _List, by_start: dict[int, ConceptMatch]) -> Found | None:
    wording = _wording()
    first, last = listed.units[0], listed.units[-1]
    clause = _clause_start(masked, first.start)
    prefix = masked[clause : first.start]
    start = first.start
    timing: Timing | None = None
    window: Duration | None = None

    since = wording.since.search(prefix)
    if since and _only_filler(prefix[: since.start()]):
        window = parse_duration(since.group("d"))
        start = clause + since.start()
        if since.group("ge"):
            if passage.section != "inclusion":
                return None  # "at least 4 weeks since …" as an exclusion says nothing clear
            no_concurrent = wording.prior_and_no_concurrent.search(since.group("lead"))
            timing = "not_within_nor_current" if no_concurrent else "not_within"
        else:
            timing = "within"
        lead_words: list[str] = []
    else:
        lead_start, lead_words = _lead(prefix)
        start = clause + lead_start if lead_words else start
        if _blocked(prefix[:lead_start]):
            return None
        if lead_words and lead_words[0] in _PARTICIPLES and not _only_filler(prefix[:lead_start]):
            return None  # "Malignancy treated with chemotherapy": the therapy of something else
        if not lead_words and not _neutral_before(prefix):
            return None  # "investigational anti-cancer agent", "ocular surgery": narrowed in a way not read

    # After the list: a skipped parenthesis, then the window or "in the past", then only a follower.
    position = last.end
    if last.skipped is not None:
        if not last.skipped_is_exception and _only_filler(masked[last.skipped[0] : last.skipped[1]]):
            return None  # "(within the last year)": words the residue check would not see, yet they time it
        position = last.skipped[1]
    claimed: list[tuple[int, int]] = []
    after_start = position
    own_windows = [w for u in listed.units for w in u.own_windows]
    treated = _treated_condition(passage, position)
    if treated is not None:
        if treated[0] != "disease_under_study" and not load_vocabulary().is_a(treated[0], "cancer") and any(
                u.concept is not None and u.concept.id in _CANCER_ONLY for u in listed.units):
            return None
        position = treated[2]
    elif purpose := wording.any_purpose.match(masked[position:]):
        position += purpose.end()
    if timing is None:
        read = _window_after(masked, position, by_start, own_windows)
        if read is not None:
            window, position = read
            timing = "within"
        else:
            completed = wording.completed_before.match(masked[position:])
            anchored = _anchor(masked, position + completed.end()) if completed else None
            if completed and anchored:
                if passage.section != "inclusion":
                    return None
                window = parse_duration(completed.group("d"))
                position = anchored
                timing = "not_within"
            else:
                ever = wording.ever_after.match(masked[position:])
                if ever:
                    position += ever.end()
                    timing = "ever"
    if not wording.followers.match(masked[position:]):
        return None
    if timing is None:
        timing = _lead_timing(lead_words)
        if any(u.past for u in listed.units):
            timing = "ever"
    studies_only = all(u.concept is None for u in listed.units)
    if timing is None and studies_only and _only_filler(prefix):
        timing = "current"  # "Participation in another clinical trial": taking part now
    if timing is None:
        return None
    if timing == "ever" and any(u.concept is None for u in listed.units):
        return None  # a study taken part in at any time: the leaf can't say it

    if own_windows and not _longer_for_subclasses(listed, timing, window, own_windows):
        return None

    end = position
    if last.skipped is not None and not last.skipped_is_exception:
        # The unread parenthesis stays residue: the finding stops before it and claims the window after it.
        end = last.skipped[0]
        if position > after_start:
            claimed.append(passage.span(after_start, position))
    rule = _rule(passage, listed, timing, window, own_windows, passage.span(start, end),
                 treated[:2] if treated is not None else None)
    confidence = _UNSURE if listed.connectives >= {"and", "or"} else SURE
    return Found(rule, *passage.span(start, end), category=_category(listed, timing), confidence=confidence,
                 claimed=tuple(claimed))


def _treated_condition(passage: Passage, position: int) -> tuple[str, str, int] | None:
    """What the therapy treated, right after it: "for lymphoma", "for their disease", "for the treatment of CLL".
    Returns (concept, name, end) or None."""
    text = passage.text
    lead = _wording().treated_lead.match(text, position)
    if lead is None:
        return None
    own = _wording().own_disease.match(text, lead.end())
    if own is not None:
        return "disease_under_study", "the disease under study", own.end()
    start = _wording().treated_determiners.match(text, lead.end()).end()  # always matches, maybe empty
    # The condition recogniser reads names the vocabulary leaves broad ("NSCLC" is non-small cell lung cancer).
    for finding in conditions.recognise(passage.part(start, len(text))):
        rule = finding.rule
        if (finding.start == passage.start + start and isinstance(rule, Condition) and not rule.qualifiers
                and rule.concept not in ("disease_under_study", "other_malignancy")):
            return rule.concept, rule.name, finding.end - passage.start
    found = [m for m in load_vocabulary().find(text[start : start + 80], kinds={"condition", "infection"})
             if m.start == 0]
    if not found:
        return None
    # The longest name; of names read from the same words ("NSCLC"), the narrowest concept.
    vocabulary = load_vocabulary()
    match = max(found, key=lambda m: (m.end, len(vocabulary.ancestors(m.concept.id))))
    return match.concept.id, match.concept.name, start + match.end


#: Therapy concepts that mean cancer treatment only when given for a cancer: "systemic therapy for psoriasis" is not.
_CANCER_ONLY = frozenset({"anticancer_therapy"})


def _window_after(masked: str, position: int, by_start: dict[int, ConceptMatch], own: list[tuple[Concept, Duration]]
                  ) -> tuple[Duration, int] | None:
    """The window after a name ("within 2 weeks prior to start of protocol-specified therapy"), and any longer
    windows of some therapies around its anchor (added to ``own``)."""
    window = _wording().window.match(masked[position:])
    if window is None:
        return None
    duration = parse_duration(window.group("d") or window.group("d2"))
    end = position + window.end()
    inner = _own_windows(masked, end, by_start)
    if inner is not None:
        own += inner[0]
        end = inner[1]
    anchored = _anchor(masked, end)
    if anchored is None and window.group("needs"):
        return None
    end = anchored or end
    outer = _own_windows(masked, end, by_start)
    if outer is not None:
        own += outer[0]
        end = outer[1]
    return duration, end


def _anchor(masked: str, position: int) -> int | None:
    """The end of the reference point after a window ("prior to start of protocol-specified therapy"): the
    longest run of anchor words after which the text may go on ("prior to enrollment in this study")."""
    wording = _wording()
    anchor = wording.anchor.match(masked[position:])
    if anchor is None:
        return None
    end = position + anchor.end()
    while end > position:
        if wording.followers.match(masked[end:]):
            return end
        shorter = wording.anchor.match(masked[position:end].rsplit(None, 1)[0]) if " " in masked[position:end].strip() \
            else None
        end = position + shorter.end() if shorter else position
    return None


def _lead(prefix: str) -> tuple[int, list[str]]:
    """The lead words right before a list ("have had treatment with", "prior", "currently receiving")."""
    wording = _wording()
    position = len(prefix)
    words: list[tuple[int, str]] = []
    while True:
        match = wording.lead_end.search(prefix, 0, position)
        if match is None or not match.group("w").strip():
            break
        words.append((match.start("w"), _norm(match.group("w"))))
        position = match.start("w")
    words.reverse()
    while words and words[0][1] in ("or", "and", "and/or"):
        words.pop(0)
    if not words:
        return len(prefix), []
    return words[0][0], [w for _, w in words]


#: Ever-leads that are only a verb of having: "had concurrent treatment" is current, "prior or current" is ever.
_HAVING = frozenset({"had", "has", "have", "received", "undergone", "underwent", "been given"})


def _lead_timing(words: list[str]) -> Timing | None:
    timings = {_wording().lead_timing.get(w) for w in words}
    if "ever" in timings and "current" in timings and all(
            w in _HAVING for w in words if _wording().lead_timing.get(w) == "ever"):
        return "current"
    if "ever" in timings:
        return "ever"
    if "current" in timings:
        return "current"
    return None


def _blocked(before: str) -> bool:
    """True when the words before the lead make the mention something else than a therapy had."""
    tokens = re.findall(r"[^\W\d_]+(?:[.'’-][^\W\d_]+)*\.?|\d+(?:[.,]\d+)?|[^\w\s]", before)
    if not tokens:
        return False
    last = tokens[-1].lower().rstrip(".")
    if last[:1].isdigit() or last in load_phrases().number_words or last in ("≥", ">", "≤", "<", "+"):
        return True  # a count: "2 prior regimens", "at least one prior"
    return last in _wording().blocked


def _neutral_before(prefix: str) -> bool:
    """True when the word right before an unled name leaves it as it is (a function word or punctuation)."""
    words = re.findall(r"[^\W\d_]+", prefix.split(",")[-1].split("(")[-1])
    if not words:
        return True
    return words[-1].lower() in _neutral_words()


@cache
def _neutral_words() -> frozenset[str]:
    return (load_wording().filler | {"no", "not", "without", "never", "nor", "neither", "or", "and"}) \
        - _wording().narrowing_filler


def _only_filler(text: str) -> bool:
    filler = load_wording().filler | {"no", "not", "must", "be", "is", "are"}
    return all(w.lower() in filler for w in re.findall(r"[^\W\d_]+", text))


def _longer_for_subclasses(listed: _List, timing: Timing | None, window: Duration | None,
                           own_windows: list[tuple[Concept, Duration]]) -> bool:
    """ "(6 weeks for nitrosoureas)" can be read as an alternative only when it lengthens the window of a
    therapy the list names: a shorter one would need an exception the rule can't state."""
    if timing not in ("within", "not_within", "not_within_nor_current") or window is None:
        return False
    vocabulary = load_vocabulary()
    named = {u.concept.id for u in listed.units if u.concept is not None}
    return all(duration.in_days() > window.in_days()
               and (concept.id in named or named & set(vocabulary.ancestors(concept.id)))
               for concept, duration in own_windows)


def _rule(passage: Passage, listed: _List, timing: Timing, window: Duration | None,
          own_windows: list[tuple[Concept, Duration]], span: tuple[int, int],
          treated: tuple[str, str] | None = None) -> Rule:
    single = len(listed.units) == 1
    condition, condition_name = treated if treated is not None else (None, None)
    leaf_timing: Literal["within", "ever", "current"] = (
        "within" if timing in ("within", "not_within", "not_within_nor_current") else timing)  # type: ignore[assignment]

    def leaves_for(unit: _Unit, when: Literal["within", "ever", "current"]) -> Rule:
        unit_span = span if single else passage.span(unit.start, unit.end)
        if unit.concept is None:
            return StudyEnrolment(window=window if when == "within" else None, span=unit_span)
        leaves: list[Rule] = [
            Therapy(concept=c.id, name=c.name, timing=when, window=window if when == "within" else None,
                    exceptions=tuple(unit.exceptions) if c is unit.concept else (), span=unit_span,
                    condition=condition, condition_name=condition_name)
            for c in (unit.concept, *unit.alternatives)]
        return leaves[0] if len(leaves) == 1 else AnyOf(children=tuple(leaves), span=unit_span)

    def joined(when: Literal["within", "ever", "current"], any_of: bool) -> Rule:
        # "anti-PD1 or anti-PD-L1 antibody therapy" names one concept twice: one leaf.
        rules = list({(u.concept.id if u.concept else "study"): leaves_for(u, when) for u in listed.units}.values())
        if when == "within":
            rules += [Therapy(concept=c.id, name=c.name, timing="within", window=w, span=span) for c, w in own_windows]
        if len(rules) == 1:
            return rules[0]
        return AnyOf(children=tuple(rules), span=span) if any_of else AllOf(children=tuple(rules), span=span)

    if timing == "not_within":
        return Not(child=joined("within", True), span=span)
    if timing == "not_within_nor_current":
        return AllOf(children=(Not(child=joined("within", True), span=span),
                               Not(child=joined("current", True), span=span)), span=span)
    all_of = (not own_windows and "and" in listed.connectives and "or" not in listed.connectives
              and passage.section == "inclusion"
              and not load_wording().negation_before.search(passage.source[passage.start : span[0]]))
    return joined(leaf_timing, not all_of)


def _category(listed: _List, timing: Timing) -> str:
    if all(u.concept is None or u.concept.id == "investigational_agent" for u in listed.units):
        return "other_study"
    if timing == "ever":
        return "prior_therapy"
    if timing == "current":
        return "current_therapy"
    return "washout"


def _merge_studies(passage: Passage, found: list[Found]) -> list[Found]:
    """ "Currently in another study, or less than 4 weeks since ending treatment on another study": one study
    enrolment, now or within the window."""
    found = sorted(found, key=lambda f: f.start)
    merged: list[Found] = []
    for finding in found:
        if merged:
            previous = merged[-1]
            gap = passage.source[previous.end : finding.start]
            if (isinstance(previous.rule, StudyEnrolment) and isinstance(finding.rule, StudyEnrolment)
                    and re.fullmatch(r"\s*,?\s*(?:or|and/or)\s*(?:(?:has|have|had)\s+)?", gap, re.IGNORECASE)):
                windows = [w for w in (previous.rule.window, finding.rule.window) if w is not None]
                window = max(windows, key=lambda w: w.in_days()) if windows else None
                span = (previous.start, finding.end)
                merged[-1] = Found(StudyEnrolment(window=window, span=span), *span, category="other_study",
                                   confidence=min(previous.confidence, finding.confidence),
                                   claimed=previous.claimed + finding.claimed)
                continue
        merged.append(finding)
    return merged


_TIMED_DURATION = scanning(
    rf"(?:\b(?:within|since|last|past|previous|preceding|during|over|ago|elapsed)\b[^.;]{{0,25}}?(?P<a>{DURATION}))"
    rf"|(?P<b>{DURATION})\s+(?:prior|before|ago|since|after|from|following|preceding|earlier)\b",
    re.IGNORECASE,
)


_ANY_DURATION = scanning(DURATION, re.IGNORECASE)


def _check_durations(passage: Passage, found: list[Found]) -> list[Found]:
    """A timing duration in the same clause that no finding read may change the timing: a window finding
    becomes unsure, an "ever" or "current" one is dropped ("Prior radiation to >25% of marrow within 4 weeks")."""
    text = passage.text
    read = [(f.start, f.end) for f in found] + [c for f in found for c in f.claimed]
    checked = []
    for finding in found:
        start, end = finding.start - passage.start, finding.end - passage.start
        clause_start = _clause_start(text, start)
        clause_end = next((m.start() for m in _CLAUSE_BREAK.finditer(text, end)), len(text))
        timings = {_leaf_timing(leaf) for leaf in _therapies(finding.rule)}
        timeless = bool(timings & {"ever", "current"}) and "within" not in timings
        loose = False
        for match in _TIMED_DURATION.finditer(text, clause_start, clause_end):
            absolute = passage.start + match.start("a" if match.group("a") else "b")
            if not any(s <= absolute < e for s, e in read):
                loose = True
        if timeless:
            # Any duration in the clause may time or qualify this mention: a window later in the clause may be
            # shared with it ("received X, Y or Z within 6 months"), "(≥14 days)" may say how long.
            for match in _ANY_DURATION.finditer(text, clause_start, clause_end):
                absolute = passage.start + match.start()
                if absolute >= finding.end or not any(s <= absolute < e for s, e in read):
                    loose = True
        if loose:
            if timeless:
                continue
            finding = Found(finding.rule, finding.start, finding.end, finding.category,
                            min(finding.confidence, _UNSURE), finding.claimed)
        checked.append(finding)
    return checked


def _leaf_timing(leaf: Therapy | StudyEnrolment) -> str:
    if isinstance(leaf, Therapy):
        return leaf.timing
    return "within" if leaf.window is not None else "current"


def _therapies(rule: Rule) -> list[Therapy | StudyEnrolment]:
    if isinstance(rule, AllOf | AnyOf):
        return [leaf for child in rule.children for leaf in _therapies(child)]
    if isinstance(rule, Not):
        return _therapies(rule.child)
    return [rule] if isinstance(rule, Therapy | StudyEnrolment) else []
