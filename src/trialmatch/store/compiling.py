"""Stored trials' criteria compiled again, in worker processes when there are many.

After a compiler change ``trialmatch compile`` compiles every stored trial again, and the compiler is the slow
part (about a hundred long criteria texts a second on one core): workers compile batches of stored records and
the store saves the results in order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.trials.record import Trial
from trialmatch.worker_processes import batches, lower_priority

#: Records a worker compiles per batch: sending a batch costs little next to compiling it.
BATCH_SIZE = 100
#: Fewer stale trials than this compile in this process: starting workers would cost more than it saves.
PARALLEL_THRESHOLD = 1000


def compile_trial_criteria(trial: Trial) -> str | None:
    """The trial's compiled criteria as JSON, or None if the compiler raised (it should not)."""
    try:
        return compile_criteria(trial.eligibility.criteria_text).model_dump_json(exclude_none=True)
    except Exception:  # a compiler bug must not lose the trial: it stays uncompiled
        return None


def compile_record(record: str) -> tuple[str, str | None]:
    """A stored record's trial id, and its compiled criteria as ``compile_trial_criteria`` gives them."""
    trial = Trial.model_validate_json(record)
    return trial.id, compile_trial_criteria(trial)


def compiled_records(records: Iterable[tuple[int, str]], workers: int) -> Iterator[tuple[int, str, str | None]]:
    """``(rowid, trial id, compiled JSON)`` for each ``(rowid, record)``, in order; ``workers`` processes
    compile when there are more than one."""
    if workers <= 1:
        for rowid, record in records:
            yield rowid, *compile_record(record)
        return
    context = multiprocessing.get_context("spawn")  # fork is unsafe once threads exist (a web server)
    in_flight: deque[tuple[list[int], Future[list[tuple[str, str | None]]]]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=lower_priority) as pool:
        for batch in batches(records, BATCH_SIZE):
            rowids = [rowid for rowid, _ in batch]
            in_flight.append((rowids, pool.submit(_compile_batch, [record for _, record in batch])))
            if len(in_flight) >= workers * 3:
                yield from _finished(*in_flight.popleft())
        while in_flight:
            yield from _finished(*in_flight.popleft())


def default_workers(stale: int) -> int:
    """One worker per CPU for many trials, else none."""
    return (os.cpu_count() or 1) if stale >= PARALLEL_THRESHOLD else 1


def _compile_batch(records: list[str]) -> list[tuple[str, str | None]]:
    return [compile_record(record) for record in records]


def _finished(rowids: list[int], future: Future[list[tuple[str, str | None]]]) -> Iterator[tuple[int, str, str | None]]:
    for rowid, (trial_id, compiled) in zip(rowids, future.result(), strict=True):
        yield rowid, trial_id, compiled


