"""Kleene three-valued logic, plus "does not apply".

A truth is ``True``, ``False``, ``None`` (unknown) or ``NA`` (the rule doesn't concern this patient, such
as a contraception rule for a sex it does not name). NA children are left out of ``all`` and ``any``; a
node whose children are all NA is NA.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

NotApplicable = Literal["n/a"]
NA: Final[NotApplicable] = "n/a"
Truth = bool | None | NotApplicable

#: Truths as small ints, for judging many trials at once in numpy arrays.
FALSE_CODE, TRUE_CODE, UNKNOWN_CODE, NA_CODE = 0, 1, 2, 3
TRUTH_CODE: Final[dict[Truth, int]] = {False: FALSE_CODE, True: TRUE_CODE, None: UNKNOWN_CODE, NA: NA_CODE}


def kleene_all(values: Iterable[Truth]) -> Truth:
    result: Truth = NA
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
        elif value is True and result is NA:
            result = True
    return result


def kleene_any(values: Iterable[Truth]) -> Truth:
    result: Truth = NA
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
        elif value is False and result is NA:
            result = False
    return result


def kleene_not(value: Truth) -> Truth:
    if value is None or value is NA:
        return value
    return not value
