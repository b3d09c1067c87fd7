"""Negation, history, hypotheses, uncertainty and family in a clinical note, with medspaCy's ConText.

The pipeline is a blank spaCy English pipeline with medspaCy's clinical tokenizer and its ConText component
(Chapman et al., J Biomed Inform 2009), with medspaCy's English rules amended by ``data/notes/context.yaml``.
Nothing is downloaded: no statistical model is used. Sentences are split by rules written for notes (lists
and fragments; a line break usually ends a sentence) rather than by medspaCy's PyRuSH, which logs every
token at DEBUG level, and a note must never reach a log.

The findings (conditions, drugs, pregnancy …) are found by the callers, with the project's vocabulary, and
handed in as targets; ConText says how each is asserted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from trialmatch.data import read_yaml


@dataclass(frozen=True)
class Target:
    """A finding for ConText: characters ``start:end`` of the note, a label, and the caller's payload."""

    start: int
    end: int
    label: str
    payload: Any = None


@dataclass(frozen=True)
class Assertion:
    """How the note asserts one target, and the sentence it stands in."""

    target: Target
    negated: bool
    possible: bool
    historical: bool
    hypothetical: bool
    family: bool
    sentence_start: int
    sentence_end: int

    @property
    def affirmed(self) -> bool:
        """Said of the patient, as a fact (possibly historical), neither denied nor supposed."""
        return not (self.negated or self.possible or self.hypothetical or self.family)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@cache
def _wording() -> dict[str, Any]:
    return read_yaml("notes/context.yaml")


@cache
def _pipeline() -> tuple[Any, Any]:
    """The spaCy pipeline (tokenizer only) and the ConText component, built once."""
    # Imported here: spaCy and medspaCy take a second to import, and only notes need them.
    import spacy
    from loguru import logger
    from medspacy.context import ConText, ConTextRule
    from medspacy.custom_tokenizer import create_medspacy_tokenizer

    logger.disable("PyRuSH")  # medspaCy imports PyRuSH, which logs tokens (note text) at DEBUG level
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    # A cue inside a finding ("KMT2A not rearranged", "triple-negative breast cancer") is part of its name:
    # pruned, since medspaCy's own overlap check misses a cue wholly inside a target.
    context = ConText(nlp, rules=None, input_span_type="group", span_group_name="trialmatch_targets",
                      prune_on_target_overlap=True)
    dropped = {str(literal).lower() for literal in _wording()["drop_default"]}
    defaults = [rule for rule in ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH)
                if rule.literal.lower() not in dropped]
    context.add(defaults + [_rule(entry, ConTextRule) for entry in _wording()["rules"]])
    return nlp, context


def _rule(entry: dict[str, Any], rule_class: Callable[..., Any]) -> Any:
    options = {k: entry[k] for k in ("pattern", "max_scope") if k in entry}
    if entry.get("allowed_types"):
        options["allowed_types"] = set(entry["allowed_types"])
    if entry.get("tight") == "after":
        options["on_modifies"] = _nothing_between_after
    elif entry.get("tight"):
        options["on_modifies"] = _nothing_between
    return rule_class(literal=str(entry["literal"]), category=str(entry["category"]),
                      direction=str(entry["direction"]), **options)


_BREAKS = {",", ";", ":", ".", "(", ")"}


def _nothing_between(target: Any, modifier: Any, span_between: Any) -> bool:
    """A tight cue: no punctuation between it and the finding ("negative HIV test", not "HIV negative, HBV")."""
    return not any(token.text in _BREAKS for token in span_between)


def _nothing_between_after(target: Any, modifier: Any, span_between: Any) -> bool:
    """Tight only for a finding after the cue: "HIV, HBV and HCV negative" negates all three."""
    return target.start < modifier.start or _nothing_between(target, modifier, span_between)


def assert_targets(text: str, targets: Iterable[Target]) -> tuple[list[Assertion], list[Sentence]]:
    """ConText's verdict on each target, and the note's sentences (``text`` must be the whole note).

    The note is read block by block (paragraphs, cut at line breaks when long): ConText compares every cue with
    every finding of a document, and a sentence never spans two paragraphs.
    """
    pending = sorted(targets, key=lambda t: t.start)
    assertions: list[Assertion] = []
    sentences: list[Sentence] = []
    index = 0
    for block_start, block_end in _blocks(text):
        block_targets = []
        while index < len(pending) and pending[index].start < block_end:
            if pending[index].end <= block_end:
                block_targets.append(pending[index])
            index += 1
        found, split = _assert_block(text, block_start, block_end, block_targets)
        assertions += found
        sentences += split
    return assertions, sentences


_BLOCK_CHARS = 1500
# spaCy's tokenizer takes time quadratic in a token's length: a run of 60 characters without a space (pasted
# data, hostile input) gets a space, for the tokenizer only; offsets are unchanged.
_LONG_RUN = re.compile(r"(\S{60})\S")


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs of the note; one longer than ``_BLOCK_CHARS`` is cut at a line break (else at a space)."""
    blocks: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"\n[ \t]*\n", text):
        blocks += _cut(text, start, match.end())
        start = match.end()
    blocks += _cut(text, start, len(text))
    return [(s, e) for s, e in blocks if text[s:e].strip()]


def _cut(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > _BLOCK_CHARS:
        limit = start + _BLOCK_CHARS
        cut = text.rfind("\n", start + 1, limit)
        if cut == -1:
            cut = text.rfind(" ", start + 1, limit)
        cut = limit if cut == -1 else cut + 1
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _assert_block(text: str, offset: int, end: int, targets: list[Target]) -> tuple[list[Assertion], list[Sentence]]:
    nlp, context = _pipeline()
    block = _LONG_RUN.sub(lambda m: m.group(1) + " ", text[offset:end])
    doc = nlp.make_doc(block)
    _split_sentences(doc, block)
    spans, kept = [], []
    for target in targets:
        span = doc.char_span(target.start - offset, target.end - offset, label=target.label, alignment_mode="expand")
        if span is None or len(span) == 0:
            continue
        spans.append(span)
        kept.append(target)
    doc.spans["trialmatch_targets"] = spans
    if spans:
        context(doc)
    assertions = []
    for target, span in zip(kept, doc.spans["trialmatch_targets"], strict=True):
        sentence = span[0].sent
        assertions.append(Assertion(
            target=target,
            negated=bool(span._.is_negated),
            possible=bool(span._.is_uncertain),
            historical=bool(span._.is_historical),
            hypothetical=bool(span._.is_hypothetical),
            family=bool(span._.is_family),
            sentence_start=offset + sentence.start_char,
            sentence_end=offset + sentence.end_char,
        ))
    sentences = [Sentence(offset + s.start_char, offset + s.end_char) for s in doc.sents]
    return assertions, sentences


@cache
def _sentence_rules() -> tuple[frozenset[str], frozenset[str], re.Pattern[str]]:
    rules = _wording()["sentences"]
    return (frozenset(rules["end_tokens"]), frozenset(a.lower() for a in rules["abbreviations"]),
            re.compile(rules["list_marker"]))


_MAX_SENTENCE_TOKENS = 200


def _split_sentences(doc: Any, text: str) -> None:
    """Sentence starts for a note: after end punctuation, at most line breaks, and after a header's colon."""
    end_tokens, abbreviations, list_marker = _sentence_rules()
    starts = {0}
    tokens = list(doc)
    for i, token in enumerate(tokens[:-1]):
        following = tokens[i + 1]
        if token.text in end_tokens and (token.whitespace_ or following.is_space):
            previous = tokens[i - 1].text.lower() if i > 0 else ""
            if not (token.text == "." and previous in abbreviations):
                starts.add(i + 1)
        elif "\n" in token.text or ("\n" in token.whitespace_):
            if _line_break_ends_sentence(text, token, following, list_marker):
                starts.add(i + 1)
        elif token.text == ":" and _ends_a_label(text, token.idx):
            starts.add(i + 1)
    # A run of words with no sentence end at all (pasted tables, hostile input) is cut every few hundred
    # tokens, so that no cue reaches further than a sentence could.
    last = 0
    for i in range(len(tokens)):
        if i in starts:
            last = i
        elif i - last >= _MAX_SENTENCE_TOKENS:
            starts.add(i)
            last = i
    for i, token in enumerate(tokens):
        token.is_sent_start = i in starts


def _line_break_ends_sentence(text: str, token: Any, following: Any, list_marker: re.Pattern[str]) -> bool:
    """A wrapped line (goes on with anything but a capital, after a line without end punctuation) is the same
    sentence."""
    if text.count("\n", token.idx, following.idx) >= 2:  # a blank line
        return True
    line_start = text.rfind("\n", 0, following.idx) + 1
    line_end = text.find("\n", following.idx)
    next_line = text[line_start: line_end if line_end != -1 else len(text)]
    if list_marker.match(next_line):
        return True
    last = text[:token.idx + len(token.text)].rstrip()
    ended = bool(last) and last[-1] in ".;:!?"
    continues = not following.text[:1].isupper()  # "… started empagliflozin\n10 mg", "docetaxel\n(2022-2023)"
    return ended or not continues


def _ends_a_label(text: str, colon: int) -> bool:
    """A colon after a short label at the start of its line ("PMH:", "Medications:") ends that label."""
    line_start = text.rfind("\n", 0, colon) + 1
    label = text[line_start:colon].strip(" \t-*#")
    return 0 < len(label) <= 40 and label.count(" ") <= 5 and not any(c in label for c in ".;,")
