"""Import trial records from files into the store, and report what happened to each.

This is the library behind ``trialmatch import``: it reads every source with
``trials.sources`` and saves each record with ``store.TrialStore``, streaming throughout.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from trialmatch.plan_store import prepared_plan
from trialmatch.store.sqlite import ImportOutcome, PreparedTrial, SaveResult, TrialStore, prepare_trial
from trialmatch.trials.errors import RecordError
from trialmatch.trials.record import Trial
from trialmatch.trials.sources import Pending, Skipped, convert, list_input_files, read_pending
from trialmatch.worker_processes import batches, lower_priority

DEMO_CORPUS = "demo-corpus.zip"
#: Inputs smaller than this import in one process: starting workers would cost more than it saves.
PARALLEL_THRESHOLD_BYTES = 8 * 1024 * 1024
BATCH_SIZE = 32


@dataclass
class ImportReport:
    """How many records were imported, updated, unchanged and skipped; each skip with its reason."""

    counts: Counter[str] = field(default_factory=Counter)
    skipped: list[Skipped] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, object]:
        return {
            **{outcome.value: self.counts.get(outcome.value, 0) for outcome in ImportOutcome},
            "skipped_records": [{"location": s.location, "reason": s.reason} for s in self.skipped],
            "updated_fields": self.updated,
        }


def import_paths(
    store: TrialStore,
    paths: Iterable[str | Path],
    *,
    site_list_mapping: object | None = None,
    on_result: Callable[[SaveResult | Skipped], None] | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import every record under ``paths``; one bad record or file never stops the rest.

    Reading stays in this process and in order; converting and indexing run in ``workers``
    processes (default: one per CPU for inputs over a few megabytes).
    """
    paths = list(paths)
    if workers is None:
        size = sum(path.stat().st_size for path in list_input_files(paths) if path.exists())
        workers = (os.cpu_count() or 1) if size > PARALLEL_THRESHOLD_BYTES else 1
    pending = read_pending(paths, site_list_mapping=site_list_mapping)
    prepared = _prepare_serially(pending) if workers <= 1 else _prepare_in_parallel(pending, workers)
    return import_items(store, prepared, on_result=on_result)


def import_items(
    store: TrialStore,
    items: Iterable[Trial | PreparedTrial | Skipped],
    *,
    on_result: Callable[[SaveResult | Skipped], None] | None = None,
) -> ImportReport:
    """Save a stream of records (from files or the CT.gov API), reporting each outcome."""
    report = ImportReport()
    locations: dict[str, str] = {}

    def trials_only(stream: Iterable[Trial | PreparedTrial | Skipped]) -> Iterator[Trial | PreparedTrial]:
        for item in stream:
            if isinstance(item, Skipped):
                report.counts[ImportOutcome.SKIPPED.value] += 1
                report.skipped.append(item)
                if on_result:
                    on_result(item)
            else:
                locations[item.id] = (
                    str(item.columns["source_location"])
                    if isinstance(item, PreparedTrial)
                    else item.provenance.location
                )
                yield item

    for result in store.save_many(trials_only(items)):
        report.counts[result.outcome.value] += 1
        if result.outcome is ImportOutcome.SKIPPED:
            report.skipped.append(Skipped(locations.get(result.trial_id, result.trial_id), result.reason or ""))
        elif result.outcome is ImportOutcome.UPDATED:
            report.updated[result.trial_id] = list(result.changed_fields)
        locations.pop(result.trial_id, None)
        if on_result:
            on_result(result)
    return report


def _prepare(item: Pending) -> PreparedTrial | Skipped:
    if isinstance(item, Skipped):
        return item
    converted = convert(item)
    if isinstance(converted, Skipped):
        return converted
    try:
        prepared = prepare_trial(converted)
    except RecordError as error:
        return Skipped(item.location, str(error))
    # The matching plan is made here too (in the worker when importing in parallel), so screening
    # finds it ready-made; if making it fails, screening builds it from the record instead.
    try:
        plan = prepared_plan(converted, prepared.compiled, str(prepared.columns["content_hash"]))
    except Exception:  # a plan bug must not lose the trial
        plan = None
    return replace(prepared, plan=plan)


def _prepare_batch(batch: list[Pending]) -> list[PreparedTrial | Skipped]:
    return [_prepare(item) for item in batch]


def _prepare_serially(pending: Iterable[Pending]) -> Iterator[PreparedTrial | Skipped]:
    for item in pending:
        yield _prepare(item)


def _prepare_in_parallel(pending: Iterable[Pending], workers: int) -> Iterator[PreparedTrial | Skipped]:
    """Convert in worker processes, in order, with a bounded number of batches in flight."""
    context = multiprocessing.get_context("spawn")  # fork is unsafe once threads exist (a web server)
    in_flight: deque[Future[list[PreparedTrial | Skipped]]] = deque()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=lower_priority) as pool:
        for batch in batches(pending, BATCH_SIZE):
            in_flight.append(pool.submit(_prepare_batch, batch))
            if len(in_flight) >= workers * 3:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()




def demo_corpus_path() -> Path:
    """The bundled demo corpus: the seed pages, CT.gov XML and v2 records, and a site list."""
    return Path(str(resources.files("trialmatch.data").joinpath(DEMO_CORPUS)))


def load_demo(store: TrialStore, on_result: Callable[[SaveResult | Skipped], None] | None = None) -> ImportReport:
    return import_paths(store, [demo_corpus_path()], on_result=on_result)
