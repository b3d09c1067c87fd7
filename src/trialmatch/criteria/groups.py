"""Parents and their sub-items: flat lists that lost their indentation, group kinds, sections.

A page that flattened a nested list ("* … with any of the following" then "* A OR", "* B") keeps the
parent's cue; the items after it become its children while they read as one list (see ``_take``).
"""

from __future__ import annotations

import re

from trialmatch.criteria.build import Node
from trialmatch.criteria.layout import Layout

NOTE_ROLES = frozenset({"disclaimer", "definition", "exception"})
_WORD = re.compile(r"[A-Za-z0-9]+")
_SMALL_WORDS = frozenset({"and", "or", "and/or", "&", "of", "-", "/"})
_OR_END = re.compile(r"\bor[.;,]?$", re.IGNORECASE)


def adopt(nodes: list[Node], layout: Layout) -> list[Node]:
    """The sibling list with flat sub-items moved under the parent that introduces them."""
    out: list[Node] = []
    index = 0
    while index < len(nodes):
        node = nodes[index]
        index += 1
        out.append(node)
        if not node.children and introduces(node, layout):
            index = _take(node, nodes, index, out, layout)
    for node in out:
        if node.children:
            node.children = adopt(node.children, layout)
    return out


def introduces(node: Node, layout: Layout) -> bool:
    """A parent announcing sub-items: ends with ":" or with "… of the following" / "… below"."""
    if node.role is not None or not node.text:
        return False
    return node.text.endswith(":") or layout.group_intro_end.search(node.text[-80:]) is not None


def _take(parent: Node, nodes: list[Node], index: int, out: list[Node], layout: Layout) -> int:
    """Moves the flat items after ``parent`` under it; returns the index of the first one left.

    The first item is always taken. Another follows while the previous child promises more (ends with
    ";", ",", "or", "and") or it opens like the previous child ("For participants …" twice). Notes in
    between (definitions, exceptions) stay where they are and do not end the list.
    """
    last: Node | None = None
    while index < len(nodes):
        node = nodes[index]
        if not _same_list(parent, node):
            break
        if node.role in NOTE_ROLES:
            out.append(node)
            index += 1
            continue
        if last is not None and not _goes_on(last, node, layout):
            break
        parent.children.append(node)
        index += 1
        last = node
        if not node.children and introduces(node, layout):
            index = _take(node, nodes, index, out, layout)
    return index


def _same_list(parent: Node, node: Node) -> bool:
    """Both unmarked, or both with the same bullet (numbers mean siblings), at the same column."""
    if parent.col != node.col:
        return False
    if parent.marker is None or node.marker is None:
        return parent.marker is None and node.marker is None
    return not parent.marker.ordered and not node.marker.ordered and parent.marker.bullet == node.marker.bullet


def _goes_on(last: Node, node: Node, layout: Layout) -> bool:
    if layout.continues_end.search(last.text[-24:]):
        return True
    return _first_word(last.text) == _first_word(node.text) != ""


def _first_word(text: str) -> str:
    match = _WORD.search(text[:40])
    return match.group(0).lower() if match else ""


def settle(nodes: list[Node], layout: Layout, inherited: str | None = None) -> None:
    """Kind, combine and section of every node (notes already taken out)."""
    for node in nodes:
        node.kind = _kind(node, layout)
        node.negated = False
        if inherited is not None:  # a group's sub-items belong to the group's section
            node.section = inherited
        elif node.nci and node.kind in ("criterion", "group") and _nci_exclusion(node.text, layout):
            node.section, node.negated = "exclusion", True
        node.combine = _combine(node, layout) if node.kind == "group" else None
        settle(node.children, layout, node.section if node.kind == "group" else inherited)


def _kind(node: Node, layout: Layout) -> str:
    if node.role == "placeholder" or not any(ch.isalnum() for ch in node.text[:200]):
        return "note" if not node.children else "group"
    if is_heading(node, layout) or (node.children and _is_preamble(node, layout)):
        return "heading"
    return "group" if node.children else "criterion"


def _is_preamble(node: Node, layout: Layout) -> bool:
    """ "… only if all of the following criteria apply:" introduces the section's items one by one."""
    if len(node.text.split()) > layout.preamble_max_words or not layout.preamble.search(node.text):
        return False
    return node.section == "exclusion" or _combine(node, layout) == "all"


def is_heading(node: Node, layout: Layout) -> bool:
    """"Age:", "Hematopoietic:", "Criteria related to a cardiac condition:" — a label, not a criterion."""
    text = node.text
    colon = text.endswith(":")
    if not (colon or node.children):
        return False
    words = text.rstrip(":").split()
    if not words or len(words) > layout.heading_max_words or layout.heading_not_words.search(text):
        return False
    if colon and node.marker is None:
        return len(words) <= layout.heading_max_words
    if not (colon or (node.children and _title_case(words))):  # "3. Medical History and Concurrent Diseases"
        return False
    return len(words) <= layout.label_heading_max_words and not any(
        w.lower() in layout.label_heading_stopwords for w in words)


def _title_case(words: list[str]) -> bool:
    """ "Medical History and Concurrent Diseases" — not "Stage II or III" (numerals and acronyms)."""
    return all((w[0].isupper() and not w.isupper()) or w.lower() in _SMALL_WORDS for w in words)


def _combine(node: Node, layout: Layout) -> str:
    """"any" for "any / one / at least one of the following" and "either … or"; otherwise "all"."""
    if all(_OR_END.search(child.text[-8:]) for child in node.children[:-1]) and len(node.children) > 1:
        return "any"  # "T3 OR" / "T4 OR" / "T1, N1-3": the sub-items are alternatives
    text = node.text
    any_cue = _last_match(layout.group_any, text)
    all_cue = _last_match(layout.group_all, text)
    if node.section == "exclusion" and not node.negated and all_cue < 0:
        # "Patients will be excluded if their lab results are as follows: bilirubin …; ALT …": each sub-item
        # excludes on its own unless the parent asks for all of them.
        return "any"
    return "any" if any_cue >= 0 and any_cue >= all_cue else "all"


def _last_match(pattern: re.Pattern[str], text: str) -> int:
    """Where the last cue ends (-1 if none): the cue nearest the list decides."""
    last = -1
    for match in pattern.finditer(text[:2000]):
        last = match.end()
    return last


def _nci_exclusion(text: str, layout: Layout) -> bool:
    """NCI layout: "No prior chemotherapy", "Not pregnant" are exclusions; "No more than 2 …" is not."""
    return bool(layout.nci_negation.search(text[:40])) and not layout.nci_not_negation.search(text[:60])
