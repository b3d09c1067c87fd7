"""Criteria compiler: coverage by category, and speed, on the two criteria corpora in ../shared.

Coverage is the share of criterion items (top-level criteria and groups; a group counts once) that
compile to a computable rule (no question leaf, confidence ≥ CONFIDENT) rather than to a question.
It is reported per corpus, per category, and for the leukaemia trials: a hint-trials trial whose
conditions name a leukaemia, or an lct-criteria trial whose inclusion criteria name one.

Speed is trials compiled per second of this process's CPU time (one core), after a warm-up: on a shared
machine wall-clock time counts the other processes too. ``benchmarks/compiled_snapshot.py`` checks that a
speed-up changed no output.

    python benchmarks/bench_criteria.py [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from trialmatch.criteria.compiler import CompiledCriteria, compile_criteria
from trialmatch.vocabulary.concepts import load_vocabulary

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "data" / "criteria-corpus"


def load_corpus(name: str, limit: int | None = None) -> list[dict]:
    rows = []
    with (CORPORA / name).open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("criteria"):
                rows.append(row)
            if limit and len(rows) >= limit:
                break
    return rows


def is_leukaemia(row: dict, compiled: CompiledCriteria) -> bool:
    vocabulary = load_vocabulary()
    named = row.get("conditions") or [c.text for c in compiled.inclusion()]
    text = " ; ".join(named)
    return any("leukemia" in (m.concept.id, *vocabulary.ancestors(m.concept.id)) for m in vocabulary.find(text))


def coverage(rows: list[dict]) -> dict[str, object]:
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    leukaemia: dict[str, Counter[str]] = defaultdict(Counter)
    leukaemia_trials = 0
    started = time.process_time()
    compiled_all = [compile_criteria(row["criteria"]) for row in rows]
    elapsed = time.process_time() - started
    for row, compiled in zip(rows, compiled_all, strict=True):
        leuk = is_leukaemia(row, compiled)
        leukaemia_trials += leuk
        for criterion in compiled.criteria:
            outcome = "computable" if criterion.computable else "question"
            by_category[criterion.category][outcome] += 1
            if leuk:
                leukaemia[criterion.category][outcome] += 1
    return {
        "trials": len(rows),
        "trials_per_second": round(len(rows) / elapsed, 1),
        "overall": _share(by_category),
        "by_category": {k: _counts(v) for k, v in sorted(by_category.items(), key=lambda kv: -sum(kv[1].values()))},
        "leukaemia_trials": leukaemia_trials,
        "leukaemia": _share(leukaemia),
        "leukaemia_by_category": {k: _counts(v) for k, v in sorted(leukaemia.items(),
                                                                    key=lambda kv: -sum(kv[1].values()))},
    }


def _counts(counter: Counter[str]) -> dict[str, object]:
    total = counter["computable"] + counter["question"]
    return {"items": total, "computable": counter["computable"],
            "share": round(counter["computable"] / total, 3) if total else None}


def _share(table: dict[str, Counter[str]]) -> dict[str, object]:
    total = Counter[str]()
    for counter in table.values():
        total.update(counter)
    return _counts(total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N trials of each corpus.")
    parser.add_argument("--json", action="store_true", help="Print JSON.")
    args = parser.parse_args()
    compile_criteria("Inclusion Criteria:\n- Age ≥ 18 years")  # warm-up: loads data files
    report = {name: coverage(load_corpus(name, args.limit)) for name in ("hint-trials.jsonl", "lct-criteria.jsonl")}
    combined = Counter[str]()
    leuk = Counter[str]()
    for result in report.values():
        combined.update({"computable": result["overall"]["computable"],  # type: ignore[index]
                         "items": result["overall"]["items"]})  # type: ignore[index]
        leuk.update({"computable": result["leukaemia"]["computable"],  # type: ignore[index]
                     "items": result["leukaemia"]["items"]})  # type: ignore[index]
    summary = {"overall_share": round(combined["computable"] / combined["items"], 3),
               "leukaemia_share": round(leuk["computable"] / max(leuk["items"], 1), 3)}
    if args.json:
        print(json.dumps({"corpora": report, **summary}, indent=2))
        return
    for name, result in report.items():
        overall, leukaemia = result["overall"], result["leukaemia"]
        print(f"\n== {name}: {result['trials']} trials, {result['trials_per_second']} trials/s on one core")
        print(f"   items {overall['items']}, computable {overall['computable']} ({overall['share']:.1%})")  # type: ignore[index]
        print(f"   leukaemia trials {result['leukaemia_trials']}: items {leukaemia['items']}, "  # type: ignore[index]
              f"computable {leukaemia['computable']} ({(leukaemia['share'] or 0):.1%})")  # type: ignore[index]
        print(f"   {'category':<16} {'items':>7} {'computable':>11} {'share':>7}   leukaemia items / share")
        leuk_rows = result["leukaemia_by_category"]
        for category, counts in result["by_category"].items():  # type: ignore[union-attr]
            lk = leuk_rows.get(category, {"items": 0, "share": None})  # type: ignore[union-attr]
            lk_share = f"{lk['share']:.1%}" if lk["share"] is not None else "—"
            print(f"   {category:<16} {counts['items']:>7} {counts['computable']:>11} {counts['share']:>7.1%}"
                  f"   {lk['items']:>5} / {lk_share}")
    print(f"\nBoth corpora: {summary['overall_share']:.1%} of items computable; "
          f"leukaemia trials: {summary['leukaemia_share']:.1%}")


if __name__ == "__main__":
    main()
