"""Order trial matches: eligible first, then possibly eligible by how much is settled, then the rest."""

from __future__ import annotations

from collections.abc import Iterable, Sized
from operator import attrgetter
from typing import Protocol, TypeVar

from trialmatch.matching.verdicts import TrialVerdict

_ORDER = {TrialVerdict.ELIGIBLE: 0, TrialVerdict.POSSIBLY_ELIGIBLE: 1, TrialVerdict.NOT_ELIGIBLE: 2}


class Ranked(Protocol):
    """A ``TrialMatch`` or a ``Judgement``: anything with a verdict and its open questions."""

    trial_id: str
    verdict: TrialVerdict
    distance_km: float | None

    @property
    def open(self) -> Sized: ...

    @property
    def settled_share(self) -> float: ...


RankedT = TypeVar("RankedT", bound=Ranked)


def rank(matches: Iterable[RankedT]) -> list[RankedT]:
    """Eligible, then possibly eligible (most settled and fewest open questions first), then not eligible.

    Among equals the nearer site comes first, then the trial id, so the order is stable.
    """
    # Stable sorts from the last key to the first, each on a plain key (a screening ranks thousands of trials,
    # and one sort on a tuple of five keys, most of them computed in Python, cost more than judging them).
    ordered = sorted(matches, key=_TRIAL_ID)
    if any(m.distance_km is not None for m in ordered):
        ordered.sort(key=_distance)
    ordered.sort(key=_settled)
    buckets: dict[TrialVerdict, list[RankedT]] = {verdict: [] for verdict in _ORDER}
    for match in ordered:
        buckets[match.verdict].append(match)
    return [match for verdict in _ORDER for match in buckets[verdict]]


_TRIAL_ID = attrgetter("trial_id")


def _distance(match: Ranked) -> float:
    return match.distance_km if match.distance_km is not None else float("inf")


def _settled(match: Ranked) -> tuple[float, int]:
    opened = len(match.open)
    return -round(match.settled_share, 3), opened
