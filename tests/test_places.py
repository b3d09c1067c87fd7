"""Places resolve offline, and distances are great-circle."""

from __future__ import annotations

import pytest

from trialmatch.places import UnknownPlace, country_code, distance_km, locate_city, parse_place


def test_leeds_from_the_gazetteer() -> None:
    leeds = parse_place("Leeds")
    assert (round(leeds.lat, 2), round(leeds.lon, 2), leeds.country_code) == (53.80, -1.55, "GB")
    assert parse_place("Leeds, UK") == leeds


def test_latitude_longitude() -> None:
    place = parse_place("53.80, -1.55")
    assert (place.lat, place.lon) == (53.80, -1.55)


def test_city_is_looked_up_in_its_country() -> None:
    assert locate_city("Hefei", "China").country_code == "CN"
    assert locate_city("Mobile", "United States").country_code == "US"
    assert locate_city("Leeds", "China") is None


@pytest.mark.parametrize("text", ["Xanadu-upon-Thames", "", "123,456"])
def test_unknown_places_say_what_to_do(text: str) -> None:
    with pytest.raises(UnknownPlace, match="latitude"):
        parse_place(text)


def test_country_aliases() -> None:
    assert country_code("UK") == country_code("United Kingdom") == "GB"
    assert country_code("Korea, Republic of") == "KR"


def test_leeds_to_london_is_about_270_km() -> None:
    assert distance_km(53.7965, -1.5479, 51.5085, -0.1257) == pytest.approx(272, abs=3)
