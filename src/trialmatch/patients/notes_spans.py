"""Character spans of a note: words claimed by one reading, and positions inside a set of spans.

Both answer in logarithmic time, so a long or repetitive note ("CR1 CR1 CR1 …") is read in linear time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable


class Claims:
    """Spans that may not overlap: the first reading to claim words keeps them."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: dict[int, int] = {}

    def free(self, start: int, end: int) -> bool:
        index = bisect_right(self._starts, start)
        if index and self._ends[self._starts[index - 1]] > start:
            return False  # the span before runs into this one
        return not (index < len(self._starts) and self._starts[index] < end)

    def claim(self, start: int, end: int) -> bool:
        """Claim ``start:end`` if no claimed span overlaps it; say whether it was claimed."""
        if not self.free(start, end):
            return False
        insort(self._starts, start)
        self._ends[start] = end
        return True


class SpanIndex:
    """Is a position inside any of these spans?"""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def covers(self, position: int) -> bool:
        index = bisect_right(self._starts, position) - 1
        return index >= 0 and position < self._ends[index]

    def first_after(self, position: int) -> int | None:
        """The start of the first span at or after ``position``."""
        index = bisect_left(self._starts, position)
        return self._starts[index] if index < len(self._starts) else None
