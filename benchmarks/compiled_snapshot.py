"""Snapshot of the compiler's output on both criteria corpora, to prove a speed-up changed nothing.

Writes one line of ``CompiledCriteria`` JSON per trial (every trial with criteria in ../shared's
hint-trials.jsonl, then lct-criteria.jsonl), or compares the output now with such a file, trial by trial.

    python benchmarks/compiled_snapshot.py write /tmp/before.jsonl
    python benchmarks/compiled_snapshot.py compare /tmp/before.jsonl [--show 5]

``compare`` prints how many trials differ (and the first few of them) and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from trialmatch.criteria.compiler import compile_criteria

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "data" / "criteria-corpus"
NAMES = ("hint-trials.jsonl", "lct-criteria.jsonl")


def compiled_lines() -> Iterator[tuple[str, str]]:
    """``(trial id, compiled JSON)`` for every trial with criteria, in corpus order."""
    for name in NAMES:
        with (CORPORA / name).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                row = json.loads(line)
                if row.get("criteria"):
                    trial = str(row.get("nct_id") or row.get("id") or f"{name}:{number}")
                    yield trial, compile_criteria(row["criteria"]).model_dump_json()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("write", "compare"))
    parser.add_argument("path", type=Path, help="The snapshot file (JSON lines).")
    parser.add_argument("--show", type=int, default=5, help="How many differing trials to name.")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.action == "write":
        count = 0
        with args.path.open("w", encoding="utf-8") as out:
            for _, compiled in compiled_lines():
                out.write(compiled + "\n")
                count += 1
        print(f"{count} trials written to {args.path} ({count / (time.perf_counter() - started):.1f} trials/s)")
        return 0
    if not args.path.exists():
        print(f"No snapshot at {args.path}: write one first with `compiled_snapshot.py write {args.path}`.")
        return 2
    with args.path.open(encoding="utf-8") as handle:
        before = [line.rstrip("\n") for line in handle]
    differing: list[str] = []
    count = 0
    for index, (trial, compiled) in enumerate(compiled_lines()):
        count += 1
        if index >= len(before) or before[index] != compiled:
            differing.append(trial)
    if count != len(before):
        print(f"The snapshot has {len(before)} trials, the corpora {count}: it was written from other data.")
    print(f"{count} trials compared ({count / (time.perf_counter() - started):.1f} trials/s): "
          f"{len(differing)} differ{': ' + ', '.join(differing[: args.show]) if differing else ''}")
    return 1 if differing or count != len(before) else 0


if __name__ == "__main__":
    sys.exit(main())
