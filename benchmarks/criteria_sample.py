"""Draw the precision sample: computable criteria items from both corpora, spread over categories.

Writes JSON Lines with each item's corpus, trial, section, category, text, rule and its one-line
description, for hand-checking. The judged sample lives in tests/fixtures/criteria_precision.jsonl
(each line gains "judgement": "right" | "wrong" and "why"); tests/test_criteria_precision.py checks it.

    python benchmarks/criteria_sample.py --per-category 20 --out benchmarks/out/precision-sample.jsonl
    python benchmarks/criteria_sample.py --recheck      # judged items whose rule has changed since
    python benchmarks/criteria_sample.py --report       # the judged precision, overall and by category
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

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "criteria_precision.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-category", type=int, default=20)
    parser.add_argument("--recheck", action="store_true", help="List judged items whose rule changed.")
    parser.add_argument("--report", action="store_true", help="Print the judged precision.")
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/precision-sample.jsonl"))
    args = parser.parse_args()
    if args.recheck or args.report:
        judged = [json.loads(line) for line in FIXTURE.read_text("utf-8").splitlines() if line.strip()]
        if args.report:
            report(judged)
        if args.recheck:
            recheck(judged)
        return
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


def report(judged: list[dict]) -> None:
    by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    first = [item.get("judged_first", item)["judgement"] for item in judged]
    print(f"first judging: {first.count('right')}/{len(first)} = {first.count('right') / len(first):.1%} right")
    questions = sum(item["judgement"] == "question" for item in judged)
    judged = [item for item in judged if item["judgement"] != "question"]
    print(f"{questions} sampled items are questions since later fixes")
    for item in judged:
        by_category[item["category"]][0] += item["judgement"] == "right"
        by_category[item["category"]][1] += 1
    right = sum(r for r, _ in by_category.values())
    print(f"precision: {right}/{len(judged)} = {right / len(judged):.1%} of judged rules are right")
    for category, (r, n) in sorted(by_category.items()):
        print(f"  {category:<16} {r:>3}/{n:<3} {r / n:.0%}")


def recheck(judged: list[dict]) -> None:
    texts = {name: {row["nct_id"]: row["criteria"] for row in load_corpus(name)}
             for name in ("hint-trials.jsonl", "lct-criteria.jsonl")}
    changed = 0
    for item in judged:
        compiled = compile_criteria(texts[item["corpus"]][item["nct_id"]])
        now = next((c.rule for c in compiled.criteria if c.id == item["item"] and c.computable), None)
        if (now.model_dump(mode="json", exclude_none=True) if now else None) != item.get("rule"):
            changed += 1
            described = describe(now) if now else None
            print(f"{item['nct_id']} {item['item']}: {item['text'][:100]}")
            print(f"   was {item['description']}\n   now {described}")
    print(f"{changed} of {len(judged)} judged items changed")


if __name__ == "__main__":
    main()
