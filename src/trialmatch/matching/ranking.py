"""Order trial matches: eligible first, then possibly eligible by how much is settled, then the rest."""

from __future__ import annotations

from collections.abc import Iterable, Sized
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
    return sorted(matches, key=lambda m: (
        _ORDER[m.verdict],
        -round(m.settled_share, 3),
        len(m.open),
        m.distance_km if m.distance_km is not None else float("inf"),
        m.trial_id,
    ))
