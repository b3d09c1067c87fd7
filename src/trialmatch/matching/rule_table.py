"""Evaluate every candidate's rule trees at once: Kleene logic over numpy arrays, leaves from the patient's memo.

A patient's screening against a large store meets tens of thousands of distinct rules (trials share whole
criteria far less often than they share leaves such as "ECOG ≤ 2"). Walking each tree in Python cost about
3 µs a rule on top of its leaves; here each tree is a few rows in level order, the leaves' truths are
gathered from the patient's leaf memo (each distinct leaf evaluated once, by ``evaluate_leaf``), and each
level's "all", "any" and "not" nodes combine their children with one ``reduceat``.

Same truths as ``evaluate.rule_truth`` (tests/test_matching_table.py compares them on every criterion).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from trialmatch.criteria.rules import leaves
from trialmatch.matching.codebook import Codebook
from trialmatch.matching.leaves import TrialContext, evaluate_leaf
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.stored_plan import StoredCriteria
from trialmatch.matching.trial_plan import TrialPlan
from trialmatch.matching.truth import TRUE_CODE, TRUTH_CODE, UNKNOWN_CODE

# Node kinds.
LEAF, ALL, ANY, NOT, QUESTION, EMPTY_ALL = range(6)
_KIND = {"all": ALL, "any": ANY, "not": NOT, "question": QUESTION}
# Kleene "all" is the least of its children ranked False < unknown < True < n/a (n/a children are left out,
# all n/a gives n/a); "any" the greatest ranked n/a < False < unknown < True; "not" swaps True and False.
_ALL_RANK = np.array([0, 2, 1, 3], np.int8)  # code -> rank, and rank -> code (it is its own inverse)
_ANY_RANK = np.array([1, 3, 2, 0], np.int8)
_ANY_CODE = np.array([3, 0, 2, 1], np.int8)
_NOT = np.array([1, 0, 2, 3], np.int8)

_KEPT_NODES = attrgetter("_rule_nodes")
#: Leaf keys (``TrialPlan.leaf_keys``) as small ints, shared by every plan in the process.
LEAF_KEYS = Codebook()

# A node: its level in its tree, kind and number of children, and (for a leaf) which leaf of which criterion
# it is; and its leaf-key code. Two int64 arrays per plan, concatenated fast.
_LEVEL_BITS, _KIND_SHIFT, _CHILDREN_SHIFT, _ORDINAL_SHIFT, _POSITION_SHIFT = 0xFF, 8, 12, 28, 44


def plan_rule_nodes(plan: TrialPlan) -> np.ndarray:
    """A plan's rule trees (of the criteria facts can settle, in criterion order), each in level order: one
    row per node, (level | kind << 8 | children << 12 | leaf ordinal << 28 | criterion position << 44, leaf-key
    code). Built once per plan and kept on it."""
    nodes = plan.__dict__.get("_rule_nodes")
    if nodes is None:
        shape: list[int] = []
        leaf: list[int] = []
        for position, tree, keys in _trees(plan):
            _lay_out(tree, keys, position, shape, leaf)
        nodes = np.array([shape, leaf], np.int64).T.copy() if shape else np.zeros((0, 2), np.int64)
        object.__setattr__(plan, "_rule_nodes", nodes)  # a cache beside the frozen fields
    return nodes


def _trees(plan: TrialPlan) -> Iterator[tuple[int, Any, list[str | None]]]:
    """Each rule-bearing criterion's position, rule tree (a dict from a stored plan's JSON, or the rule) and
    the keys of its leaves in ``leaves`` order."""
    criteria = plan.criteria
    if isinstance(criteria, StoredCriteria):
        yield from criteria.rule_trees()
        return
    for position, criterion in enumerate(criteria):
        if criterion.computable or criterion.may_not_apply:
            yield position, criterion.rule, [plan.leaf_keys.get(id(each)) for each in leaves(criterion.rule)]


def _kind_and_children(node: Any) -> tuple[int, list[Any]]:
    if isinstance(node, dict):
        kind = node["kind"]
        children = node.get("children") or ([node["child"]] if kind == "not" else [])
    else:
        kind = node.kind
        children = list(node.children) if kind in ("all", "any") else [node.child] if kind == "not" else []
    code = _KIND.get(kind, LEAF)
    if code == ALL and not children:
        code = EMPTY_ALL  # "nothing to check" is met
    return code, children


def _lay_out(tree: Any, keys: list[str | None], position: int, shape: list[int], leaf: list[int]) -> None:
    """Append one tree's nodes in level order (a node's children sit together, in order, one level down)."""
    ordinal = 0
    # Leaf ordinals follow ``leaves`` (depth first); the layout is breadth first.
    numbered: dict[int, int] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        kind, children = _kind_and_children(node)
        if kind in (LEAF, QUESTION):
            numbered[id(node)] = ordinal
            ordinal += 1
        stack.extend(reversed(children))
    level_nodes = [tree]
    level = 0
    while level_nodes:
        following = []
        for node in level_nodes:
            kind, children = _kind_and_children(node)
            number = numbered.get(id(node), 0)
            shape.append(level | kind << _KIND_SHIFT | len(children) << _CHILDREN_SHIFT
                         | number << _ORDINAL_SHIFT | position << _POSITION_SHIFT)
            key = keys[number] if kind == LEAF and number < len(keys) else None
            leaf.append(LEAF_KEYS(key) if key else 0)
            following.extend(children)
        level_nodes = following
        level += 1


def rule_truths(view: PatientView, plans: Sequence[TrialPlan]) -> np.ndarray:
    """The truth code of every rule-bearing criterion of ``plans``, in order (plan, then criterion)."""
    try:  # each plan's nodes, kept on it: read in C when every plan has them already
        parts = list(map(_KEPT_NODES, plans))
    except AttributeError:
        parts = [plan_rule_nodes(plan) for plan in plans]
    if not parts:
        return np.zeros(0, np.int8)
    counts = np.fromiter(map(len, parts), np.int64, len(parts))
    nodes = np.concatenate(parts)
    if not len(nodes):
        return np.zeros(0, np.int8)
    shape, leaf = nodes[:, 0], nodes[:, 1]
    plan_of = np.repeat(np.arange(len(parts)), counts)
    level = (shape & _LEVEL_BITS).astype(np.int8)
    kind = (shape >> _KIND_SHIFT) & 0xF
    children = (shape >> _CHILDREN_SHIFT) & 0xFFFF

    value = np.full(len(shape), UNKNOWN_CODE, np.int8)  # a question is unknown
    value[kind == EMPTY_ALL] = TRUE_CODE
    is_leaf = kind == LEAF
    value[is_leaf] = _leaf_truths(view, plans, shape, leaf, plan_of, is_leaf)

    order = np.argsort(level, kind="stable")  # level by level, each in (plan, criterion, tree) order
    bounds = np.searchsorted(level[order], np.arange(int(level.max()) + 2))
    for depth in range(int(level.max()) - 1, -1, -1):
        parents = order[bounds[depth] : bounds[depth + 1]]
        below = order[bounds[depth + 1] : bounds[depth + 2]]
        if not len(below):
            continue
        count = children[parents]
        inner = parents[count > 0]
        starts = np.concatenate([[0], np.cumsum(count)[:-1]])[count > 0]
        child_value = value[below]
        least = _ALL_RANK[np.minimum.reduceat(_ALL_RANK[child_value], starts)]
        most = _ANY_CODE[np.maximum.reduceat(_ANY_RANK[child_value], starts)]
        inner_kind = kind[inner]
        value[inner] = np.where(inner_kind == ALL, least, np.where(inner_kind == ANY, most, _NOT[child_value[starts]]))
    return value[order[: bounds[1]]]  # the roots, in order


def _leaf_truths(view: PatientView, plans: Sequence[TrialPlan], shape: np.ndarray, leaf: np.ndarray,
                 plan_of: np.ndarray, is_leaf: np.ndarray) -> np.ndarray:
    """Each leaf node's truth code: from the patient's leaf memo, each distinct leaf evaluated once."""
    names, memo = LEAF_KEYS.names, view.leaf_results
    nodes = np.flatnonzero(is_leaf)
    codes = leaf[nodes]
    by_code = np.full(len(LEAF_KEYS), UNKNOWN_CODE, np.int8)
    used = np.zeros(len(LEAF_KEYS), bool)
    used[codes] = True
    used[0] = False
    missing = []
    for code in np.flatnonzero(used).tolist():
        result = memo.get(names[code])
        if result is None:
            missing.append(code)
        else:
            by_code[code] = TRUTH_CODE[result.truth]
    if missing:
        first = np.full(len(LEAF_KEYS), len(nodes), np.int64)
        np.minimum.at(first, codes, np.arange(len(nodes)))
        at = nodes[first[missing]]
        for code, plan_index, node_shape in zip(missing, plan_of[at].tolist(), shape[at].tolist(), strict=True):
            result = evaluate_leaf(*_leaf_at(plans[plan_index], node_shape, view))
            memo[names[code]] = result
            by_code[code] = TRUTH_CODE[result.truth]
    truths = by_code[codes]
    for at in np.flatnonzero(codes == 0).tolist():  # a leaf without a key: evaluated where it stands
        node = int(nodes[at])
        truths[at] = TRUTH_CODE[evaluate_leaf(*_leaf_at(plans[int(plan_of[node])], int(shape[node]), view)).truth]
    return truths


def _leaf_at(plan: TrialPlan, shape: int, view: PatientView) -> tuple[Any, PatientView, TrialContext]:
    """The leaf a node stands for, the patient, and its trial's context: ``evaluate_leaf``'s arguments."""
    position = shape >> _POSITION_SHIFT
    listed = plan.__dict__.get("_leaf_lists")
    if listed is None:
        listed = {}
        object.__setattr__(plan, "_leaf_lists", listed)
    found = listed.get(position)
    if found is None:
        found = listed[position] = tuple(leaves(plan.criteria[position].rule))
    return found[(shape >> _ORDINAL_SHIFT) & 0xFFFF], view, plan.context
