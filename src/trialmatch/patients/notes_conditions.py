"""Conditions and infections from a clinical note, as ConText asserted them, with their dates, the
clinician's judgement ("poorly controlled"), grade, and the disease state read nearby.

Denied findings are kept as ``present=False`` (evidence), relatives' as ``family=True``, historical ones
with ``status="history"``; possible and hypothetical ones ("rule out PE", "risk of diabetes") are not facts.
A concept both affirmed and denied for the patient is dropped with a warning: it becomes a question.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from trialmatch.patients.facts import ConditionFact, InfectionFact, Source
from trialmatch.patients.notes_context import Assertion
from trialmatch.patients.notes_disease import updates_for, wording
from trialmatch.patients.notes_timing import cue_pattern, find_times
from trialmatch.patients.notes_timing import wording as timing_wording
from trialmatch.vocabulary import Vocabulary
from trialmatch.vocabulary.concepts import ConceptMatch

SourceFor = Callable[..., Source]


@dataclass
class Finding:
    """One condition or infection as the note asserts it, before merging."""

    match: ConceptMatch
    assertion: Assertion
    family_section: bool
    fields: dict[str, Any] = field(default_factory=dict)
    spans: list[tuple[int, int]] = field(default_factory=list)
    history: bool = False

    @property
    def present(self) -> bool:
        return not self.assertion.negated

    @property
    def family(self) -> bool:
        return self.assertion.family or self.family_section

    def key(self) -> tuple[str, bool, bool, bool]:
        return self.match.concept.id, self.present, self.family, self.historical

    @property
    def historical(self) -> bool:
        return self.assertion.historical or self.history


def kept(assertion: Assertion) -> bool:
    """A finding is a fact unless it is only possible or hypothetical."""
    return not (assertion.possible or assertion.hypothetical)


@cache
def _judgement() -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(rf"(?:{'|'.join(words)})[ \t,]*(?:[\w-]+[ \t]+)?$", re.IGNORECASE))
            for name, words in wording()["judgement"].items()]


@cache
def _judgement_after() -> list[tuple[str, re.Pattern[str]]]:
    """Judgement written right after the finding: "Type 2 diabetes, poorly controlled"."""
    return [(name, re.compile(rf"[ \t]*[,(–-]?[ \t]*(?:{'|'.join(words)})\b", re.IGNORECASE))
            for name, words in wording()["judgement"].items()]


def qualifiers(text: str, finding: Finding) -> dict[str, Any]:
    """Judgement and grade written next to the finding ("poorly controlled diabetes", "grade 2 neuropathy")."""
    start = finding.match.start
    before = text[max(finding.assertion.sentence_start, start - 30):start]
    out: dict[str, Any] = {}
    after = text[finding.match.end:min(finding.assertion.sentence_end, finding.match.end + 30)]
    judgement = [name for name, pattern in _judgement() if pattern.search(before)]
    judgement += [name for name, pattern in _judgement_after() if pattern.match(after) and name not in judgement]
    if judgement:
        out["judgement"] = judgement[:1]
    grade = re.search(wording()["grade"] + r"[ \t]*$", before, re.IGNORECASE)
    if grade:
        roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
        written = grade.group("grade").upper()
        out["grade"] = roman.get(written) or int(written)
    return out


@cache
def _date_cues() -> dict[str, re.Pattern[str]]:
    cues = timing_wording()["condition_cues"]
    return {role: cue_pattern(words) for role, words in cues.items()}


def dates(text: str, findings: list[Finding], as_of: dt.date) -> None:
    """Diagnosis, relapse and resolution dates. A date right after a finding ("MI in 2019", "B-ALL diagnosed
    in January 2022") is its own; one before the sentence's first finding only with a cue between them ("In
    2019 she was diagnosed with breast cancer")."""
    by_sentence: dict[tuple[int, int], list[Finding]] = {}
    for finding in findings:
        span = (finding.assertion.sentence_start, finding.assertion.sentence_end)
        by_sentence.setdefault(span, []).append(finding)
    for (start, end), group in by_sentence.items():
        group.sort(key=lambda f: f.match.start)
        for time in find_times(text[start:end], as_of):
            at = start + time.start
            left = [f for f in group if f.match.end <= at]
            if left:
                owner, role = left[-1], _role_before(text[left[-1].match.end:at])
            else:
                owner, role = group[0], _role_before(text[at + time.end - time.start:group[0].match.start], True)
            if role is None:
                continue
            name = {"relapse": "relapse_date", "resolved": "resolved"}.get(role, "diagnosed")
            owner.fields.setdefault(name, time.date)


_SMALL_WORDS = {"", "in", "on", "since", "from", "at", "of", "was", "were", "with", "she", "he", "the", "patient",
                "pt", "and"}


def _role_before(between: str, anywhere: bool = False) -> str | None:
    """Which date of a finding the words between it and a date give: a cue, or nothing but small words."""
    words = re.findall(r"[\w/]+", between.lower())
    for role in ("relapse", "resolved", "diagnosed"):
        found = None
        for found in _date_cues()[role].finditer(between):  # noqa: B007 - the last cue is nearest the date
            pass
        if found is not None:
            rest = re.findall(r"[\w/]+", between[found.end():].lower())
            if anywhere or all(w in _SMALL_WORDS for w in rest):
                return role
    if not anywhere and len(words) <= 2 and all(w in _SMALL_WORDS for w in words):
        return "diagnosed"
    return None


def attach_states(state_assertions: list[Assertion], findings: list[Finding], text: str, as_of: dt.date,
                  vocabulary: Vocabulary, warnings: list[str]) -> None:
    """Give each disease-state reading to its condition: a cancer in its sentence, else a condition right next
    to it ("refractory hypertension"), else the note's main cancer; then combine each condition's readings."""
    index_kinds = set(wording()["index_concepts"])
    patient = [f for f in findings if f.present and not f.family and f.match.concept.kind == "condition"]

    def is_cancer(f: Finding) -> bool:
        return any(vocabulary.is_a(f.match.concept.id, kind) for kind in index_kinds)

    main = _main_cancer([f for f in patient if is_cancer(f)], vocabulary)
    by_sentence: dict[int, list[Finding]] = {}
    for finding in patient:
        by_sentence.setdefault(finding.assertion.sentence_start, []).append(finding)
    owned: dict[int, list[tuple[int, dict[str, Any], bool]]] = {}
    for assertion in state_assertions:
        fields, history = updates_for(assertion, text, as_of)
        if not fields and not history:
            continue
        reading = assertion.target.payload
        # Not the finding that is the reading's own words ("CNS3 disease" for "CNS3").
        same = [f for f in by_sentence.get(assertion.sentence_start, [])
                if f.match.end <= reading.start or reading.end <= f.match.start]
        cancers = [f for f in same if is_cancer(f)]
        near = [f for f in same if _gap(text, f, reading) <= 2]
        candidates = cancers or near
        owner = min(candidates, key=lambda f: _gap(text, f, reading)) if candidates else main
        if owner is None:
            written = text[reading.start:reading.end]
            warnings.append(f"read {written!r} but the note names no disease it belongs to; not recorded")
            continue
        owned.setdefault(id(owner), []).append((reading.start, fields, history))
        owner.spans.append((assertion.sentence_start, assertion.sentence_end))
    for owner in patient:
        if id(owner) in owned:
            _combine(owner, sorted(owned[id(owner)], key=lambda r: r[0]))


def _main_cancer(cancers: list[Finding], vocabulary: Vocabulary) -> Finding | None:
    """The cancer the note is about: the most specific of the most often named ("B-ALL" over "leukaemia")."""
    if not cancers:
        return None
    counts: dict[str, int] = {}
    for finding in cancers:
        counts[finding.match.concept.id] = counts.get(finding.match.concept.id, 0) + 1
    # A broader name counts for the narrower one it stands for ("leukaemia" in a B-ALL letter).
    for concept in list(counts):
        for ancestor in vocabulary.ancestors(concept):
            if ancestor in counts:
                counts[concept] += counts[ancestor]
    return min(cancers, key=lambda f: (-counts[f.match.concept.id], -len(vocabulary.ancestors(f.match.concept.id)),
                                       f.match.start))


_REMISSION = ("remission", "remission_number")


def _combine(owner: Finding, readings: list[tuple[int, dict[str, Any], bool]]) -> None:
    """One condition's readings in note order: the highest relapse number (with its date) is the current one;
    a remission no later than that relapse ("achieved CR1", then "second relapse") is past, not current."""
    relapse = max((f["relapse_number"] for _, f, _ in readings if f.get("relapse_number") is not None), default=None)
    last_relapse_at = max((at for at, f, _ in readings if f.get("relapse_number") or "relapse_date" in f), default=-1)
    for at, fields, history in readings:
        fields = dict(fields)
        number = fields.get("remission_number")
        stale = fields.get("remission") == "complete" and relapse and (
            (number is not None and number <= relapse) or (number is None and at < last_relapse_at))
        if stale:
            for name in _REMISSION:
                fields.pop(name, None)
            history = False
        if relapse is not None and fields.get("relapse_number") not in (None, relapse):
            fields.pop("relapse_date", None)  # the date of an earlier relapse
        for name in ("mrd", "mrd_assay_sensitivity", "marrow_blasts_percent"):
            if name in fields:  # a later measurement replaces an earlier one
                owner.fields[name] = fields.pop(name)
        for name, value in fields.items():
            owner.fields.setdefault(name, value)
        owner.history = owner.history or history
    if relapse is not None:
        owner.fields["relapse_number"] = relapse


def _gap(text: str, finding: Finding, reading: Any) -> int:
    """Words between a finding and a reading (0 when they touch or overlap)."""
    if finding.match.end <= reading.start:
        between = text[finding.match.end:reading.start]
    elif reading.end <= finding.match.start:
        between = text[reading.end:finding.match.start]
    else:
        return 0
    return len(re.findall(r"[\w+]+", between))


def merge(findings: list[Finding], warnings: list[str]) -> list[Finding]:
    """One finding per concept and assertion; a concept both affirmed and denied for the patient is dropped."""
    merged: dict[tuple[str, bool, bool, bool], Finding] = {}
    for finding in findings:
        key = finding.key()
        if key in merged:
            first = merged[key]
            for name, value in finding.fields.items():
                first.fields.setdefault(name, value)
            first.spans.append((finding.assertion.sentence_start, finding.assertion.sentence_end))
        else:
            merged[key] = finding
    kept_findings = list(merged.values())
    by_concept: dict[str, dict[bool, Finding]] = {}
    for finding in kept_findings:
        if not finding.family:
            by_concept.setdefault(finding.match.concept.id, {})[finding.present] = finding
    dropped: set[int] = set()
    for concept, said in sorted(by_concept.items()):
        if len(said) < 2:
            continue
        stated, denied = said[True], said[False]
        if _words(stated) != _words(denied):
            # Named differently ("focal epilepsy" vs "no febrile seizures"): the denial is of something else
            # the vocabulary files under the same concept; the statement stands.
            dropped.add(id(denied))
            continue
        dropped |= {id(stated), id(denied)}
        warnings.append(f"the note both states and denies {concept.replace('_', ' ')}; left for a question")
    return [f for f in kept_findings if id(f) not in dropped]


def _words(finding: Finding) -> str:
    return " ".join(finding.match.text.lower().split())


def condition_fact(finding: Finding, source: Source, text: str) -> ConditionFact:
    fields = {k: v for k, v in finding.fields.items() if k in ConditionFact.model_fields}
    return ConditionFact(concept=finding.match.concept.id, name=" ".join(finding.match.text.split()),
                         present=finding.present,
                         family=finding.family, status="history" if finding.historical else "active",
                         source=source, **fields)


def infection_fact(finding: Finding, source: Source, text: str) -> InfectionFact:
    before = text[max(finding.assertion.sentence_start, finding.match.start - 20):finding.match.start]
    status = "resolved" if finding.historical else "chronic" if re.search(r"chronic", before, re.I) else "active"
    return InfectionFact(concept=finding.match.concept.id, name=" ".join(finding.match.text.split()),
                         present=finding.present,
                         status=status, date=finding.fields.get("diagnosed"), source=source)
