"""Read a free-text clinical note into patient facts: age, sex, conditions (denied, historical, a relative's),
disease state, labs with units, therapies with their dates, pregnancy, breastfeeding and performance status.

Concepts are found with the project's vocabulary; how each is asserted (denied, historical, hypothetical,
possible, a relative's) is judged by medspaCy's ConText (``notes_context``). Every fact's source points at the
note's characters (``note:chars START-END``, several ranges joined by commas) and quotes the sentence it was
read from. The note itself is never logged. All wording lives in ``data/notes/*.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from trialmatch.data import read_yaml
from trialmatch.patients.concepts import resolve_concepts
from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import AllergyFact, LabFact, PatientFacts, Source, TherapyFact
from trialmatch.patients.notes_conditions import (
    Finding,
    attach_states,
    condition_fact,
    dates,
    infection_fact,
    kept,
    merge,
    qualifiers,
)
from trialmatch.patients.notes_context import Assertion, Sentence, Target, assert_targets
from trialmatch.patients.notes_demographics import (
    age_fact,
    read_age,
    read_birth_date,
    read_pregnancy_tests,
    read_sex,
    reproduction_facts,
    reproduction_targets,
)
from trialmatch.patients.notes_disease import find_readings, reading_targets
from trialmatch.patients.notes_disease import wording as disease_wording
from trialmatch.patients.notes_measures import read_labs, read_performance
from trialmatch.patients.notes_sections import Section, Sections, find_sections
from trialmatch.patients.notes_spans import SpanIndex
from trialmatch.patients.notes_therapies import Mention, therapy_timings
from trialmatch.patients.notes_timing import find_times, note_date
from trialmatch.vocabulary import Vocabulary, load_vocabulary
from trialmatch.vocabulary.concepts import ConceptMatch

#: Concept kinds read as findings, and their ConText labels.
_LABELS = {"condition": "CONDITION", "infection": "INFECTION", "drug": "DRUG", "drug_class": "DRUG",
           "procedure": "PROCEDURE"}
_SOURCE_CHARS = 400
# Control characters other than tab and newline become spaces: same length, so offsets stay the note's.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


@cache
def _section_wording() -> dict[str, Any]:
    return read_yaml("notes/sections.yaml")


_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?![ \t]*\n))+")


@cache
def _services() -> tuple[re.Pattern[str], frozenset[str]]:
    wording = read_yaml("notes/context.yaml")
    return re.compile(wording["services"], re.IGNORECASE), frozenset(w.lower() for w in wording["departments"])


@cache
def _adjectives() -> frozenset[str]:
    return frozenset(w.lower() for w in read_yaml("notes/context.yaml")["adjectives"])


@cache
def _max_chars() -> int:
    return int(read_yaml("notes/context.yaml")["max_chars"])


def read_note(text: str, as_of: dt.date | None = None) -> PatientFacts:
    """The facts a clinical note states about its patient.

    ``as_of`` is the note's date, for "3 weeks ago" and the age's date; without it the note's own "Date:" line
    is used, else today. Raises ``PatientReadError`` only when ``text`` is not text at all.
    """
    if not isinstance(text, str):
        raise PatientReadError(f"a clinical note must be text, not {type(text).__name__}; decode it as UTF-8 first")
    warnings: list[str] = []
    if len(text) > _max_chars():
        warnings.append(f"the note is {len(text):,} characters long; only the first {_max_chars():,} were read")
        text = text[:_max_chars()]
    text = _CONTROL.sub(" ", text)
    if not text.strip():
        return PatientFacts(warnings=["the note is empty: there was nothing to read"])
    as_of = as_of or note_date(text) or dt.date.today()
    # A closing line break lets a last "Diabetes: no" end its line like any other; offsets are unchanged.
    return _Reader(text if text.endswith("\n") else text + "\n", as_of, warnings).read()


@dataclass
class _Reader:
    """One reading of one note: the note, its date, and what was found so far."""

    text: str
    as_of: dt.date
    warnings: list[str]
    sections: Sections = field(init=False)
    _sentences: list[Sentence] = field(init=False, default_factory=list)
    _sentence_starts: list[int] = field(init=False, default_factory=list)

    def read(self) -> PatientFacts:
        vocabulary = load_vocabulary()
        self.sections = find_sections(self.text)
        concept_targets = self._concept_targets(vocabulary)
        readings = find_readings(self.text)
        targets = concept_targets + reproduction_targets(self.text) + reading_targets(readings)
        assertions, sentences = assert_targets(self.text, targets)
        self._sentences = sentences
        self._sentence_starts = [s.start for s in sentences]
        assertions = [a for a in assertions if not self._skipped(a.target.start)]
        by_label: dict[str, list[Assertion]] = {}
        for assertion in assertions:
            by_label.setdefault(assertion.target.label, []).append(assertion)
        family_spans = self._family_spans(assertions)

        facts: dict[str, Any] = {}
        conditions, infections = self._conditions(by_label, vocabulary)
        facts["conditions"], facts["infections"] = conditions, infections
        therapies, allergies = self._therapies(by_label)
        facts["therapies"], facts["allergies"] = therapies, allergies + self._no_known_allergies()
        facts["labs"] = self._labs(sentences, vocabulary) + self._state_labs(by_label.get("STATE", []))
        facts["performance"] = self._performance(sentences)
        facts.update(self._demographics(assertions, family_spans))
        for reading in readings:
            if reading.problem:
                self.warnings.append(reading.problem)
        result = PatientFacts(**facts)
        self._warn_about_month_dates(result)
        result.warnings = _summarised(self.warnings)
        return resolve_concepts(result, vocabulary)

    def _warn_about_month_dates(self, facts: PatientFacts) -> None:
        """Say which dates were given only as a month or a year (and so read as its first day)."""
        written: list[str] = []
        dated = [*facts.conditions, *facts.therapies, *facts.labs, *facts.infections]
        for fact in dated:
            dates = {getattr(fact, name, None) for name in ("start", "end", "diagnosed", "relapse_date", "resolved",
                                                             "date")} - {None}
            if not dates or not fact.source.reference:
                continue
            for part in fact.source.reference.removeprefix("note:chars ").split(","):
                start, end = (int(n) for n in part.split("-"))
                for time in find_times(self.text[start:end], self.as_of):
                    if time.precision != "day" and {time.date, time.until} & dates:
                        written.append(" ".join(self.text[start + time.start:start + time.end].split()))
        if written:
            examples = ", ".join(f"'{w}'" for w in list(dict.fromkeys(written))[:5])
            self.warnings.append(f"dates given only as a month or a year were read as its first day ({examples}); "
                                 "check criteria with a time limit near them")

    # --- sources and sections -------------------------------------------------------------------------------

    def source(self, *spans: tuple[int, int]) -> Source:
        """A note source: the character ranges and the words in them (sentence by sentence)."""
        unique = sorted(set(spans))
        trimmed = [self._trim(start, end) for start, end in unique]
        words = " … ".join(self.text[s:e] for s, e in trimmed if e > s)
        words = " ".join(words.split())
        if len(words) > _SOURCE_CHARS:
            words = words[:_SOURCE_CHARS - 1].rstrip() + "…"
        reference = "note:chars " + ",".join(f"{s}-{e}" for s, e in trimmed)
        return Source(kind="note", reference=reference, text=words or None)

    def _source_for(self, start: int, end: int) -> Source:
        return self.source(self._sentence_around(start, end))

    def _trim(self, start: int, end: int) -> tuple[int, int]:
        while start < end and self.text[start].isspace():
            start += 1
        while end > start and self.text[end - 1].isspace():
            end -= 1
        return start, end

    def _sentence_around(self, start: int, end: int) -> tuple[int, int]:
        """The sentence around a span, for readers that work on single phrases."""
        index = bisect_right(self._sentence_starts, start) - 1
        if index >= 0 and start < self._sentences[index].end:
            return self._sentences[index].start, max(end, self._sentences[index].end)
        return start, end

    def _section(self, position: int) -> Section | None:
        return self.sections.at(position)

    def _skipped(self, position: int) -> bool:
        section = self._section(position)
        return bool(section and section.effects.get("skip"))

    def _family_spans(self, assertions: list[Assertion]) -> SpanIndex:
        spans = [(a.sentence_start, a.sentence_end) for a in assertions if a.family]
        spans += [(s.header_end, s.end) for s in self.sections if s.effects.get("family")]
        return SpanIndex(spans)

    # --- conditions and infections --------------------------------------------------------------------------

    def _concept_targets(self, vocabulary: Vocabulary) -> list[Target]:
        """Conditions, infections, drugs and procedures named in the note, line by line."""
        skipped = set(disease_wording()["state_concepts"]) | set(_section_wording()["allergy_concepts"])
        headers = [(s.start, s.header_end) for s in self.sections]
        services, departments = _services()
        targets = []
        # Paragraph by paragraph: a wrapped line keeps its phrase ("B-cell acute\nlymphoblastic leukaemia").
        for paragraph in _PARAGRAPH.finditer(self.text):
            offset = paragraph.start()
            for match in vocabulary.find(paragraph.group(0), set(_LABELS)):
                start, end = offset + match.start, offset + match.end
                if match.concept.id in skipped or any(s <= start < e for s, e in headers):
                    continue
                # "the leukaemia clinic", "Paediatric Oncology": a place or a specialty, not a diagnosis.
                if services.match(self.text, end) or match.text.lower() in departments:
                    continue
                located = ConceptMatch(match.concept, start, end, match.text)
                targets.append(Target(start, end, _LABELS[match.concept.kind], located))
        return targets

    def _conditions(self, by_label: dict[str, list[Assertion]], vocabulary: Vocabulary) -> tuple[list, list]:
        findings: list[Finding] = []
        adjectives = _adjectives()
        for assertion in by_label.get("CONDITION", []) + by_label.get("INFECTION", []):
            if not kept(assertion):
                continue
            target = assertion.target
            if (assertion.negated and self.text[target.start:target.end].lower() in adjectives
                    and re.match(r"[ \t]+[a-z]", self.text[target.end:target.end + 3])):
                continue  # "no diabetic foot ulcers" denies the ulcers, not the diabetes
            section = self._section(assertion.target.start)
            family_section = bool(section and section.effects.get("family"))
            finding = Finding(assertion.target.payload, assertion, family_section)
            finding.fields.update(qualifiers(self.text, finding))
            findings.append(finding)
        findings.sort(key=lambda f: f.match.start)
        dates(self.text, findings, self.as_of)
        attach_states(by_label.get("STATE", []), findings, self.text, self.as_of, vocabulary, self.warnings)
        conditions, infections = [], []
        for finding in merge(findings, self.warnings):
            spans = [(finding.assertion.sentence_start, finding.assertion.sentence_end), *finding.spans]
            source = self.source(*spans)
            if finding.match.concept.kind == "infection":
                if not finding.family:
                    infections.append(infection_fact(finding, source, self.text))
            else:
                conditions.append(condition_fact(finding, source, self.text))
        return conditions, infections

    # --- therapies and allergies ----------------------------------------------------------------------------

    def _therapies(self, by_label: dict[str, list[Assertion]]) -> tuple[list[TherapyFact], list[AllergyFact]]:
        cues = _section_wording()["allergy_cues"]
        before, after = re.compile(cues["before"], re.I), re.compile(cues["after"], re.I)
        severe = re.compile(cues["severe"], re.I)
        per_sentence: dict[tuple[int, int], list[Assertion]] = {}
        allergies: list[AllergyFact] = []
        for assertion in by_label.get("DRUG", []) + by_label.get("PROCEDURE", []):
            target = assertion.target
            section = self._section(target.start)
            sentence = self.text[assertion.sentence_start:assertion.sentence_end]
            lead = self.text[assertion.sentence_start:target.start]
            trail = self.text[target.end:assertion.sentence_end]
            if (section and section.effects.get("allergies")) or before.search(lead) or after.match(trail):
                if kept(assertion) and not assertion.family:
                    match: ConceptMatch = target.payload
                    allergies.append(AllergyFact(
                        concept=match.concept.id, name=match.text, present=not assertion.negated,
                        severe=True if severe.search(sentence) else None,
                        source=self.source((assertion.sentence_start, assertion.sentence_end))))
                continue
            if assertion.family or assertion.possible:
                continue
            per_sentence.setdefault((assertion.sentence_start, assertion.sentence_end), []).append(assertion)
        allergies = list({(a.concept, a.present): a for a in reversed(allergies)}.values())[::-1]
        therapies: list[TherapyFact] = []
        for (start, end), group in per_sentence.items():
            therapies += self._sentence_therapies(start, end, sorted(group, key=lambda a: a.target.start))
        return _merge_therapies(therapies, self.warnings), allergies

    def _sentence_therapies(self, start: int, end: int, group: list[Assertion]) -> list[TherapyFact]:
        sentence = self.text[start:end]
        mentions = [Mention(a.target.start - start, a.target.end - start, a.target.label == "PROCEDURE")
                    for a in group]
        section = self._section(start)
        effect = str(section.effects.get("therapies")) if section and section.effects.get("therapies") else None
        timings = therapy_timings(sentence, mentions, self.as_of, effect)
        facts = []
        for assertion, timing in zip(group, timings, strict=True):
            match: ConceptMatch = assertion.target.payload
            source = self.source((start, end))
            if assertion.negated:
                facts.append(TherapyFact(concept=match.concept.id, name=match.text, present=False, source=source))
                continue
            if assertion.hypothetical or (effect == "planned" and not timing.stated):
                continue  # a plan, not a therapy given
            ongoing = timing.ongoing
            if ongoing is None and assertion.historical and assertion.target.label == "DRUG":
                ongoing = False  # "s/p", "prior": given and finished
            facts.append(TherapyFact(concept=match.concept.id, name=match.text, start=timing.start, end=timing.end,
                                     ongoing=ongoing, source=source))
        return facts

    def _no_known_allergies(self) -> list[AllergyFact]:
        match = re.search(_section_wording()["no_known_allergies"], self.text, re.IGNORECASE)
        if match is None:
            return []
        return [AllergyFact(name="no known drug allergies", present=False,
                            source=self._source_for(match.start(), match.end()))]

    # --- labs and performance status ------------------------------------------------------------------------

    def _measure_sentences(self, sentences: list[Sentence]) -> list[Sentence]:
        """Sentences for values: a label and its value split by ConText's sentences ("KPS:" "90") are one."""
        merged: list[Sentence] = []
        for sentence in sentences:
            if merged and self.text[merged[-1].start:merged[-1].end].rstrip().endswith(":") and \
                    "\n" not in self.text[merged[-1].end:sentence.start]:
                merged[-1] = Sentence(merged[-1].start, sentence.end)
            else:
                merged.append(sentence)
        return merged

    def _labs(self, sentences: list[Sentence], vocabulary: Vocabulary) -> list[LabFact]:
        labs: list[LabFact] = []
        for sentence in self._measure_sentences(sentences):
            if self._skipped(sentence.start):
                continue
            text = self.text[sentence.start:sentence.end]
            date = self._date_for(sentence, text)
            for reading in read_labs(text, sentence.start, vocabulary, date,
                                     lambda s, e, sentence=sentence: self.source((sentence.start, sentence.end))):
                if reading.fact is not None:
                    labs.append(reading.fact)
                elif reading.problem:
                    self.warnings.append(f"lab not recorded: {reading.problem}")
        return labs

    def _date_for(self, sentence: Sentence, text: str) -> dt.date | None:
        """A date in the sentence, else one in its section's header ("Labs (12 March 2025):")."""
        times = find_times(text, self.as_of)
        if times:
            return times[0].date
        section = self._section(sentence.start)
        if section is not None:
            header = find_times(self.text[section.start:section.header_end], self.as_of)
            if header:
                return header[0].date
        return None

    def _state_labs(self, states: list[Assertion]) -> list[LabFact]:
        """MRD levels and marrow blasts from disease-state readings, as lab facts too."""
        labs = []
        for assertion in states:
            reading = assertion.target.payload
            if not reading.labs or not assertion.affirmed:
                continue
            for analyte, value, unit in reading.labs:
                labs.append(LabFact(analyte=analyte, name=self.text[reading.start:reading.end].strip(), value=value,
                                    unit=unit, source=self.source((assertion.sentence_start, assertion.sentence_end))))
        return labs

    def _performance(self, sentences: list[Sentence]) -> list:
        facts = []
        for sentence in self._measure_sentences(sentences):
            if self._skipped(sentence.start):
                continue
            text = self.text[sentence.start:sentence.end]
            date = self._date_for(sentence, text) if re.search(r"\d", text) else None
            for reading in read_performance(text, sentence.start, date,
                                            lambda s, e, sentence=sentence: self.source((sentence.start,
                                                                                         sentence.end))):
                if reading.fact is not None:
                    facts.append(reading.fact)
                elif reading.problem:
                    self.warnings.append(f"performance status not recorded: {reading.problem}")
        return facts

    # --- age, sex, pregnancy --------------------------------------------------------------------------------

    def _demographics(self, assertions: list[Assertion], family_spans: SpanIndex) -> dict[str, Any]:
        out: dict[str, Any] = {}
        age = read_age(self.text)
        if age is not None:
            out["age"] = age_fact(age, self.as_of, self._source_for(age.start, age.end))
        birth = read_birth_date(self.text, self.as_of)
        if birth is not None:
            out["birth_date"] = birth[0]
        sex = read_sex(self.text, age, family_spans)
        if sex is not None:
            out["sex"] = sex.sex
            out["sex_source"] = self._source_for(sex.start, sex.end)
        tests = read_pregnancy_tests(self.text)
        reproduction = reproduction_facts(assertions, tests, lambda s, e: self.source(self._trim(s, e)),
                                          family_spans, self.warnings)
        if out.get("sex") == "male":
            reproduction = {}  # pregnancy words in a man's note are about someone else
        out.update(reproduction)
        return out


_MAX_WARNINGS = 20


def _summarised(warnings: list[str]) -> list[str]:
    """Each warning once, and not hundreds of them for a note that repeats itself."""
    unique = list(dict.fromkeys(warnings))
    if len(unique) <= _MAX_WARNINGS:
        return unique
    return [*unique[:_MAX_WARNINGS], f"… and {len(unique) - _MAX_WARNINGS} more like these"]


def _merge_therapies(therapies: list[TherapyFact], warnings: list[str]) -> list[TherapyFact]:
    """One fact per therapy and presence, dates combined; a therapy both given and denied is dropped."""
    merged: dict[tuple[str, bool], TherapyFact] = {}
    for fact in therapies:
        key = (fact.concept or fact.name.lower(), fact.present)
        if key not in merged:
            merged[key] = fact
            continue
        first = merged[key]
        update = {name: getattr(fact, name) for name in ("start", "end")
                  if getattr(first, name) is None and getattr(fact, name) is not None}
        if fact.ongoing is not None:
            update["ongoing"] = fact.ongoing  # the later statement: "on trastuzumab … last dose 4 weeks ago"
        if update:
            merged[key] = first.model_copy(update=update)
    given = {concept for concept, present in merged if present}
    denied = {concept for concept, present in merged if not present}
    for concept in sorted(given & denied):
        warnings.append(f"the note both states and denies {concept.replace('_', ' ')}; left for a question")
    return [fact for (concept, _), fact in merged.items() if concept not in given & denied]
