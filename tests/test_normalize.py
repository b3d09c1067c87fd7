"""The shared normalisers turn each source's wording into CT.gov values."""

from __future__ import annotations

import pytest

from trialmatch.trials.normalize import parse_age, parse_date, parse_phases, parse_sex, parse_status
from trialmatch.trials.record import OverallStatus, Phase


@pytest.mark.parametrize(
    ("text", "value", "unit", "days"),
    [
        ("18 Years", 18, "Years", 6574.5),
        ("6 Months", 6, "Months", 182.625),
        ("28 Days", 28, "Days", 28),
        ("1 Month", 1, "Months", 30.4375),
        ("204 Months", 204, "Months", 6209.25),
        ("2 weeks", 2, "Weeks", 14),
    ],
)
def test_ages_keep_value_unit_and_wording(text: str, value: float, unit: str, days: float) -> None:
    age = parse_age(text)
    assert age is not None
    assert (age.value, age.unit, age.text) == (value, unit, text)
    assert age.in_days() == pytest.approx(days)


@pytest.mark.parametrize("text", ["N/A", "", "  ", None, "old enough", "18 parsecs"])
def test_no_age_limit_or_unreadable_age_is_none(text: str | None) -> None:
    assert parse_age(text) is None


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Recruiting", OverallStatus.RECRUITING),
        ("Active, not recruiting", OverallStatus.ACTIVE_NOT_RECRUITING),
        ("ACTIVE_NOT_RECRUITING", OverallStatus.ACTIVE_NOT_RECRUITING),
        ("Not yet recruiting", OverallStatus.NOT_YET_RECRUITING),
        ("Enrolling by invitation", OverallStatus.ENROLLING_BY_INVITATION),
        ("unknown status", OverallStatus.UNKNOWN),
        ("Please note - this trial is no longer recruiting patients.", OverallStatus.ACTIVE_NOT_RECRUITING),
        ("This study is now closed for inclusion.", OverallStatus.ACTIVE_NOT_RECRUITING),
        ("Non Recruiting", OverallStatus.ACTIVE_NOT_RECRUITING),
        ("completed", OverallStatus.COMPLETED),
        ("terminated", OverallStatus.TERMINATED),
    ],
)
def test_status_wording_maps_to_ctgov(text: str, status: OverallStatus) -> None:
    assert parse_status(text) is status


def test_unrecognised_status_is_none_not_a_guess() -> None:
    assert parse_status("see website") is None


@pytest.mark.parametrize(
    ("text", "phases"),
    [
        ("Phase 1/Phase 2", [Phase.PHASE1, Phase.PHASE2]),
        ("phase 1/phase 2", [Phase.PHASE1, Phase.PHASE2]),
        ("A Phase 1/2 Open-label Study", [Phase.PHASE1, Phase.PHASE2]),
        ("PHASE2", [Phase.PHASE2]),
        ("Phase II", [Phase.PHASE2]),
        ("early phase 1", [Phase.EARLY_PHASE1]),
        ("N/A", [Phase.NA]),
        ("a study", []),
    ],
)
def test_phases(text: str, phases: list[Phase]) -> None:
    assert parse_phases(text) == phases


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("July 1, 2022", "2022-07-01"),
        ("May 2022", "2022-05"),
        ("14 October 2022", "2022-10-14"),
        ("2024-07-23", "2024-07-23"),
        ("2024-07", "2024-07"),
        ("not a date", None),
        ("", None),
    ],
)
def test_dates_keep_their_precision(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_sex() -> None:
    assert [parse_sex(s) for s in ("All", "ALL", "Female", "male", "unicorn")] == ["ALL", "ALL", "FEMALE", "MALE", None]
