"""Recognisers: one module per kind of criterion, each a function ``recognise(Passage) -> list[Found]``.

``RECOGNISERS`` is the list the compiler runs, in no particular order: when two findings overlap, the
longer one wins (see ``trialmatch.criteria.compose``).
"""

from trialmatch.criteria.passage import Recogniser
from trialmatch.criteria.recognisers import (
    ages,
    blood_pressure,
    conditions,
    consent,
    expectancy,
    infections,
    labs,
    performance,
    prior_lines,
    recovery,
    reproduction,
    sex,
    therapies,
)

RECOGNISERS: tuple[Recogniser, ...] = (
    ages.recognise,
    performance.recognise,
    labs.recognise,
    therapies.recognise,
    conditions.recognise,
    infections.recognise,
    reproduction.recognise,
    sex.recognise,
    expectancy.recognise,
    prior_lines.recognise,
    recovery.recognise,
    consent.recognise,
    blood_pressure.recognise,
)

__all__ = ["RECOGNISERS"]
