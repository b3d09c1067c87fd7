"""One spelling for each word: British and American forms become the same search term."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

_WORD = re.compile(r"[A-Za-z]+")


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


def normalize_spelling(text: str) -> str:
    """Lower-case ``text`` and give every word its American spelling."""
    return _WORD.sub(lambda m: americanize(m.group(0)), text.lower())
