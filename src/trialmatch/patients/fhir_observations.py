"""FHIR R4 Observations -> performance status, pregnancy, cancer qualifiers and lab results.

Which observation is which comes from ``data/fhir/observations.yaml``: performance scales and pregnancy
by code; mCODE disease status and genomic variants as qualifiers of the cancer they are about;
immunophenotype and CSF results read from their result text; anything else with a number is a lab value, and
a panel's numbered components (a blood pressure's systolic and diastolic) are one lab value each.
An observation none of these can use is reported in the warnings, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from trialmatch.data import read_yaml
from trialmatch.patients.facts import BooleanFact, LabFact, PerformanceFact
from trialmatch.patients.fhir_clinical import date_of, source
from trialmatch.patients.fhir_datatypes import (
    code_maps,
    code_value,
    codings,
    concept_name,
    concept_text,
    has_code,
    number,
    obj,
    objs,
    text,
)
from trialmatch.patients.fhir_record import RecordReading

_UNUSED = "not used; no patient fact holds this kind of result"
_UCUM = "http://unitsofmeasure.org"
#: A marker's result written right after it: "CD19+", "CD19-negative", "CD19 pos" ("CD10-CD19" is not one).
_WRITTEN_POLARITY = r"(\+|[-−](?!\w)|positive|negative|pos\b|neg\b)"


def read_observation(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    if text(resource, "status") in ("entered-in-error", "cancelled"):
        return
    code = obj(resource, "code")
    name = concept_name(code)
    if name is None:
        record.warn(ref, "observation without a code or text; skipped")
        return
    when = resource.get("effectiveDateTime") or obj(resource, "effectivePeriod").get("start")
    date = date_of(record, ref, "date", when or resource.get("effectiveInstant"))
    for reader in _READERS:
        if reader(resource, ref, record, name, date):
            return
    record.warn(ref, f"{name}: {_UNUSED}")


_Reader = Callable[[dict[str, Any], str, RecordReading, str, dt.date | None], bool]


def _performance(resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None) -> bool:
    scale = _scale_of(obj(resource, "code"), name)
    if scale is None:
        return False
    spec, limits = code_maps("observations")["performance"][scale], _scales()[scale]
    # A lenient read may meet both a number and a coded answer: use them only when they agree.
    quantity = obj(resource, "valueQuantity")
    scores = {value for value in (
        number(resource.get("valueInteger")), None if "comparator" in quantity else number(quantity.get("value")),
        number(code_value(obj(resource, "valueCodeableConcept"), spec.get("answers", {})))) if value is not None}
    if len(scores) > 1:
        record.warn(ref, f"{limits['name']} has disagreeing scores ({', '.join(f'{v:g}' for v in sorted(scores))}); "
                         "not used")
        return True
    value = next(iter(scores), None)
    low, high = limits["range"]
    step = limits.get("step", 1)
    if value is None:
        record.warn(ref, f"{limits['name']} without a score; not used")
    elif not (low <= value <= high and abs((value - low) / step - round((value - low) / step)) < 1e-9):
        steps = f" in steps of {step}" if step != 1 else ""
        record.warn(ref, f"{limits['name']} {value:g} is not a valid score ({low}-{high}{steps}); not used")
    else:
        record.facts.performance.append(PerformanceFact(scale=scale, value=value, date=date, source=source(ref)))
    return True


def _scale_of(code: dict[str, Any], name: str) -> str | None:
    scales = code_maps("observations")["performance"]
    for scale, spec in scales.items():
        if has_code(code, spec.get("codes", {})):
            return scale
    for scale, spec in scales.items():
        if any(re.search(rf"\b{re.escape(word)}\b", name, re.IGNORECASE) for word in spec.get("names", [])):
            return scale
    return None


@cache
def _scales() -> dict[str, Any]:
    """Names, ranges and steps of the performance scales, shared with the criteria compiler."""
    return read_yaml("criteria/performance.yaml")["scales"]


def _number_value(resource: dict[str, Any]) -> float | None:
    if "valueInteger" in resource:
        return number(resource["valueInteger"])
    quantity = obj(resource, "valueQuantity")
    return number(quantity.get("value")) if quantity and "comparator" not in quantity else None


def _pregnancy(resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None) -> bool:
    spec = code_maps("observations")["pregnancy"]
    if not has_code(obj(resource, "code"), spec["codes"]):
        return False
    value = obj(resource, "valueCodeableConcept")
    found = True if has_code(value, spec["pregnant"]) else False if has_code(value, spec["not_pregnant"]) else None
    if found is None:
        record.warn(ref, f"{name}: result is neither pregnant nor not pregnant; pregnancy will be asked")
        return True
    earlier = record.facts.pregnant
    if earlier is None or earlier.date is None or (date is not None and date >= earlier.date):
        record.facts.pregnant = BooleanFact(value=found, date=date, source=source(ref))
    return True


def _focus(resource: dict[str, Any]) -> list[str | None]:
    return [text(item, "reference") for item in objs(resource, "focus")]


def _cancer(resource: dict[str, Any], ref: str, record: RecordReading, name: str) -> str | None:
    cancer = record.cancer_for(_focus(resource))
    if cancer is None:
        record.warn(ref, f"{name}: no single cancer condition it is about; not used")
    return cancer


def _disease_status(
    resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None
) -> bool:
    spec = code_maps("observations")["disease_status"]
    if not has_code(obj(resource, "code"), spec["codes"]):
        return False
    value = obj(resource, "valueCodeableConcept")
    remission = code_value(value, spec["remission"])
    if remission is None:
        record.warn(ref, f"{name} '{concept_text(value) or 'no value'}': {_UNUSED}")
    elif cancer := _cancer(resource, ref, record, name):
        record.qualify(cancer, "remission", remission, date)
    return True


def _genomics(resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None) -> bool:
    spec = code_maps("observations")["genomics"]
    if not has_code(obj(resource, "code"), spec["codes"]):
        return False
    by_id = {hgnc.upper(): symbol for symbol, hgnc in spec["genes"].items()}
    genes: list[str] = []
    fusion = False
    for component in objs(resource, "component"):
        value = obj(component, "valueCodeableConcept")
        if has_code(obj(component, "code"), spec["gene_studied"]):
            genes.extend(_gene_symbol(coding.code, coding.display, by_id) for coding in codings(value)[:1])
        elif has_code(obj(component, "code"), spec["change_type"]):
            fusion = fusion or any(c.code in spec["fusion_change_types"] for c in codings(value))
    fusion = fusion or len(genes) >= 2
    value = obj(resource, "valueCodeableConcept")
    found = True if has_code(value, spec["present"]) else False if has_code(value, spec["absent"]) else None
    label = "-".join(genes) or "unnamed gene"
    for finding in spec["findings"]:
        named = {g.upper() for g in finding["genes"]} <= {g.upper() for g in genes}
        if named and (fusion or not finding.get("fusion")):
            if found is None:
                record.warn(ref, f"{label} variant: neither present nor absent; not used")
            elif cancer := _cancer(resource, ref, record, f"{label} variant"):
                record.qualify(cancer, finding["field"], finding["found" if found else "not_found"], date)
            return True
    record.warn(ref, f"{label} variant: {_UNUSED}")
    return True


def _gene_symbol(code: str, display: str | None, by_id: dict[str, str]) -> str:
    """A gene's HGNC symbol: from its HGNC id when we know it, else the display, else the id."""
    key = code.upper() if code.upper().startswith("HGNC:") else f"HGNC:{code}"
    return by_id.get(key) or (display or code).strip()


def _result_text(resource: dict[str, Any]) -> str | None:
    return text(resource, "valueString") or concept_text(obj(resource, "valueCodeableConcept"))


def _immunophenotype(
    resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None
) -> bool:
    spec = code_maps("observations")["immunophenotype"]
    if not has_code(obj(resource, "code"), spec["codes"]):
        return False
    result = _result_text(resource) or ""
    read_any = False
    for marker, field_name in spec["markers"].items():
        polarity = _marker_polarity(result, marker, spec["positive"], spec["negative"])
        if polarity is not None and (cancer := _cancer(resource, ref, record, name)):
            record.qualify(cancer, field_name, polarity, date)
            read_any = True
    if not read_any:
        record.warn(ref, f"{name}: none of {', '.join(spec['markers'])} found in the result; not used")
    return True


def _marker_polarity(result: str, marker: str, positive: list[str], negative: list[str]) -> str | None:
    """'positive' / 'negative' for a marker in a phenotype like "positive for CD10, CD19 and CD20; CD34-"."""
    polarity = {p.lower(): "positive" for p in positive} | {n.lower(): "negative" for n in negative}
    # Longest phrase first, so "not expressing" is read whole rather than as "expressing".
    phrases = re.compile("|".join(re.escape(p) for p in sorted(polarity, key=len, reverse=True)), re.I)
    for sentence in re.split(r"[.;\n]", result):
        written = re.search(rf"\b{re.escape(marker)}\b\s*-?\s*{_WRITTEN_POLARITY}", sentence, re.I)
        if written:
            return "positive" if written.group(1).lower() in ("+", "positive", "pos") else "negative"
        at = re.search(rf"\b{re.escape(marker)}\b", sentence, re.I)
        said = [m.group(0).lower() for m in phrases.finditer(sentence[: at.start()])] if at else []
        if said:
            return polarity[said[-1]]
    return None


def _cns_status(resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None) -> bool:
    spec = code_maps("observations")["cns_status"]
    procedures = [record.resource(text(item, "reference")) for item in objs(resource, "partOf")]
    if not any(p and has_code(obj(p, "code"), spec["procedures"]) for p in procedures):
        return False
    result = _result_text(resource) or ""
    for status, phrases in spec["statuses"].items():
        if any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", result, re.I) for p in phrases):
            if cancer := _cancer(resource, ref, record, "CSF result"):
                record.qualify(cancer, "cns_status", status, date)
            return True
    record.warn(ref, "CSF result does not say the CNS status; it will be asked")
    return True


def _lab(resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None) -> bool:
    quantity = obj(resource, "valueQuantity")
    if quantity and "comparator" in quantity:
        record.warn(ref, f"{name} is given as '{quantity.get('comparator')} {quantity.get('value')}', "
                         "not an exact value; criteria on it will be asked")
        return True
    value = _number_value(resource)
    if value is None:
        return False
    unit = _unit(quantity) if quantity else None
    low = high = None
    for limits in objs(resource, "referenceRange"):
        low = low if low is not None else _limit(obj(limits, "low"), unit)
        high = high if high is not None else _limit(obj(limits, "high"), unit)
    record.facts.labs.append(LabFact(
        name=name, codes=codings(obj(resource, "code")), value=value, unit=unit, date=date, low=low, high=high,
        source=source(ref)))
    return True


def _components(resource: dict[str, Any], ref: str, record: RecordReading, name: str, date: dt.date | None) -> bool:
    """A panel whose values are in its components (a blood pressure: systolic 8480-6 and diastolic 8462-4 under
    85354-9): one lab value per coded component with a number. A component's own comparator ("> 180") is not exact
    and is left out with a warning, as for a whole observation."""
    if _number_value(resource) is not None:
        return False
    read = False
    for index, component in enumerate(objs(resource, "component")):
        quantity = obj(component, "valueQuantity")
        value = number(quantity.get("value")) if quantity else None
        component_name = concept_name(obj(component, "code"))
        if value is None or component_name is None:
            continue
        read = True
        if "comparator" in quantity:
            record.warn(ref, f"{component_name} is given as '{quantity.get('comparator')} {quantity.get('value')}', "
                             "not an exact value; criteria on it will be asked")
            continue
        record.facts.labs.append(LabFact(
            name=component_name, codes=codings(obj(component, "code")), value=value, unit=_unit(quantity), date=date,
            source=source(f"{ref}#component[{index}]")))
    return read


def _unit(quantity: dict[str, Any]) -> str | None:
    """A quantity's unit: its UCUM code when it has one (the standard spelling), else the unit as written."""
    if text(quantity, "system") == _UCUM and text(quantity, "code"):
        return text(quantity, "code")
    return text(quantity, "unit") or text(quantity, "code")


def _limit(quantity: dict[str, Any], unit: str | None) -> float | None:
    """A reference-range limit, only when it is in the result's unit (or names none)."""
    limit_unit = _unit(quantity)
    return number(quantity.get("value")) if limit_unit is None or limit_unit == unit else None


_READERS: tuple[_Reader, ...] = (
    _performance, _pregnancy, _disease_status, _genomics, _immunophenotype, _cns_status, _components, _lab)
