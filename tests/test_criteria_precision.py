"""Precision of compiled rules: a random sample of computable items from both corpora, judged by hand.

tests/fixtures/criteria_precision.jsonl holds each sampled item (corpus, trial, item id, text, the
rule as described when judged) with its judgement, "right" or "wrong", and why. The judgements only
hold for the rules they were made on, so the compiler must still produce exactly those rules: when a
change alters one, re-judge it (benchmarks/criteria_sample.py --recheck lists them).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from trialmatch.criteria.compiler import CompiledCriterion, compile_criteria
from trialmatch.criteria.describe import describe

FIXTURE = Path(__file__).parent / "fixtures" / "criteria_precision.jsonl"


def _judged() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text("utf-8").splitlines() if line.strip()]


@cache
def _corpus(shared: str, name: str) -> dict[str, str]:
    rows = (json.loads(line) for line in (Path(shared) / "data/criteria-corpus" / name).open(encoding="utf-8"))
    return {row["nct_id"]: row["criteria"] for row in rows if row.get("criteria")}


def _item(criteria: tuple[CompiledCriterion, ...], item_id: str) -> CompiledCriterion | None:
    for criterion in criteria:
        if criterion.id == item_id:
            return criterion
        found = _item(criterion.children, item_id)
        if found is not None:
            return found
    return None


def test_the_sample_is_large_and_spread_over_categories() -> None:
    judged = _judged()
    assert len(judged) >= 300
    categories = Counter(item["category"] for item in judged)
    assert len(categories) >= 10
    assert {item["judgement"] for item in judged} <= {"right", "wrong"}
    assert all(item["why"] for item in judged if item["judgement"] == "wrong")


def test_at_least_97_percent_of_the_judged_rules_are_right() -> None:
    judged = _judged()
    right = sum(item["judgement"] == "right" for item in judged)
    assert right / len(judged) >= 0.97, [item["text"] for item in judged if item["judgement"] == "wrong"]


@pytest.mark.parametrize("corpus", ["hint-trials.jsonl", "lct-criteria.jsonl"])
def test_the_compiler_still_makes_the_judged_rules(shared_dir: Path, corpus: str) -> None:
    texts = _corpus(str(shared_dir), corpus)
    changed = []
    for item in (i for i in _judged() if i["corpus"] == corpus):
        criterion = _item(compile_criteria(texts[item["nct_id"]]).criteria, item["item"])
        now = describe(criterion.rule) if criterion is not None and criterion.computable else None
        if now != item["description"]:
            changed.append((item["nct_id"], item["item"], item["description"], now))
    assert not changed, f"re-judge these items: {changed}"
