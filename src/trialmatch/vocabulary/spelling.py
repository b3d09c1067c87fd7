"""One spelling for each word: British and American forms become the same search term."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml


@cache
def _rules() -> tuple[list[tuple[re.Pattern[str], str]], frozenset[str]]:
    text = resources.files("trialmatch.data").joinpath("vocabulary/spelling.yaml").read_text("utf-8")
    table = yaml.safe_load(text)
    rules = [(re.compile(pattern), replacement) for pattern, replacement in table["rules"]]
    return rules, frozenset(table.get("keep", []))


@cache
def americanize(word: str) -> str:
    """The American spelling of one lower-case word ("leukaemia" -> "leukemia")."""
    rules, keep = _rules()
    if word in keep:
        return word
    for pattern, replacement in rules:
        word = pattern.sub(replacement, word)
    return word


@cache
def _trigger() -> re.Pattern[str]:
    """The literal cores of all rules: a text without any of them has nothing to change."""
    cores = {re.sub(r"[\^$]", "", pattern.pattern) for pattern, _ in _rules()[0]}
    return re.compile("|".join(sorted(cores, key=len, reverse=True)))


def normalize_spelling(text: str) -> str:
    """Lower-case ``text`` and give every word its American spelling."""
    lowered = text.lower()
    pieces: list[str] = []
    done = 0
    for match in _trigger().finditer(lowered):
        start, end = match.start(), match.end()
        if start < done:
            continue
        # Widen the match to its whole word, then respell that word.
        while start > 0 and lowered[start - 1].isalpha():
            start -= 1
        while end < len(lowered) and lowered[end].isalpha():
            end += 1
        pieces += [lowered[done:start], americanize(lowered[start:end])]
        done = end
    if not pieces:
        return lowered
    pieces.append(lowered[done:])
    return "".join(pieces)
