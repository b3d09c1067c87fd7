"""Recogniser stub: being written."""

from __future__ import annotations

from trialmatch.criteria.passage import Found, Passage


def recognise(passage: Passage) -> list[Found]:
    return []
