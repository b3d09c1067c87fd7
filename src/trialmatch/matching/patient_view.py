"""A patient's facts arranged for fast evaluation "as of" a date.

Built once per patient and date, then shared by every trial: each fact carries the set of concept ids it
stands for (its own and every broader one), so "is this a kind of X" is a set lookup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Generic, TypeVar

from dateutil.relativedelta import relativedelta

from trialmatch.patients.facts import (
    AllergyFact,
    ConditionFact,
    InfectionFact,
    LabFact,
    PatientFacts,
    PerformanceFact,
    StudyFact,
    TherapyFact,
)
from trialmatch.vocabulary import Vocabulary, load_vocabulary

FactT = TypeVar("FactT")

_UNIT_DELTA = {
    "days": lambda n: relativedelta(days=n),
    "weeks": lambda n: relativedelta(weeks=n),
    "months": lambda n: relativedelta(months=n),
    "years": lambda n: relativedelta(years=n),
}


@dataclass(frozen=True)
class Tagged(Generic[FactT]):
    """A fact with the concept ids it counts as (its own and the broader ones)."""

    fact: FactT
    concepts: frozenset[str]


@dataclass
class PatientView:
    facts: PatientFacts
    as_of: dt.date
    vocabulary: Vocabulary = field(default_factory=load_vocabulary)
    #: Rule evaluations already made for this patient, by ``PlannedCriterion.rule_key``.
    evaluated: dict[str, Any] = field(default_factory=dict)
    #: Leaf evaluations already made for this patient, by leaf key (``TrialPlan.leaf_keys``).
    leaf_results: dict[str, Any] = field(default_factory=dict)
    #: Rule truths from the facts alone (before the safety caps and answers), by rule key.
    truths: dict[str, Any] = field(default_factory=dict)

    def _tag(self, facts: list[FactT], attribute: str = "concept") -> list[Tagged[FactT]]:
        tagged = []
        for fact in facts:
            concept = getattr(fact, attribute)
            ids = frozenset((concept, *self.vocabulary.ancestors(concept))) if concept else frozenset()
            tagged.append(Tagged(fact, ids))
        return tagged

    @cached_property
    def conditions(self) -> list[Tagged[ConditionFact]]:
        return [t for t in self._tag(self.facts.conditions) if not t.fact.family]

    @cached_property
    def infections(self) -> list[Tagged[InfectionFact]]:
        return self._tag(self.facts.infections)

    @cached_property
    def therapies(self) -> list[Tagged[TherapyFact]]:
        # Facts dated after the as-of date haven't happened yet, as far as this evaluation knows.
        kept = [f for f in self.facts.therapies if f.start is None or f.start <= self.as_of]
        return self._tag(kept)

    @cached_property
    def allergies(self) -> list[Tagged[AllergyFact]]:
        return self._tag(self.facts.allergies)

    @cached_property
    def labs(self) -> dict[str, list[Tagged[LabFact]]]:
        """Lab results by every analyte id they count as, newest first."""
        by_analyte: dict[str, list[Tagged[LabFact]]] = {}
        dated = [f for f in self.facts.labs if f.date is None or f.date <= self.as_of]
        dated.sort(key=lambda f: f.date or dt.date.min, reverse=True)
        for tagged in self._tag(dated, "analyte"):
            for concept in tagged.concepts:
                by_analyte.setdefault(concept, []).append(tagged)
        return by_analyte

    @cached_property
    def performance(self) -> list[PerformanceFact]:
        """Performance statuses, newest first."""
        kept = [f for f in self.facts.performance if f.date is None or f.date <= self.as_of]
        return sorted(kept, key=lambda f: f.date or dt.date.min, reverse=True)

    @cached_property
    def studies(self) -> list[StudyFact]:
        return list(self.facts.studies)

    @cached_property
    def answers(self) -> dict[str, str]:
        return {a.question_id: a.answer for a in self.facts.answers}

    @cached_property
    def birth_interval(self) -> tuple[dt.date, dt.date] | None:
        """Earliest and latest possible birth date: exact from a birth date, a range from a stated age."""
        if self.facts.birth_date is not None:
            return self.facts.birth_date, self.facts.birth_date
        age = self.facts.age
        if age is None:
            return None
        stated_on = age.as_of or self.as_of
        whole = int(age.value)
        latest = stated_on - _UNIT_DELTA[age.unit](whole)
        earliest = stated_on - _UNIT_DELTA[age.unit](whole + 1) + dt.timedelta(days=1)
        return earliest, latest

    def age_source(self) -> str:
        if self.facts.birth_date is not None:
            return f"born {self.facts.birth_date.isoformat()}"
        age = self.facts.age
        assert age is not None
        when = f" on {age.as_of.isoformat()}" if age.as_of else ""
        return f"aged {age.value:g} {age.unit}{when}"

    def age_fact_source(self) -> str:
        if self.facts.age is not None and self.facts.birth_date is None:
            return str(self.facts.age.source)
        return "profile" if self.facts.sex_source is None else str(self.facts.sex_source)

    def conditions_of(self, targets: frozenset[str]) -> list[Tagged[ConditionFact]]:
        return [t for t in self.conditions if t.concepts & targets]

    @cached_property
    def diagnosed_cancers(self) -> list[Tagged[ConditionFact]]:
        return [t for t in self.conditions if t.fact.present and "cancer" in t.concepts]


# Calendar arithmetic is slow (relativedelta) and the same few limits recur in every trial: remember them.
@lru_cache(maxsize=65_536)
def anniversary(born: dt.date, value: float, unit: str) -> dt.date:
    """The date someone born on ``born`` reaches ``value`` ``unit`` of age (fractions counted in days)."""
    if unit == "hours":
        return born + dt.timedelta(days=value / 24)
    whole = int(value)
    date = born + _UNIT_DELTA[unit](whole)
    if value != whole:
        days_per = {"days": 1, "weeks": 7, "months": 30.4375, "years": 365.25}[unit]
        date += dt.timedelta(days=round((value - whole) * days_per))
    return date


@lru_cache(maxsize=65_536)
def shift(date: dt.date, value: float, unit: str, *, back: bool = True) -> dt.date:
    """``date`` moved ``value`` ``unit`` back (or forward) in calendar terms."""
    if unit == "hours":
        delta = dt.timedelta(days=value / 24)
        return date - delta if back else date + delta
    whole = int(value)
    moved = date - _UNIT_DELTA[unit](whole) if back else date + _UNIT_DELTA[unit](whole)
    if value != whole:
        days = round((value - whole) * {"days": 1, "weeks": 7, "months": 30.4375, "years": 365.25}[unit])
        moved = moved - dt.timedelta(days=days) if back else moved + dt.timedelta(days=days)
    return moved
