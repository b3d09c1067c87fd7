"""From lines to a mutable outline of nodes: sections, markers, continuation lines and indentation.

``items.py`` turns the outline into the frozen item tree; ``notes.py`` sorts out the sentences that are
not criteria. Nothing here raises on odd input: what is not understood stays one node per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trialmatch.criteria.folding import fold
from trialmatch.criteria.layout import Layout
from trialmatch.criteria.lines import Line, Marker, Numbering, ends_sentence, read_lines, read_marker

#: Deeper indentation than this makes siblings, so no input can recurse without bound.
MAX_DEPTH = 8


@dataclass(eq=False)
class Node:
    """One item while the outline is built. ``start``/``end`` bound its own text (markers excluded)."""

    start: int
    end: int
    col: float  # nesting column: a marker's column; an unmarked line ending with ":" sits half a column left
    text_col: int  # column of the first character of its own text
    marker: Marker | None
    section: str  # "inclusion" | "exclusion", from the section header above it
    block: int  # which run of same-section headers it is under (notes attach within it)
    nci: bool  # under an NCI "... CHARACTERISTICS:" / "PRIOR CONCURRENT THERAPY:" header
    colon: bool  # an unmarked line ending with ":" (a sub-heading or a parent)
    children: list[Node] = field(default_factory=list)
    text: str = ""
    role: str | None = None  # "disclaimer" | "definition" | "exception" | "placeholder" | None
    term: str = ""  # a definition's term
    kind: str = "criterion"
    combine: str | None = None
    negated: bool = False  # NCI layout: moved to exclusion because it starts "No …" / "Not …"
    notes: list[tuple[str, int, int, Marker | None]] = field(default_factory=list)  # (kind, start, end, marker)
    holder: Node | None = None  # for a note: the item it was nested under


@dataclass
class Outline:
    text: str
    roots: list[Node]
    headers: list[tuple[int, int]]


class _Builder:
    def __init__(self, text: str, layout: Layout) -> None:
        self.text = text
        self.layout = layout
        self.roots: list[Node] = []
        self.stack: list[Node] = []
        self.headers: list[tuple[int, int]] = []
        self.section = "inclusion"
        self.nci = False
        self.block = 0
        self.numbering = Numbering()
        self.prev: Line | None = None

    def feed(self, line: Line) -> None:
        marker = read_marker(self.text, line)
        rest = self._header(line, marker)
        if rest is None:
            return
        if rest is not line:  # the first item shares the header's line
            line, marker = rest, read_marker(self.text, rest)
        marker = self._accept(line, marker)
        top = self.stack[-1] if self.stack else None
        if marker is None and top is not None and self.prev is not None and self._continues(line, top, self.prev):
            top.end = line.end
        else:
            self._open(line, marker)
        self.prev = line

    def _header(self, line: Line, marker: Marker | None) -> Line | None:
        """Records a section header; returns what is left of the line to read as items (None: nothing)."""
        text = self.text
        start = line.start
        if marker is not None and not marker.ordered:
            start = marker.text_start  # "-  INCLUSION CRITERIA:"
        match = self.layout.header.match(text, start, line.end)
        if match is None or not (self._fresh(line) or text[match.end() - 1] == ":"):
            return line  # a wrapped "... eligibility criteria" line is not a header
        section = "exclusion" if match.group("exc") else "inclusion"
        self.block += section != self.section
        self.section = section
        self.nci = bool(match.group("nci"))
        self.stack.clear()
        self.numbering.reset()
        self.prev = None
        end = match.end()
        while end > line.start and text[end - 1].isspace():
            end -= 1
        self.headers.append((line.start, end))
        rest = match.end()
        while rest < line.end and text[rest].isspace():
            rest += 1
        if rest >= line.end:
            return None
        return Line(rest, line.end, line.col + rest - line.start, True)

    def _accept(self, line: Line, marker: Marker | None) -> Marker | None:
        """The marker, unless it is a number that does not fit the list ("(3) weeks" in a wrapped line)."""
        if marker is None or not marker.ordered:
            return marker
        return marker if self.numbering.accept(marker, self._fresh(line)) else None

    def _fresh(self, line: Line) -> bool:
        """Whether the line starts a paragraph or follows a finished sentence."""
        return line.blank_before or self.prev is None or ends_sentence(self.text, self.prev)

    def _continues(self, line: Line, top: Node, prev: Line) -> bool:
        """Whether an unmarked line continues the item above it (a hard wrap or a paragraph of it)."""
        if line.blank_before:  # a paragraph indented under a bulleted item belongs to it
            return top.marker is not None and line.col >= top.text_col
        if top.marker is not None and line.col > top.col:  # indented under the bullet
            return True
        if line.col >= top.col and not ends_sentence(self.text, prev):  # the sentence goes on
            return True
        return line.col >= top.col and self.text[line.start].islower()

    def _open(self, line: Line, marker: Marker | None) -> None:
        text_start = marker.text_start if marker is not None else line.start
        colon = marker is None and self.text[line.end - 1] == ":"
        col = line.col - 0.5 if colon else float(line.col)
        node = Node(text_start, line.end, col, line.col + text_start - line.start, marker, self.section, self.block,
                    self.nci, colon)
        stack = self.stack
        while stack and (stack[-1].col >= col or self._closes(stack[-1], line, marker)):
            stack.pop()
        if len(stack) >= MAX_DEPTH:
            stack.pop()
        (stack[-1].children if stack else self.roots).append(node)
        stack.append(node)

    @staticmethod
    def _closes(open_node: Node, line: Line, marker: Marker | None) -> bool:
        """A plain paragraph after a blank line, level with an unmarked "…:" parent, ends that parent."""
        return marker is None and line.blank_before and open_node.colon and int(open_node.col + 0.5) == line.col


#: An exclusion header glued to the end of the last inclusion line by a lost line break ("... prior to entering
#: the study Exclusion\n Criteria: Patients may not ..."), or inside it. The word before it must end a clause
#: of the item: a reference ("as listed in the Exclusion Criteria:") is not a header.
_GLUED_HEADER = re.compile(r"(?<=[a-z0-9.;)])[ \t]+(?P<h>exclusion(?:\s+criteria)?[ \t]*:|exclusion[ \t]*$)",
                           re.IGNORECASE)
_GLUED_AFTER = re.compile(r"\s*criteria\s*:", re.IGNORECASE)
_REFERENCE_BEFORE = re.compile(r"\b(?:the|see|per|in|of|under|listed|and|or|any|all|following|these|above|below|"
                               r"meet|meets|meeting|no|other)\s*$", re.IGNORECASE)


def _unglued(text: str, lines: list[Line]) -> list[Line]:
    """The lines, with a glued exclusion header split off onto a line of its own."""
    out: list[Line] = []
    index = 0
    folded = fold(text)
    while index < len(lines):
        line = lines[index]
        index += 1
        # Every header has the word: a line without it is kept as it is (speed only).
        has_word = folded.find("exclusion", line.start, line.end) >= 0
        glued = _GLUED_HEADER.search(text, line.start, line.end) if has_word else None
        if glued is None or _REFERENCE_BEFORE.search(text, line.start, glued.start()) or glued.start() <= line.start:
            out.append(line)
            continue
        header_end = line.end
        if not glued.group("h").rstrip().endswith(":"):
            after = _GLUED_AFTER.match(text, line.end) if index < len(lines) else None
            if after is None or after.end() > lines[index].end:
                out.append(line)
                continue
            header_end = lines[index].end  # "Exclusion" ends the line, "Criteria: …" starts the next
            index += 1
        out.append(Line(line.start, glued.start(), line.col, line.blank_before))
        start = glued.start("h")
        out.append(Line(start, header_end, line.col + start - line.start, True))
    return out


def build_outline(text: str, layout: Layout) -> Outline:
    builder = _Builder(text, layout)
    for line in _unglued(text, read_lines(text)):
        builder.feed(line)
    _finish_texts(text, builder.roots)
    return Outline(text, builder.roots, builder.headers)


def _finish_texts(text: str, nodes: list[Node]) -> None:
    """Each node's text with whitespace collapsed; a bullet standing alone becomes the node's text."""
    pending = list(nodes)
    while pending:
        node = pending.pop()
        pending.extend(node.children)
        while node.start < node.end and text[node.start].isspace():
            node.start += 1  # a bullet alone on its line, its text on the next
        if node.start >= node.end and node.marker is not None:
            node.start, node.end, node.marker = node.marker.start, node.marker.end, None
        node.text = " ".join(text[node.start : node.end].split())


def walk_nodes(nodes: list[Node]) -> list[Node]:
    """Depth-first, in document order."""
    out: list[Node] = []
    pending = list(reversed(nodes))
    while pending:
        node = pending.pop()
        out.append(node)
        pending.extend(reversed(node.children))
    return out


def subtree_end(node: Node) -> int:
    """The end of the node's own text or of its last descendant's."""
    while node.children:
        node = node.children[-1]
    return node.end
