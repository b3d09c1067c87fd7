"""A trial's plan as compact JSON, so the store can keep it ready-made beside the record.

Building a plan from the stored record means validating the whole record and its compiled criteria,
then describing, asking and keying every rule: 1–3 ms a trial, which is most of a cold screening. The
encoded plan holds only what matching reads, with the descriptions, questions and rule keys already
made; decoding it is one JSON parse and one validation of the rule trees.

A stored plan is valid for the record and compiled criteria it was built from and for this code and
data (``PLAN_VERSION``: the format, the compiler version and a digest of the bundled data files and
any user vocabulary, since the trial's diseases and the questions come from them). Anything else is
rebuilt from the record.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

import orjson
from pydantic import TypeAdapter

from trialmatch.criteria.compiler import COMPILER_VERSION
from trialmatch.criteria.rules import Rule, leaves
from trialmatch.matching.leaves import TrialContext
from trialmatch.matching.trial_plan import PlannedCriterion, PlannedTrial, TrialPlan
from trialmatch.vocabulary.concepts import _user_files

#: Bump when the encoding or how plans are built (descriptions, questions, keys) changes.
PLAN_FORMAT = "1"

_RULES: TypeAdapter[list[Rule]] = TypeAdapter(list[Rule])


@cache
def plan_version() -> str:
    """This code's plan version: the format, the compiler version and the data the plans were built from."""
    digest = hashlib.blake2b(digest_size=8)
    data = resources.files("trialmatch.data")
    pending = [data]
    files = []
    while pending:
        folder = pending.pop()
        for item in folder.iterdir():
            if item.is_dir():
                pending.append(item)
            elif item.name.endswith(".yaml"):
                files.append(item)
    for item in sorted(files, key=str):
        digest.update(item.name.encode("utf-8") + b"\0" + item.read_bytes())
    for path in _user_files():
        digest.update(str(path).encode("utf-8") + b"\0" + path.read_bytes())
    return f"p{PLAN_FORMAT}-c{COMPILER_VERSION}-{digest.hexdigest()}"


def plan_key(content_hash: str, criteria_key: str) -> str:
    """What a stored plan was built from: this code and data, the record's hash and its compiled criteria."""
    return f"{plan_version()}:{content_hash}:{criteria_key}"


def encode_plan(plan: TrialPlan) -> bytes:
    trial = plan.trial
    criteria = [
        [c.id, c.section, c.category, c.text, c.span, c.description, c.question_id, c.question, c.confidence,
         c.structured, c.rule_key, c.computable, c.may_not_apply,
         [plan.leaf_keys.get(id(leaf)) for leaf in leaves(c.rule)], c.rule.model_dump(mode="json")]
        for c in plan.criteria
    ]
    return orjson.dumps({"trial": [trial.id, trial.title, trial.status, trial.has_criteria_text],
                         "diseases": sorted(plan.context.disease_concepts), "uncompiled": plan.uncompiled,
                         "criteria": criteria})


def decode_plan(encoded: bytes | str) -> TrialPlan:
    """The plan ``encode_plan`` stored. Raises ``ValueError`` when the bytes are not one."""
    data = orjson.loads(encoded)
    rows = data["criteria"]
    # One validation call for every rule tree: pydantic-core does it far faster than building them in Python.
    rules = _RULES.validate_python([row[14] for row in rows])
    leaf_keys: dict[int, str] = {}
    criteria = []
    for row, rule in zip(rows, rules, strict=True):
        for leaf, key in zip(leaves(rule), row[13], strict=True):
            if key is not None:
                leaf_keys[id(leaf)] = key
        criteria.append(PlannedCriterion(
            id=row[0], section=row[1], category=row[2], rule=rule, text=row[3],
            span=tuple(row[4]) if row[4] is not None else None, description=row[5], question_id=row[6],
            question=row[7], confidence=row[8], structured=row[9], rule_key=row[10], computable=row[11],
            may_not_apply=row[12]))
    trial_id, title, status, has_text = data["trial"]
    return TrialPlan(PlannedTrial(trial_id, title, status, has_text), TrialContext(frozenset(data["diseases"])),
                     tuple(criteria), data["uncompiled"], leaf_keys)
