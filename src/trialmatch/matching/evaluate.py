"""Evaluate a compiled rule tree against a patient: Kleene logic over the leaves, with their evidence."""

from __future__ import annotations

from dataclasses import dataclass

from trialmatch.criteria.rules import AllOf, AnyOf, Not, Rule
from trialmatch.matching.leaves import TrialContext, evaluate_leaf
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.truth import Truth, kleene_all, kleene_any, kleene_not
from trialmatch.matching.verdicts import Evidence

_ANSWER_ONLY = "only an answer settles this"


@dataclass
class RuleOutcome:
    truth: Truth
    evidence: list[Evidence]
    notes: list[str]


def evaluate_rule(rule: Rule, view: PatientView, trial: TrialContext,
                  leaf_keys: dict[int, str] | None = None) -> RuleOutcome:
    """The rule's truth for this patient, and every fact and note the leaves used.

    ``leaf_keys`` (from the trial's plan) name each leaf's meaning, so a leaf already evaluated for this
    patient in another trial is not evaluated again.
    """
    outcome = RuleOutcome(None, [], [])
    outcome.truth = _walk(rule, view, trial, outcome, leaf_keys or {})
    return outcome


def _walk(rule: Rule, view: PatientView, trial: TrialContext, outcome: RuleOutcome, keys: dict[int, str]) -> Truth:
    if isinstance(rule, AllOf):
        if not rule.children:  # "nothing to check"
            return True
        return kleene_all([_walk(child, view, trial, outcome, keys) for child in rule.children])
    if isinstance(rule, AnyOf):
        return kleene_any([_walk(child, view, trial, outcome, keys) for child in rule.children])
    if isinstance(rule, Not):
        return kleene_not(_walk(rule.child, view, trial, outcome, keys))
    if rule.kind == "question":
        if _ANSWER_ONLY not in outcome.notes:
            outcome.notes.append(_ANSWER_ONLY)
        return None
    key = keys.get(id(rule))
    result = view.leaf_results.get(key) if key else None
    if result is None:
        result = evaluate_leaf(rule, view, trial)
        if key:
            view.leaf_results[key] = result
    for evidence in result.evidence:
        if evidence not in outcome.evidence:
            outcome.evidence.append(evidence)
    if result.note and result.note not in outcome.notes:
        outcome.notes.append(result.note)
    return result.truth


def rule_truth(rule: Rule, view: PatientView, trial: TrialContext, leaf_keys: dict[int, str]) -> Truth:
    """The rule's truth alone, as ``evaluate_rule`` finds it, without gathering evidence (for verdicts)."""
    if isinstance(rule, AllOf):
        if not rule.children:
            return True
        return kleene_all([rule_truth(child, view, trial, leaf_keys) for child in rule.children])
    if isinstance(rule, AnyOf):
        return kleene_any([rule_truth(child, view, trial, leaf_keys) for child in rule.children])
    if isinstance(rule, Not):
        return kleene_not(rule_truth(rule.child, view, trial, leaf_keys))
    if rule.kind == "question":
        return None
    key = leaf_keys.get(id(rule))
    result = view.leaf_results.get(key) if key else None
    if result is None:
        result = evaluate_leaf(rule, view, trial)
        if key:
            view.leaf_results[key] = result
    return result.truth
