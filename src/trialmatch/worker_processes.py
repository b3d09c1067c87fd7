"""What importing and recompiling share when they spread work over worker processes."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def lower_priority() -> None:
    """A worker's initializer: the process saving the results is the one everything waits on, so it runs
    first when both want the CPU."""
    os.nice(5)


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
