"""Search latency (p50, p95) on a 100,000-trial store, plain and with age/status/distance filters.

    python benchmarks/bench_search.py [--records 100000] [--repeat 30]

The store is built from the replicated legacy XML corpus (see corpus.py) unless the import
benchmark already left one. Target: p95 at most 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus

from trialmatch.importing import import_paths
from trialmatch.places import parse_place
from trialmatch.store.search import SearchQuery, search
from trialmatch.store.sqlite import TrialStore

PLAIN = [
    "breast cancer",
    "leukaemia",
    "pancreatic adenocarcinoma",
    "ALL",
    "immunotherapy",
    "heart failure",
    "randomised placebo",
    "diabetes",
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(store: TrialStore, queries: list[SearchQuery], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        for query in queries:
            started = time.perf_counter()
            search(store, query)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    db_path = corpus.OUT / f"import-xml-{args.records}.db"
    with TrialStore(db_path) as store:
        if store.count() < args.records:
            print(f"building a {args.records:,}-trial store …", file=sys.stderr)
            import_paths(store, [corpus.xml_zip(args.records)])
        print(f"store: {store.count():,} trials, {db_path.stat().st_size / 1e6:,.0f} MB")
        london, lyon = parse_place("London"), parse_place("Lyon")
        plain = [SearchQuery(text=text) for text in PLAIN]
        filtered = [
            SearchQuery(text=text, age_years=45, statuses=["open"], near=place, radius_km=300)
            for text in PLAIN
            for place in (london, lyon)
        ]
        measure(store, plain[:2], 1)  # warm the page cache
        for name, queries in (("plain", plain), ("age+status+distance", filtered)):
            timings = measure(store, queries, args.repeat)
            print(
                f"{name:>20}: p50 {statistics.median(timings):6.1f} ms   p95 {percentile(timings, 0.95):6.1f} ms"
                f"   ({len(timings)} searches)"
            )


if __name__ == "__main__":
    main()
