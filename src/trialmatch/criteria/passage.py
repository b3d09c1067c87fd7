"""What recognisers read (a ``Passage`` of the criteria text) and what they report (``Found``).

A recogniser is a function ``(Passage) -> list[Found]``. It matches the passage's text and reports each
rule it is sure of, with the exact characters it read: everything a recogniser does not claim is
checked by the compiler, and anything meaningful left over becomes a question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from trialmatch.criteria.rules import Rule

Section = Literal["inclusion", "exclusion"]

#: The default confidence of a rule a recogniser matched in full.
SURE = 0.95


@dataclass(frozen=True, slots=True)
class Passage:
    """``source[start:end]``: one item's text (or part of it) inside the whole criteria text."""

    source: str
    start: int
    end: int
    section: Section = "inclusion"
    #: An NCI-layout item moved to exclusion because it starts with "No": the "No" is not a negation.
    negated: bool = False

    @property
    def text(self) -> str:
        return self.source[self.start : self.end]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets relative to this passage's text, as offsets into the whole criteria text."""
        return (self.start + start, self.start + end)

    def part(self, start: int, end: int) -> Passage:
        """A smaller passage, from offsets relative to this one."""
        return Passage(self.source, self.start + start, self.start + end, self.section, self.negated)


@dataclass(frozen=True, slots=True)
class Found:
    """A rule a recogniser read, and the characters ``source[start:end]`` it read it from.

    ``category`` names what the criterion is about (age, lab, washout …); ``claimed`` lists extra spans
    the recogniser also read (a parenthetical note it understood), so they don't count as left over.
    ``rule`` is None for words that were read and ask nothing ("male or female").
    """

    rule: Rule | None
    start: int
    end: int
    category: str
    confidence: float = SURE
    claimed: tuple[tuple[int, int], ...] = field(default=())

    @property
    def length(self) -> int:
        return self.end - self.start


Recogniser = Callable[[Passage], list[Found]]
