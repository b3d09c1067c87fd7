"""Read FHIR R4 datatypes (CodeableConcept, Quantity, Period, Reference, dates) from resource JSON.

Every accessor takes whatever the JSON holds and returns ``None`` or an empty list when the shape is
wrong, so a resource that failed strict validation is read as far as it makes sense and no further.
``code_maps`` gives the reader's code tables in ``data/fhir``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from trialmatch.data import read_yaml
from trialmatch.patients.concepts import CODE_SYSTEMS
from trialmatch.patients.facts import Coding

#: A FHIR date or dateTime: a year, a year-month, or a full date with an optional time.
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?$")


def obj(data: object, key: str) -> dict[str, Any]:
    """``data[key]`` when it is a JSON object, else an empty one."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def objs(data: object, key: str) -> list[dict[str, Any]]:
    """The JSON objects in the list ``data[key]`` (a single object is read as a list of one)."""
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, dict):
        return [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def text(data: object, key: str) -> str | None:
    value = data.get(key) if isinstance(data, dict) else None
    return (value.strip() or None) if isinstance(value, str) else None


def number(value: object) -> float | None:
    """A JSON number (not a boolean), or a numeric string as some exporters write them."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def short_system(uri: str | None) -> str | None:
    """The vocabulary's short name (snomed, loinc …) for a code system URI, if it is one we know."""
    if not uri:
        return None
    return CODE_SYSTEMS.get(uri.rstrip("/").lower()) or CODE_SYSTEMS.get(uri)


def codings(concept: object) -> list[Coding]:
    """The codings of a CodeableConcept (or of a bare Coding), skipping ones without a code."""
    found: list[Coding] = []
    items = objs(concept, "coding") if isinstance(concept, dict) and "coding" in concept else [concept]
    for item in items:
        code = item.get("code") if isinstance(item, dict) else None
        if isinstance(code, str | int) and str(code).strip():
            found.append(Coding(system=text(item, "system"), code=str(code).strip(), display=text(item, "display")))
    return found


def concept_text(concept: object) -> str | None:
    """What a CodeableConcept says in words: its text, else its first display."""
    said = text(concept, "text")
    if said:
        return said
    return next((c.display for c in codings(concept) if c.display), None)


def concept_name(concept: object) -> str | None:
    """A name for a coded thing: its words, else its first code (``LOINC 718-7``)."""
    said = concept_text(concept)
    if said:
        return said
    first = next(iter(codings(concept)), None)
    if first is None:
        return None
    return f"{(short_system(first.system) or first.system or 'code').upper()} {first.code}"


def first_code(concept: object) -> str | None:
    """The first code of a CodeableConcept: how status fields (clinicalStatus …) are read."""
    return next((coding.code for coding in codings(concept)), None)


def has_code(concept: object, wanted: Mapping[str, Iterable[str]]) -> bool:
    """Whether the concept has one of ``wanted`` ({short system: [codes]})."""
    return any(coding.code in _codes_of(wanted, short_system(coding.system)) for coding in codings(concept))


def code_value(concept: object, table: Mapping[str, object]) -> object | None:
    """The value ``table`` gives for the first of the concept's codes it lists (any system)."""
    for coding in codings(concept):
        if coding.code in table:
            return table[coding.code]
    return None


def _codes_of(wanted: Mapping[str, Iterable[str]], system: str | None) -> set[str]:
    return {str(code) for code in wanted.get(system, ())} if system else set()


def parse_date(value: object) -> tuple[dt.date | None, bool]:
    """A FHIR date or dateTime as a calendar date, as written (no time-zone shift).

    Returns (date, partial): a year or year-month alone gives (None, True), because the matcher can't
    tell which day it was and guessing one could move a washout window or an age across a limit.
    """
    if not isinstance(value, str):
        return None, False
    match = _DATE.match(value.strip())
    if not match:
        return None, False
    year, month, day = match.groups()
    if day is None:
        return None, True
    try:
        return dt.date(int(year), int(month), int(day)), False
    except ValueError:
        return None, False


def reference(data: object, key: str) -> str | None:
    return text(obj(data, key), "reference")


@cache
def code_maps(name: str) -> dict[str, Any]:
    """A code map of ``data/fhir`` (``observations`` or ``statuses``)."""
    return read_yaml(f"fhir/{name}.yaml")
