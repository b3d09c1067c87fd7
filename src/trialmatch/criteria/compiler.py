"""Compile a trial's eligibility-criteria text into ``CompiledCriteria``: one rule per criterion.

``compile_criteria(text)`` splits the text into items (``split_criteria``), reads each item with the
recognisers (``trialmatch.criteria.recognisers``) and joins what they found (``compose``). Every
evaluated item gives one ``CompiledCriterion`` with its section, category, rule, confidence, source
span and a plain-language question. Nothing is dropped: what the recognisers did not read becomes a
``question`` leaf.

``COMPILER_VERSION`` changes whenever the output for some text could change, so stored rules from an
older compiler are recompiled (``trialmatch compile``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from trialmatch.criteria.compose import Composed, compose, load_wording, question_category
from trialmatch.criteria.items import CriteriaItem, CriteriaTree, split_criteria
from trialmatch.criteria.layout import load_layout
from trialmatch.criteria.notes import shares_subject
from trialmatch.criteria.passage import Passage, Recogniser
from trialmatch.criteria.questions import ask
from trialmatch.criteria.recognisers import RECOGNISERS
from trialmatch.criteria.rules import AllOf, AnyOf, Not, Question, Rule, is_computable

COMPILER_VERSION = "9"

#: Rules below this confidence never decide "not eligible" on their own; coverage counts them as questions.
CONFIDENT = 0.8


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CriterionNote(_Model):
    kind: Literal["definition", "disclaimer", "exception"]
    text: str
    span: tuple[int, int]


class CompiledCriterion(_Model):
    """One criterion: what it says (``text``, ``span``), its rule, and the question that settles it.

    ``section`` says how the rule counts: an inclusion must be met, an exclusion must not be.
    ``children`` are the compiled sub-items of a group, for display; ``rule`` already combines them.
    """

    id: str
    section: Literal["inclusion", "exclusion"]
    category: str
    rule: Rule
    confidence: float
    span: tuple[int, int]
    text: str
    question: str
    notes: tuple[CriterionNote, ...] = ()
    children: tuple[CompiledCriterion, ...] = ()

    @property
    def computable(self) -> bool:
        """A rule with no question in it, compiled with confidence: facts alone can settle it."""
        return self.confidence >= CONFIDENT and is_computable(self.rule)


class CompiledCriteria(_Model):
    """Every criterion of one criteria text, plus the text's own notes (disclaimers)."""

    compiler_version: str = COMPILER_VERSION
    criteria_hash: str
    criteria: tuple[CompiledCriterion, ...]
    notes: tuple[CriterionNote, ...] = ()

    def inclusion(self) -> tuple[CompiledCriterion, ...]:
        return tuple(c for c in self.criteria if c.section == "inclusion")

    def exclusion(self) -> tuple[CompiledCriterion, ...]:
        return tuple(c for c in self.criteria if c.section == "exclusion")


CompiledCriterion.model_rebuild()


def criteria_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def compile_criteria(text: str | None, recognisers: Sequence[Recogniser] = RECOGNISERS) -> CompiledCriteria:
    """The compiled criteria of one eligibility-criteria text. Never raises on a ``str``."""
    text = text or ""
    tree = split_criteria(text)
    criteria = tuple(_compile_item(tree, item, recognisers) for item in (*tree.inclusion(), *tree.exclusion()))
    criteria = _after_flat_alternatives(criteria, (*tree.inclusion(), *tree.exclusion()))
    criteria = _alternatives_across_items(criteria)
    notes = tuple(CriterionNote(kind=n.kind, text=n.text, span=(n.span.start, n.span.end)) for n in tree.notes)
    return CompiledCriteria(criteria_hash=criteria_hash(text), criteria=_in_order(criteria), notes=notes)


#: Confidence of a disease-state item that may belong to a flattened "any of the following" list above it.
_MAYBE_ALTERNATIVE = 0.6
_DISEASE_CATEGORIES = {"disease", "disease_state"}


def _after_flat_alternatives(criteria: tuple[CompiledCriterion, ...],
                             items: tuple[CriteriaItem, ...]) -> tuple[CompiledCriterion, ...]:
    """Unsure of disease-state items after a flattened "any of the following" list in the same section.

    When a page flattened a nested list, nothing shows where the alternatives end: "Relapse at any time
    after HSCT" two bullets below the list may be one more alternative, not a requirement of its own. Such
    an item keeps its rule but can't decide a verdict alone.
    """
    flat_any: set[str] = set()
    out: list[CompiledCriterion] = []
    for criterion, item in zip(criteria, items, strict=True):
        if criterion.section in flat_any and criterion.category in _DISEASE_CATEGORIES and not item.children:
            criterion = criterion.model_copy(update={"confidence": min(criterion.confidence, _MAYBE_ALTERNATIVE)})
        # In an exclusion, one more alternative or one more exclusion excludes alike: only inclusions are unsure.
        if criterion.section == "inclusion" and item.combine == "any" and item.children and all(
                child.marker is not None and child.marker == item.marker for child in item.children):
            flat_any.add(criterion.section)
        out.append(criterion)
    return tuple(out)


_OR_OPENS = re.compile(r"^\W*or\b", re.IGNORECASE)
_OR_ENDS = re.compile(r"\bor\W*$", re.IGNORECASE)


def _alternatives_across_items(criteria: tuple[CompiledCriterion, ...]) -> tuple[CompiledCriterion, ...]:
    """Items of one section joined by "or" across their bullets ("- Relapsed ALL …" / "- Or patient who still
    refractory …"): each alone is only one alternative, so every item of the run takes the "any of" of them all.
    """
    runs: list[list[int]] = []
    for index, criterion in enumerate(criteria):
        previous = criteria[index - 1] if index else None
        if previous is not None and previous.section == criterion.section and (
                _OR_OPENS.match(criterion.text) or _OR_ENDS.search(previous.text)):
            runs[-1].append(index)
        else:
            runs.append([index])
    out = list(criteria)
    for run in runs:
        if len(run) < 2:
            continue
        members = [criteria[i] for i in run]
        joined = AnyOf(children=tuple(m.rule for m in members), span=(members[0].span[0], members[-1].span[1]))
        confidence = min(m.confidence for m in members)
        for i in run:
            updated = criteria[i].model_copy(update={"rule": joined, "confidence": confidence})
            out[i] = updated.model_copy(update={"question": ask(updated)})
    return tuple(out)


def _in_order(criteria: tuple[CompiledCriterion, ...]) -> tuple[CompiledCriterion, ...]:
    return tuple(sorted(criteria, key=lambda c: (c.section != "inclusion", c.span[0])))


def _compile_item(tree: CriteriaTree, item: CriteriaItem, recognisers: Sequence[Recogniser]) -> CompiledCriterion:
    passage = Passage(tree.text, item.span.start, item.span.end, item.section, item.negated)
    children: tuple[CompiledCriterion, ...] = ()
    if item.kind == "group" and item.children:
        children = tuple(_compile_item(tree, child, recognisers) for child in item.children
                         if child.kind in ("criterion", "group"))
        composed = _compose_group(passage, item, children, recognisers)
    else:
        composed = compose(passage, recognisers)
    rule = composed.rule if composed.rule is not None else _question(passage)
    confidence = composed.confidence
    notes = tuple(CriterionNote(kind=n.kind, text=n.text, span=(n.span.start, n.span.end)) for n in item.notes)
    for note in notes:
        if note.kind == "exception":
            rule = _relaxed(rule, note, item.section, shares_subject(note.text, item.text, load_layout()))
    category = composed.category
    if category == "other" and children:
        category = next((c.category for c in children if c.category != "other"), category)
    compiled = CompiledCriterion(id=item.id, section=item.section, category=category, rule=rule,
                                 confidence=round(confidence, 2), span=(item.span.start, item.span.end),
                                 text=item.text, question="", notes=notes, children=children)
    return compiled.model_copy(update={"question": ask(compiled)})


def _compose_group(passage: Passage, item: CriteriaItem, children: tuple[CompiledCriterion, ...],
                   recognisers: Sequence[Recogniser]) -> Composed:
    """A group's rule: its children joined by its combine, and-ed with whatever its own lead text says."""
    own_end = item.children[0].span.start if item.children else item.span.end
    own = compose(Passage(passage.source, passage.start, min(own_end, passage.end), passage.section,
                          passage.negated), recognisers, lead_words=load_wording().group_lead)
    if not children:
        return own
    joined_type = AnyOf if item.combine == "any" else AllOf
    joined: Rule = children[0].rule if len(children) == 1 else joined_type(
        children=tuple(c.rule for c in children), span=(item.span.start, item.span.end))
    confidence = min([own.confidence, *(c.confidence for c in children)])
    if own.rule is None:
        return Composed(joined, confidence, children[0].category, ())
    return Composed(AllOf(children=(own.rule, joined), span=(item.span.start, item.span.end)), confidence,
                    own.category, own.residue)


def _question(passage: Passage) -> Question:
    text = passage.text
    return Question(text=" ".join(text.split()), span=passage.span(0, len(text)))


def _relaxed(rule: Rule, note: CriterionNote, section: str, related: bool) -> Rule:
    """A rule with an exception the splitter found as its own sentence: only an answer can apply it.

    An inclusion's exception that shares no subject with it ("Prior treatment with TKIs is allowed, although
    patients must be off them for 72 hours" after "Ph+ ALL"), or that only allows on conditions ("Patients who
    have undergone SCT are eligible provided that …"), is a further condition, not an alternative.
    """
    question = Question(text=note.text, span=note.span)
    if section == "exclusion":
        return AllOf(children=(rule, Not(child=question, span=note.span)), span=rule.span)
    if not related or _PROVISO.search(note.text):
        # "… are eligible if they are > 3 weeks off cytotoxic chemotherapy": conditions on top of the criterion.
        return AllOf(children=(rule, question), span=rule.span)
    return AnyOf(children=(rule, question), span=rule.span)


_PROVISO = re.compile(r"\b(?:eligible|allowed|permitted)\b[^.;]{0,80}?\b(?:if|provided|as\s+long\s+as)\b",
                      re.IGNORECASE)


__all__ = ["COMPILER_VERSION", "CONFIDENT", "CompiledCriteria", "CompiledCriterion", "CriterionNote",
           "compile_criteria", "criteria_hash", "question_category"]
