"""A trial's plan as compact JSON, so the store can keep it ready-made beside the record.

Building a plan from the stored record means validating the whole record and its compiled criteria,
then describing, asking and keying every rule: 1–3 ms a trial, which is most of a cold screening. The
encoded plan holds only what matching reads, with the descriptions, questions and rule keys already
made. Decoding it is one JSON parse; each rule tree is read (and its leaf keys filed) only when a patient
needs it evaluated, which is rare once the patient's memo holds the common rules.

A stored plan is valid for the record and compiled criteria it was built from and for this code and
data (``PLAN_VERSION``: the format, the compiler version and a digest of the bundled data files and
any user vocabulary, since the trial's diseases and the questions come from them). Anything else is
rebuilt from the record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from functools import cache
from importlib import resources
from typing import Any, overload

import orjson
from pydantic import TypeAdapter

from trialmatch.criteria.compiler import COMPILER_VERSION
from trialmatch.criteria.rules import Rule, leaves
from trialmatch.matching.judgement import index_rows, keep_index_rows
from trialmatch.matching.leaves import TrialContext
from trialmatch.matching.trial_plan import PlannedCriterion, PlannedTrial, TrialPlan
from trialmatch.vocabulary.concepts import _user_files

#: Bump when the encoding or how plans are built (descriptions, questions, keys) changes.
PLAN_FORMAT = "4"

_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)
_FIELDS = ("id", "section", "category", "text", "span", "description", "question_id", "question", "confidence",
           "structured", "rule_key", "computable", "may_not_apply", "answer_negates")
_FIELD_AT = {name: at for at, name in enumerate(_FIELDS)}


class StoredCriterion(PlannedCriterion):
    """A criterion of a decoded plan: its rule is validated from its JSON the first time it is read."""

    def __init__(self, values: dict[str, Any], rule_json: str, leaf_keys: list[str | None],
                 plan_leaf_keys: dict[int, str]) -> None:
        values["_rule_source"] = (rule_json, leaf_keys, plan_leaf_keys)
        object.__setattr__(self, "__dict__", values)

    def __getattr__(self, name: str) -> Any:
        # Called only while ``rule`` is not yet in the instance's __dict__.
        if name != "rule":
            raise AttributeError(name)
        rule_json, leaf_keys, plan_leaf_keys = self.__dict__["_rule_source"]
        rule = _RULE.validate_json(rule_json)
        for leaf, key in zip(leaves(rule), leaf_keys, strict=True):
            if key is not None:
                plan_leaf_keys[id(leaf)] = key
        object.__setattr__(self, "rule", rule)
        return rule


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
         c.structured, c.rule_key, c.computable, c.may_not_apply, c.answer_negates,
         [plan.leaf_keys.get(id(leaf)) for leaf in leaves(c.rule)], c.rule.model_dump_json()]
        for c in plan.criteria
    ]
    return orjson.dumps({"trial": [trial.id, trial.title, trial.status, trial.has_criteria_text],
                         "diseases": sorted(plan.context.disease_concepts), "uncompiled": plan.uncompiled,
                         "criteria": criteria, "index": index_rows(plan)})


def decode_plan(encoded: bytes | str) -> TrialPlan:
    """The plan ``encode_plan`` stored. Raises ``ValueError`` when the bytes are not one."""
    data = orjson.loads(encoded)
    leaf_keys: dict[int, str] = {}
    criteria = data["criteria"]
    if not isinstance(criteria, list) or not all(isinstance(row, list) and len(row) == 16 for row in criteria):
        raise ValueError("not a stored plan: its criteria are not rows of 16 fields")
    trial_id, title, status, has_text = data["trial"]
    plan = TrialPlan(PlannedTrial(trial_id, title, status, has_text), TrialContext(frozenset(data["diseases"])),
                     StoredCriteria(criteria, leaf_keys), data["uncompiled"], leaf_keys)  # type: ignore[arg-type]
    keep_index_rows(plan, data["index"])  # ready-made: building it was a third of a cold decode
    return plan


class StoredCriteria(Sequence[PlannedCriterion]):
    """A decoded plan's criteria, each made when first read.

    A broad cold screening decodes thousands of plans but reads the criteria of few: verdicts come from the
    rows (``verdict_fields``), and only the rules to evaluate and the trials shown need criterion objects.
    """

    __slots__ = ("_leaf_keys", "_made", "_rows")

    def __init__(self, rows: list[list[Any]], leaf_keys: dict[int, str]) -> None:
        self._rows = rows
        self._leaf_keys = leaf_keys
        self._made: list[StoredCriterion | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, at: int) -> PlannedCriterion: ...

    @overload
    def __getitem__(self, at: slice) -> tuple[PlannedCriterion, ...]: ...

    def __getitem__(self, at: int | slice) -> PlannedCriterion | tuple[PlannedCriterion, ...]:
        if isinstance(at, slice):
            return tuple(self[i] for i in range(*at.indices(len(self))))
        made = self._made[at]
        if made is None:
            made = self._made[at] = self._make(self._rows[at])
        return made

    def __iter__(self) -> Iterator[PlannedCriterion]:
        return map(self.__getitem__, range(len(self._rows)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def field(self, at: int, name: str) -> Any:
        """One field of a criterion, read from its row (the criterion object is not made)."""
        made = self._made[at]
        return getattr(made, name) if made is not None else self._rows[at][_FIELD_AT[name]]

    def verdict_fields(self) -> Iterator[tuple[str, str, str, bool, bool]]:
        """Each criterion's section, question id, rule key, and whether it is computable or may not apply."""
        return ((row[1], row[6], row[10], row[11], row[12]) for row in self._rows)

    def rule_trees(self) -> Iterator[tuple[int, Any, list[str | None]]]:
        """Each criterion facts may settle: its position, rule tree (parsed JSON, not validated) and leaf keys."""
        for position, row in enumerate(self._rows):
            if row[11] or row[12]:
                yield position, orjson.loads(row[15]), row[14]

    def _make(self, row: list[Any]) -> StoredCriterion:
        values = dict(zip(_FIELDS, row, strict=False))
        if row[4] is not None:
            values["span"] = tuple(row[4])
        values["_rule_source"] = (row[15], row[14], self._leaf_keys)
        criterion = StoredCriterion.__new__(StoredCriterion)  # StoredCriterion.__init__, inlined
        object.__setattr__(criterion, "__dict__", values)
        return criterion
