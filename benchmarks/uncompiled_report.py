"""Criteria items that compile only to a question, by category: the most frequent left-over words and shapes.

A tool for widening coverage: for each category it prints how many items stayed questions, the words the
recognisers left unread (the residue that made each a question) and sample item texts, most frequent first.
Items with no residue are questions because a finding was unsure (confidence below CONFIDENT).

    python benchmarks/uncompiled_report.py [--corpus hint-trials.jsonl] [--leukaemia] [--category lab] [--samples 15]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict

from bench_criteria import is_leukaemia, load_corpus

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.compose import compose
from trialmatch.criteria.items import CriteriaItem, split_criteria
from trialmatch.criteria.passage import Passage
from trialmatch.criteria.recognisers import RECOGNISERS

_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")


def _shape(text: str) -> str:
    """The item text with numbers replaced, lower-cased and cut: near-identical items share a shape."""
    return " ".join(_DIGITS.sub("N", text.lower()).split())[:110]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="hint-trials.jsonl")
    parser.add_argument("--leukaemia", action="store_true", help="Only the leukaemia trials.")
    parser.add_argument("--category", default=None, help="Only this category.")
    parser.add_argument("--samples", type=int, default=12, help="Sample texts per category.")
    parser.add_argument("--words", type=int, default=25, help="Left-over words per category.")
    parser.add_argument("--list", action="store_true", help="Print every item with its left-over words.")
    parser.add_argument("--near", type=int, default=0,
                        help="Only near misses: items with at most this many left-over words (most telling first).")
    args = parser.parse_args()
    residue_words: dict[str, Counter[str]] = defaultdict(Counter)
    shapes: dict[str, Counter[str]] = defaultdict(Counter)
    unsure: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for row in load_corpus(args.corpus):
        compiled = compile_criteria(row["criteria"])
        if args.leukaemia and not is_leukaemia(row, compiled):
            continue
        tree = split_criteria(row["criteria"])
        items: dict[str, CriteriaItem] = {i.id: i for top in (*tree.inclusion(), *tree.exclusion()) for i in top.walk()}
        for criterion in compiled.criteria:
            if criterion.computable or (args.category and criterion.category != args.category):
                continue
            totals[criterion.category] += 1
            item = items.get(criterion.id)
            if item is None or item.children:
                shapes[criterion.category]["[group] " + _shape(criterion.text)] += 1
                continue
            passage = Passage(tree.text, item.span.start, item.span.end, item.section, item.negated)
            residue = compose(passage, RECOGNISERS).residue
            if not residue:
                unsure[criterion.category] += 1
            if args.near and not 0 < len(residue) <= args.near:
                continue
            residue_words[criterion.category].update([" ".join(residue)] if args.near else set(residue))
            if args.list:
                print(f"{criterion.category}\t{row['nct_id']} {criterion.id}\t{' '.join(criterion.text.split())[:300]}"
                      f"\t| {' '.join(residue)}")
            shapes[criterion.category][f"[{criterion.section[:3]}] " + _shape(criterion.text)] += 1
    for category, total in totals.most_common():
        print(f"\n== {category}: {total} questions ({unsure[category]} with nothing left over: unsure readings)")
        words = ", ".join(f"{w} {n}" for w, n in residue_words[category].most_common(args.words))
        print(f"   left over: {words}")
        for shape, n in shapes[category].most_common(args.samples):
            print(f"   {n:>3}× {shape}")


if __name__ == "__main__":
    main()
