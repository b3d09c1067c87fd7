"""Time each criteria recogniser on the items of the first N hint-trials texts (one core), then the whole
compiler, and the compiler without recognisers: the most it could compile if they cost nothing.

    python benchmarks/bench_recognisers.py [--trials 300]
"""

from __future__ import annotations

import argparse
import json
import time

from bench_criteria import load_corpus

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.items import split_criteria
from trialmatch.criteria.passage import Passage
from trialmatch.criteria.recognisers import RECOGNISERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=300)
    args = parser.parse_args()
    texts = [row["criteria"] for row in load_corpus("hint-trials.jsonl", args.trials)]
    passages = []
    for text in texts:
        for item in split_criteria(text).walk():
            if item.kind in ("criterion", "group"):
                passages.append(Passage(text, item.span.start, item.span.end, item.section, item.negated))
    for recognise in RECOGNISERS:  # warm-up: data files, unit registry
        recognise(passages[0])
    compile_criteria(texts[0])
    print(f"{len(texts)} trials, {len(passages)} items")
    for recognise in RECOGNISERS:
        started = time.perf_counter()
        found = sum(len(recognise(p)) for p in passages)
        name = recognise.__module__.rsplit(".", 1)[-1]
        print(f"  {name:<14} {time.perf_counter() - started:6.3f} s  {found:>5} found")
    started = time.perf_counter()
    for text in texts:
        compile_criteria(text)
    elapsed = time.perf_counter() - started
    print(f"  whole compiler {elapsed:6.3f} s  = {len(texts) / elapsed:.0f} trials/s")
    started = time.perf_counter()
    for text in texts:
        compile_criteria(text, recognisers=())
    alone = time.perf_counter() - started
    print(f"  no recognisers {alone:6.3f} s  = {len(texts) / alone:.0f} trials/s (splitting, composing, questions)")
    print(json.dumps({"trials_per_second": round(len(texts) / elapsed, 1),
                      "without_recognisers": round(len(texts) / alone, 1)}))


if __name__ == "__main__":
    main()
