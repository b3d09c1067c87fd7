"""Eligibility-criteria text split into a tree of items, each with its exact source span.

``split_criteria(text)`` reads every layout met on ClinicalTrials.gov and trial portals: markdown
bullets, the legacy hard-wrapped "-  1." lists, the older NCI "DISEASE CHARACTERISTICS:" layout,
numbered and lettered lists, and flat lists that lost their indentation. docs/criteria.md describes
the tree. It is pure and never raises: text it cannot structure becomes one item per line or paragraph.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast

from trialmatch.criteria.build import Node, build_outline, subtree_end
from trialmatch.criteria.groups import adopt, settle
from trialmatch.criteria.layout import load_layout
from trialmatch.criteria.lines import Marker
from trialmatch.criteria.notes import attach, classify, extract

Section = Literal["inclusion", "exclusion"]
Kind = Literal["criterion", "group", "note", "heading"]
Combine = Literal["all", "any"]
NoteKind = Literal["definition", "disclaimer", "exception"]


@dataclass(frozen=True, slots=True)
class Span:
    """Character offsets into the original criteria text: ``text[start:end]``."""

    start: int
    end: int

    def to_list(self) -> list[int]:
        return [self.start, self.end]


@dataclass(frozen=True, slots=True)
class Note:
    """A sentence that is not a criterion: a definition, a summary disclaimer or an exception.

    ``span`` covers the sentence (and any sub-items under it); ``marker_span`` its bullet, if it had one.
    """

    kind: NoteKind
    text: str
    span: Span
    marker_span: Span | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text, "span": self.span.to_list()}
        if self.marker_span is not None:
            out["marker_span"] = self.marker_span.to_list()
        return out


@dataclass(frozen=True, slots=True)
class CriteriaItem:
    """One item of the criteria text.

    ``text`` is the item's own text (markers removed, wrapped lines joined with single spaces); ``span``
    points at those exact characters in the source, ``marker_span`` at the bullet or number. ``negated``
    marks an NCI-layout item moved to exclusion because it starts with "No"/"Not" (its text keeps the
    word: the excluded condition is what follows it).
    """

    id: str
    section: Section
    kind: Kind
    text: str
    span: Span
    marker: str | None = None
    marker_span: Span | None = None
    children: tuple[CriteriaItem, ...] = ()
    combine: Combine | None = None
    notes: tuple[Note, ...] = ()
    negated: bool = False

    def walk(self) -> Iterator[CriteriaItem]:
        """This item, then its descendants depth-first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "section": self.section, "kind": self.kind, "text": self.text,
                               "span": self.span.to_list()}
        if self.marker is not None and self.marker_span is not None:
            out["marker"] = self.marker
            out["marker_span"] = self.marker_span.to_list()
        if self.combine is not None:
            out["combine"] = self.combine
        if self.negated:
            out["negated"] = True
        if self.notes:
            out["notes"] = [note.to_dict() for note in self.notes]
        if self.children:
            out["children"] = [child.to_dict() for child in self.children]
        return out


@dataclass(frozen=True, slots=True)
class CriteriaTree:
    """The items of one criteria text, the notes of the whole text, and the section headers' spans."""

    text: str
    items: tuple[CriteriaItem, ...]
    notes: tuple[Note, ...] = ()
    headers: tuple[Span, ...] = ()

    def inclusion(self) -> tuple[CriteriaItem, ...]:
        """The inclusion criteria and groups to evaluate: top-level ones and those under headings."""
        return tuple(item for item in self._evaluated() if item.section == "inclusion")

    def exclusion(self) -> tuple[CriteriaItem, ...]:
        """The exclusion criteria and groups to evaluate: top-level ones and those under headings."""
        return tuple(item for item in self._evaluated() if item.section == "exclusion")

    def _evaluated(self) -> Iterator[CriteriaItem]:
        pending = list(reversed(self.items))
        while pending:
            item = pending.pop()
            if item.kind == "heading":  # headings only label their items
                pending.extend(reversed(item.children))
            elif item.kind in ("criterion", "group"):
                yield item

    def walk(self) -> Iterator[CriteriaItem]:
        """Every item, depth-first in document order."""
        for item in self.items:
            yield from item.walk()

    def spans(self) -> Iterator[Span]:
        """Every recorded span: headers, items, markers and notes (together they cover all the text)."""
        yield from self.headers
        yield from (note.span for note in self.notes)
        yield from (note.marker_span for note in self.notes if note.marker_span is not None)
        for item in self.walk():
            yield item.span
            if item.marker_span is not None:
                yield item.marker_span
            for note in item.notes:
                yield note.span
                if note.marker_span is not None:
                    yield note.marker_span

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the criteria text itself is left out (spans point into it)."""
        return {"headers": [span.to_list() for span in self.headers],
                "items": [item.to_dict() for item in self.items],
                "notes": [note.to_dict() for note in self.notes]}


def split_criteria(text: str) -> CriteriaTree:
    """The item tree of an eligibility-criteria text. Never raises on a ``str``."""
    if not isinstance(text, str) or not text.strip():
        return CriteriaTree(text if isinstance(text, str) else "", ())
    layout = load_layout()
    outline = build_outline(text, layout)
    classify(outline.roots, layout)
    roots, note_nodes = extract(adopt(outline.roots, layout))
    settle(roots, layout)
    loose = attach(roots, note_nodes, layout)
    items = _freeze_all(text, roots)
    notes = tuple(_note(text, "disclaimer" if n.role == "disclaimer" else "exception", n.start, subtree_end(n),
                        n.marker) for n in loose)
    return CriteriaTree(text, items, notes, tuple(Span(s, e) for s, e in outline.headers))


def _freeze_all(text: str, roots: list[Node]) -> tuple[CriteriaItem, ...]:
    counters = {"inclusion": 0, "exclusion": 0}
    items = []
    for node in roots:
        section = "exclusion" if node.section == "exclusion" else "inclusion"
        counters[section] += 1
        items.append(_freeze(text, node, f"{section[:3]}-{counters[section]}"))
    return tuple(items)


def _freeze(text: str, node: Node, item_id: str) -> CriteriaItem:
    children = tuple(_freeze(text, child, f"{item_id}.{n}") for n, child in enumerate(node.children, 1))
    marker = node.marker
    return CriteriaItem(
        id=item_id,
        section=cast(Section, "exclusion" if node.section == "exclusion" else "inclusion"),
        kind=cast(Kind, node.kind),
        text=node.text,
        span=Span(node.start, node.end),
        marker=text[marker.start : marker.end] if marker is not None else None,
        marker_span=Span(marker.start, marker.end) if marker is not None else None,
        children=children,
        combine=cast(Combine, node.combine) if node.kind == "group" else None,
        notes=tuple(_note(text, kind, start, end, note_marker) for kind, start, end, note_marker in node.notes),
        negated=node.negated,
    )


def _note(text: str, kind: str, start: int, end: int, marker: Marker | None) -> Note:
    return Note(cast(NoteKind, kind), " ".join(text[start:end].split()), Span(start, end),
                Span(marker.start, marker.end) if marker is not None else None)
