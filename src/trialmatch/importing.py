"""Import trial records from files into the store, and report what happened to each.

This is the library behind ``trialmatch import``: it reads every source with
``trials.sources`` and saves each record with ``store.TrialStore``, streaming throughout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from trialmatch.store.sqlite import ImportOutcome, SaveResult, TrialStore
from trialmatch.trials.record import Trial
from trialmatch.trials.sources import Skipped, read_sources

DEMO_CORPUS = "demo-corpus.zip"


@dataclass
class SkipNote:
    location: str
    reason: str


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    skipped: list[SkipNote] = field(default_factory=list)
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
) -> ImportReport:
    """Import every record under ``paths``; one bad record or file never stops the rest."""
    return import_items(store, read_sources(paths, site_list_mapping=site_list_mapping), on_result=on_result)


def import_items(
    store: TrialStore,
    items: Iterable[Trial | Skipped],
    *,
    on_result: Callable[[SaveResult | Skipped], None] | None = None,
) -> ImportReport:
    """Save a stream of records (from files or the CT.gov API), reporting each outcome."""
    report = ImportReport()
    locations: dict[str, str] = {}

    def trials_only(stream: Iterable[Trial | Skipped]) -> Iterator[Trial]:
        for item in stream:
            if isinstance(item, Skipped):
                report.counts[ImportOutcome.SKIPPED.value] += 1
                report.skipped.append(SkipNote(item.location, item.reason))
                if on_result:
                    on_result(item)
            else:
                locations[item.id] = item.provenance.location
                yield item

    for result in store.save_many(trials_only(items)):
        report.counts[result.outcome.value] += 1
        if result.outcome is ImportOutcome.SKIPPED:
            report.skipped.append(SkipNote(locations.get(result.trial_id, result.trial_id), result.reason or ""))
        elif result.outcome is ImportOutcome.UPDATED:
            report.updated[result.trial_id] = list(result.changed_fields)
        locations.pop(result.trial_id, None)
        if on_result:
            on_result(result)
    return report


def demo_corpus_path() -> Path:
    """The bundled demo corpus: the seed pages, CT.gov XML and v2 records, and a site list."""
    return Path(str(resources.files("trialmatch.data").joinpath(DEMO_CORPUS)))


def load_demo(store: TrialStore, on_result: Callable[[SaveResult | Skipped], None] | None = None) -> ImportReport:
    return import_paths(store, [demo_corpus_path()], on_result=on_result)
