"""The diseases a trial studies, as vocabulary concept ids.

Read from the record's conditions and MeSH terms (or, when it names none, its title). Matching reads them
as "the disease under study"; the store indexes them so a patient's diagnosis finds its trials.
"""

from __future__ import annotations

from trialmatch.trials.record import Trial
from trialmatch.vocabulary import load_vocabulary

_CONDITION_KINDS = {"condition"}


def condition_concepts(trial: Trial) -> frozenset[str]:
    """The trial's own condition concepts, without their broader ones (a B-ALL trial is not a "cancer" trial)."""
    vocabulary = load_vocabulary()
    found: set[str] = set()
    for name in (*trial.conditions, *(m.term for m in trial.condition_mesh)):
        found.update(vocabulary.concept_ids(name, _CONDITION_KINDS, with_ancestors=False))
    if not found:
        for title in (trial.brief_title, trial.official_title):
            if title:
                found.update(vocabulary.concept_ids(title, _CONDITION_KINDS, with_ancestors=False))
    return frozenset(found)
