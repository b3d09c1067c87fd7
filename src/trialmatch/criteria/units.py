"""Clinical units: read the ways criteria write them and convert lab values between them.

``normalise_unit("x 10⁹/L")`` gives the canonical text ``"10**9/L"`` that pint parses; ``convert`` compares a
patient's value in any unit with a rule's threshold (``convert(1000, "/μL", "10**9/L") == 1.0``), converting
mass to amount of substance with the analyte's molar mass (bilirubin 1.5 mg/dL = 25.65 µmol/L). The unit
definitions and spellings live in ``data/criteria/units.yaml``; each lab concept's canonical unit, molar
mass and default limits of normal live in its vocabulary ``properties``.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

import pint
import yaml

from trialmatch.vocabulary.concepts import Concept, load_vocabulary

#: Length-preserving folds, so offsets in folded text are offsets in the original.
_FOLD = str.maketrans({"µ": "u", "μ": "u", "⁰": "0", "¹": "1", "²": "2", "³": "3", "⁴": "4", "⁵": "5",
                       "⁶": "6", "⁷": "7", "⁸": "8", "⁹": "9", "⁻": "-", "−": "-", "\u00a0": " "})


class UnitError(ValueError):
    """A unit nobody defined, or two units that measure different things."""


def fold(text: str) -> str:
    """``text`` with micro signs as "u", superscript digits as plain digits and "−" as "-"; same length."""
    return text.translate(_FOLD)


@cache
def _data() -> dict[str, object]:
    raw = resources.files("trialmatch.data").joinpath("criteria/units.yaml").read_text("utf-8")
    return yaml.safe_load(raw)


def _spaced(pattern: str) -> str:
    return pattern.replace(" ", r"\s*")


@cache
def _spellings() -> tuple[tuple[str, re.Pattern[str]], ...]:
    data = _data()
    out: list[tuple[str, re.Pattern[str]]] = []
    for key, flags in (("case_sensitive", 0), ("spellings", re.IGNORECASE), ("volumes", re.IGNORECASE)):
        for canonical, patterns in (data.get(key) or {}).items():  # type: ignore[union-attr]
            for pattern in patterns:
                out.append((str(canonical), re.compile(_spaced(pattern), flags)))
    return tuple(out)


@cache
def unit_pattern() -> str:
    """A regular expression for any unit spelling, to embed after a number (match it on ``fold``-ed text).

    Case-sensitive spellings are wrapped in ``(?-i:…)`` so the pattern can be used case-insensitively.
    """
    data = _data()
    parts = [f"(?-i:{_spaced(p)})" for ps in (data.get("case_sensitive") or {}).values() for p in ps]  # type: ignore[union-attr]
    parts += [_spaced(p) for ps in (data.get("spellings") or {}).values() for p in ps]  # type: ignore[union-attr]
    # Longest first, and a unit must end at a word boundary ("mL/min" is not the start of "mL/min/1.73 m2").
    return rf"(?:{'|'.join(sorted(parts, key=len, reverse=True))})(?![\w/²³])"


@cache
def registry() -> pint.UnitRegistry:
    """A pint registry with the clinical units; built once (it takes a moment)."""
    try:  # pint's cache of its parsed definitions (in the user's cache folder) makes this ~8x faster
        ureg = pint.UnitRegistry(on_redefinition="ignore", cache_folder=":auto:")
    except OSError:  # no writable cache folder
        ureg = pint.UnitRegistry(on_redefinition="ignore")
    for line in str(_data().get("definitions") or "").splitlines():
        if line.strip():
            ureg.define(line.strip())
    return ureg


def normalise_unit(text: str | None) -> str | None:
    """The canonical pint text for a written unit ("/μL" → "cells/uL", "mg/dl" → "mg/dL"), else None."""
    if not text:
        return None
    return _normalise(text)


@lru_cache(maxsize=4096)
def _normalise(text: str) -> str | None:
    # Criteria write the same few units over and over; each spelling is tried once.
    written = " ".join(fold(text).split()).strip()
    for canonical, pattern in _spellings():
        if pattern.fullmatch(written):
            return canonical
    return None


def _quantity(unit: str) -> pint.Quantity:
    """``unit`` (written or canonical) as a pint quantity: "10**9/L" keeps its factor of 10^9."""
    canonical = normalise_unit(unit) or unit
    try:
        parsed = registry().parse_expression(canonical)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, TypeError,
            SyntaxError, ValueError) as error:
        raise UnitError(f"unknown unit: {unit!r}") from error
    if not isinstance(parsed, pint.Quantity):  # a bare number such as "1"
        parsed = registry().Quantity(float(parsed), "dimensionless")
    return parsed


def convert(value: float, from_unit: str, to_unit: str, molar_mass: float | None = None) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit``.

    ``molar_mass`` (g/mol) allows mass ↔ amount-of-substance concentrations (mg/dL ↔ µmol/L). Raises
    ``UnitError`` when either unit is unknown or they measure different things.
    """
    source, target = _quantity(from_unit), _quantity(to_unit)
    dimensions = {str(source.dimensionality), str(target.dimensionality)}
    # Mass <-> amount of substance needs the molar mass; pint's chemistry context does that, and only that.
    chemistry = (len(dimensions) == 2 and any("[mass]" in d for d in dimensions)
                 and any("[substance]" in d for d in dimensions))
    if chemistry and not molar_mass:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r} (a molar mass is needed between mass and "
                        "substance)")
    zero = value == 0  # the chemistry context divides by the value
    quantity = (1.0 if zero else value) * source
    try:
        if chemistry:
            converted = quantity.to(target.units, "chemistry", mw=molar_mass * registry()("g/mol"))
        else:
            converted = quantity.to(target.units)
    except (pint.errors.PintError, ZeroDivisionError) as error:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}") from error
    return 0.0 if zero else float(converted.magnitude / target.magnitude)


def _concept(analyte: Concept | str) -> Concept:
    if isinstance(analyte, Concept):
        return analyte
    concept = load_vocabulary().get(analyte)
    if concept is None:
        raise UnitError(f"unknown analyte: {analyte!r}")
    return concept


def molar_mass(analyte: Concept | str) -> float | None:
    value = _concept(analyte).properties.get("molar_mass")
    return float(value) if isinstance(value, int | float) else None


def canonical_unit(analyte: Concept | str) -> str | None:
    """The analyte's canonical unit from its vocabulary properties (``None`` when it has none)."""
    unit = _concept(analyte).properties.get("unit")
    return str(unit) if unit else None


def to_canonical(value: float, unit: str | None, analyte: Concept | str) -> tuple[float, str | None]:
    """``value`` in the analyte's canonical unit, and that unit. A value without a unit is taken as canonical."""
    concept = _concept(analyte)
    canonical = canonical_unit(concept)
    if unit is None or canonical is None:
        return value, canonical if unit is None else unit
    return convert(value, unit, canonical, molar_mass(concept)), canonical


def limit_of_normal(analyte: Concept | str, which: Literal["uln", "lln"],
                    patient_limit: tuple[float, str | None] | None = None) -> tuple[float, str | None] | None:
    """The upper or lower limit of normal to multiply a ``reference`` rule by, in the canonical unit.

    The patient's own reference range (``patient_limit``: value and unit) wins; else the concept's documented
    default; else None (then a "x ULN" rule can't be settled without asking).
    """
    concept = _concept(analyte)
    if patient_limit is not None:
        return to_canonical(patient_limit[0], patient_limit[1], concept)
    key = "upper_limit_of_normal" if which == "uln" else "lower_limit_of_normal"
    default = concept.properties.get(key)
    if not isinstance(default, int | float):
        return None
    return float(default), canonical_unit(concept)
