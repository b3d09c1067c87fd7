"""Precision of compiled rules: a random sample of computable items from both corpora, judged by hand.

tests/fixtures/criteria_precision.jsonl holds each sampled item (corpus, trial, item id, text, the
rule as judged, and its one-line description) with its judgement, "right" or "wrong", and why, or
"question" for a sampled item that a later fix turned into a question (a question is never a wrong rule;
"judged_first" keeps the first judgement). The judgements only hold for the rules they were made on, so
the compiler must still produce exactly those rules: when a change alters one, re-judge it
(benchmarks/criteria_sample.py --recheck lists them).

The target is 97 % right. The measured figure is below it (see the issue note), so this test guards
the measured floor: precision may rise, never fall.
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
TARGET = 0.97
MEASURED_FLOOR = 0.92


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
    assert {item["judgement"] for item in judged} <= {"right", "wrong", "question"}
    assert all(item["why"] for item in judged if item["judgement"] == "wrong")


def test_the_share_of_judged_rules_that_are_right_does_not_fall() -> None:
    judged = [item for item in _judged() if item["judgement"] != "question"]
    right = sum(item["judgement"] == "right" for item in judged)
    assert right / len(judged) >= MEASURED_FLOOR, [item["text"] for item in judged if item["judgement"] == "wrong"]


@pytest.mark.parametrize("corpus", ["hint-trials.jsonl", "lct-criteria.jsonl"])
def test_the_compiler_still_makes_the_judged_rules(shared_dir: Path, corpus: str) -> None:
    texts = _corpus(str(shared_dir), corpus)
    changed = []
    for item in (i for i in _judged() if i["corpus"] == corpus):
        criterion = _item(compile_criteria(texts[item["nct_id"]]).criteria, item["item"])
        now = criterion.rule.model_dump(mode="json", exclude_none=True) if criterion and criterion.computable else None
        if now != item["rule"]:
            changed.append((item["nct_id"], item["item"], item["description"],
                            describe(criterion.rule) if criterion else None))
    assert not changed, f"re-judge these items: {changed}"
