"""Eligibility criteria: splitting the free text into an item tree (``split_criteria``)."""

from trialmatch.criteria.items import CriteriaItem, CriteriaTree, Note, Span, split_criteria

__all__ = ["CriteriaItem", "CriteriaTree", "Note", "Span", "split_criteria"]
