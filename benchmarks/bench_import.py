"""Import throughput and peak memory on 100,000-record zips of v2 JSON and legacy XML.

    python benchmarks/bench_import.py [--records 100000] [--format v2 xml]

Each import runs in a fresh child process so that its peak memory (max RSS) is its own.
Targets: at least 1,000 records/s; peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus


def child(zip_path: str, db_path: str) -> None:
    from trialmatch.importing import import_paths
    from trialmatch.store.sqlite import TrialStore

    Path(db_path).unlink(missing_ok=True)
    started = time.perf_counter()
    with TrialStore(db_path) as store:
        report = import_paths(store, [zip_path])
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Converter processes have ended by now; ru_maxrss of children is the largest of them.
    worker_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"counts": dict(report.counts), "seconds": elapsed, "peak_mb": peak_mb, "worker_mb": worker_mb}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--format", nargs="+", default=["v2", "xml"], choices=["v2", "xml"])
    parser.add_argument("--child", nargs=2, metavar=("ZIP", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    for fmt in args.format:
        print(f"building {fmt} input of {args.records:,} records …", file=sys.stderr)
        zip_path = corpus.v2_zip(args.records) if fmt == "v2" else corpus.xml_zip(args.records)
        db_path = corpus.OUT / f"import-{fmt}-{args.records}.db"
        output = subprocess.run(
            [sys.executable, __file__, "--child", str(zip_path), str(db_path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        imported = result["counts"].get("imported", 0)
        print(
            f"{fmt:>4}: {imported:,} imported, {result['counts'].get('skipped', 0)} skipped in "
            f"{result['seconds']:.1f} s = {imported / result['seconds']:,.0f} records/s; "
            f"peak memory {result['peak_mb']:.0f} MB (+ {result['worker_mb']:.0f} MB per converter process); "
            f"zip {zip_path.stat().st_size / 1e6:.0f} MB"
        )


if __name__ == "__main__":
    main()
