"""Draw the precision sample: computable criteria items from both corpora, spread over categories.

Writes JSON Lines with each item's corpus, trial, section, category, text, rule and its one-line
description, for hand-checking. The judged sample lives in tests/fixtures/criteria_precision.jsonl
(each line gains "judgement": "right" | "wrong" and "why"); tests/test_criteria_precision.py checks it.

    python benchmarks/criteria_sample.py --per-category 30 --out benchmarks/out/precision-sample.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from bench_criteria import load_corpus

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.describe import describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-category", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/precision-sample.jsonl"))
    args = parser.parse_args()
    pool: dict[str, list[dict]] = defaultdict(list)
    for corpus in ("hint-trials.jsonl", "lct-criteria.jsonl"):
        for row in load_corpus(corpus):
            for criterion in compile_criteria(row["criteria"]).criteria:
                if criterion.computable and not criterion.children:
                    pool[criterion.category].append({
                        "corpus": corpus, "nct_id": row["nct_id"], "item": criterion.id,
                        "section": criterion.section, "category": criterion.category, "text": criterion.text,
                        "description": describe(criterion.rule),
                        "rule": criterion.rule.model_dump(mode="json", exclude_none=True),
                    })
    rng = random.Random(args.seed)
    sample = []
    for category in sorted(pool):
        items = pool[category]
        sample += rng.sample(items, min(args.per_category, len(items)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for item in sample:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(sample)} items from {len(pool)} categories -> {args.out}")
    for category in sorted(pool):
        print(f"  {category:<16} pool {len(pool[category]):>6}")


if __name__ == "__main__":
    main()
