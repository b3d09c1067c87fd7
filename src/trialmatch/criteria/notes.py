"""Sentences that are not criteria: definitions, summary disclaimers, stand-alone exceptions, placeholders.

They are recognised from their wording (``data/criteria/layout.yaml``), taken out of the item lists and
attached as notes to the criterion they belong to, so an exception never becomes an extra criterion.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import cache

from trialmatch.criteria.build import Node, subtree_end, walk_nodes
from trialmatch.criteria.groups import NOTE_ROLES
from trialmatch.criteria.layout import Layout

#: How far back a note looks for its criterion; bounds the work on huge texts.
LOOK_BACK = 60
_WORDS = re.compile(r"[a-z0-9][a-z0-9+]*")
_FIRST_CLAUSE = re.compile(r"(?<=[a-z0-9)\]%])\.\s+(?=[A-Z])|;\s")


def classify(roots: list[Node], layout: Layout) -> None:
    """Sets ``role`` (and a definition's ``term``) on every node, in document order."""
    earlier: dict[int, list[str]] = {}  # block -> lower-cased texts of the items so far
    for node in walk_nodes(roots):
        node.role, node.term = _role(node.text, layout)
        if node.role is None:
            node.role, node.term = _bare_definition(node.text, earlier.get(node.block, ()), layout)
        if node.role is None:
            earlier.setdefault(node.block, []).append(node.text.lower())


def _role(text: str, layout: Layout) -> tuple[str | None, str]:
    head = text[:600]
    lower = head.lower()
    if len(text) <= 300 and _has(lower, layout.disclaimer_stems):
        match = layout.disclaimers.search(text)
        if match and match.start() <= 8:  # "Prior exposure to X Other … criteria could apply" stays a criterion
            return "disclaimer", ""
    term = _defined_term(head, layout.definitions, layout) if _has(lower, layout.definition_stems) else ""
    if term:
        return "definition", term
    if _has(lower, layout.exception_stems):
        first = _FIRST_CLAUSE.split(head, maxsplit=1)[0]
        if layout.exceptions.search(first) and not layout.exception_guards.search(first):
            return "exception", ""
    if len(text) <= 200 and layout.placeholders.search(text):
        return "placeholder", ""
    return None, ""


def _has(lower: str, stems: tuple[str, ...]) -> bool:
    return any(stem in lower for stem in stems)


def _defined_term(text: str, patterns: tuple[re.Pattern[str], ...], layout: Layout) -> str:
    for pattern in patterns:
        match = pattern.match(text)
        if match is None:
            continue
        term = match.group("term").strip()
        if len(term.split()) <= layout.definition_term_max_words and not layout.definition_criterion_terms.match(term):
            return term
    return ""


def _bare_definition(text: str, earlier: list[str] | tuple[()], layout: Layout) -> tuple[str | None, str]:
    """ "Refractory disease defined as …" is a definition only if an earlier item mentions the term."""
    if not _has(text[:300].lower(), layout.definition_stems):
        return None, ""
    term = _defined_term(text[:300], layout.definitions_bare, layout)
    if term and len(term.split()) <= 4 and any(term.lower() in seen for seen in earlier[-LOOK_BACK:]):
        return "definition", term
    return None, ""


def extract(nodes: list[Node], holder: Node | None = None) -> tuple[list[Node], list[Node]]:
    """The nodes without the note-like ones (at every depth), and those notes."""
    kept: list[Node] = []
    notes: list[Node] = []
    for node in nodes:
        if node.role in NOTE_ROLES:
            node.holder = holder
            notes.append(node)
            continue
        node.children, inner = extract(node.children, node)
        notes.extend(inner)
        kept.append(node)
    return kept, notes


def attach(roots: list[Node], notes: list[Node], layout: Layout) -> list[Node]:
    """Puts each definition and exception on its criterion; returns the notes of the whole text."""
    candidates = [node for node in walk_nodes(roots) if node.kind in ("criterion", "group")]
    starts = [node.start for node in candidates]
    words: dict[int, frozenset[str]] = {}
    loose: list[Node] = []
    for note in sorted(notes, key=lambda n: n.start):
        target = None
        if note.role != "disclaimer":
            index = bisect_left(starts, note.start)
            before = [c for c in reversed(candidates[max(0, index - LOOK_BACK) : index]) if c.block == note.block]
            after = [c for c in candidates[index : index + 1] if c.block == note.block]
            pick = _definition_target if note.role == "definition" else _exception_target
            target = pick(note, before, layout, words) or (after[0] if after else None)
        if target is None:
            loose.append(note)
        else:
            target.notes.append((note.role or "exception", note.start, subtree_end(note), note.marker))
    return loose


def _words(node: Node, cache: dict[int, frozenset[str]]) -> frozenset[str]:
    found = cache.get(id(node))
    if found is None:
        found = cache[id(node)] = _key_words(node.text)
    return found


def _key_words(text: str) -> frozenset[str]:
    # Numbers say nothing of a subject: "> 2 weeks off chemotherapy" is not about "creatinine ≤ 2.0 mg/dL".
    return frozenset(_stem(w) for w in _WORDS.findall(text[:2000].lower()) if not w[0].isdigit())


def shares_subject(note: str, criterion: str, layout: Layout) -> bool:
    """An exception speaks of what the criterion speaks of (a key word in common), so it can relax it.

    "Prior treatment with TKIs is allowed, although patients must be off them for 72 hours", a bullet of its
    own after "Ph+ ALL with relapsed disease", shares none: it adds a condition, it does not relax that one.
    """
    keys = _key_words(note) - _stems(layout.stopwords) - _stems(layout.exception_generic)
    return bool(keys & _key_words(criterion))


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


@cache
def _stems(words: frozenset[str]) -> frozenset[str]:
    return frozenset(_stem(w) for w in words)


def _definition_target(note: Node, before: list[Node], layout: Layout,
                       cache: dict[int, frozenset[str]]) -> Node | None:
    """The earlier criterion that names the whole term, else shares most of its words, else the nearest."""
    phrase = note.term.lower()
    term = {_stem(w) for w in _WORDS.findall(phrase)} - _stems(layout.stopwords)
    best, best_score = None, 0
    for candidate in before:
        score = 1000 if phrase and phrase in candidate.text.lower() else len(term & _words(candidate, cache))
        if score > best_score:
            best, best_score = candidate, score
    return best or (before[0] if before else None)


def _exception_target(note: Node, before: list[Node], layout: Layout,
                      cache: dict[int, frozenset[str]]) -> Node | None:
    """The item it is nested under; else the nearest earlier exclusion sharing a key word, else any earlier
    item sharing one, else the nearest."""
    if note.holder is not None and note.holder.kind in ("criterion", "group"):
        return note.holder
    keys = _words(note, cache) - _stems(layout.stopwords) - _stems(layout.exception_generic)
    sharing = [c for c in before if keys & _words(c, cache)]
    exclusion = next((c for c in sharing if c.section == "exclusion"), None)
    return exclusion or (sharing[0] if sharing else None) or (before[0] if before else None)
