"""Read a patient's FHIR R4 Bundle (JSON) into patient facts.

Real records are often not quite valid FHIR: ids with underscores, an Observation with two values, a
field that should be a list. So the bundle is read resource by resource. Each resource the reader uses is
checked against the strict FHIR R4B models of fhir.resources; one that fails is still read from its JSON
as far as it makes sense, with a warning that names it and the problem. A resource that can't be read at
all is skipped with a warning. One bad resource never loses the patient. Only input that is not a FHIR
resource at all (not JSON, not a Bundle) raises ``PatientReadError``.

Valid and lenient resources go through the same JSON readers, so a fact reads the same either way.
Every fact's source is ``Source(kind="fhir", reference="Type/id")``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from trialmatch.patients.concepts import resolve_concepts
from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.fhir_clinical import (
    read_allergy,
    read_condition,
    read_family_history,
    read_medication,
    read_patient,
    read_procedure,
)
from trialmatch.patients.fhir_datatypes import obj, text
from trialmatch.patients.fhir_observations import read_observation
from trialmatch.patients.fhir_record import RecordReading

_Reader = Callable[[dict[str, Any], str, RecordReading], None]

#: The resources that hold patient facts, in the order they are read: the patient first, conditions
#: before the observations that qualify them, procedures before results that are part of one.
READERS: dict[str, _Reader] = {
    "Patient": read_patient,
    "Condition": read_condition,
    "FamilyMemberHistory": read_family_history,
    "Procedure": read_procedure,
    "MedicationStatement": read_medication,
    "MedicationRequest": read_medication,
    "MedicationAdministration": read_medication,
    "AllergyIntolerance": read_allergy,
    "Observation": read_observation,
}
_SUBJECT_FIELDS = ("subject", "patient")
_HOW_TO = "give a FHIR R4 Bundle in JSON (or a single Patient resource)"


def read_fhir_bundle(bundle: str | Path | Mapping[str, Any]) -> PatientFacts:
    """Facts from a FHIR R4 Bundle: a file (``Path``), JSON text (``str``), or the parsed JSON object.

    Text is never taken for a file name, so text from a user can't make the reader open a file.

    A single resource (a Patient, a Condition …) is read as a bundle of one.
    """
    data, origin = _load(bundle)
    entries = _entries(data, origin)
    record = RecordReading()
    _check_envelope(data, record)
    ordered: dict[str, list[tuple[str, dict[str, Any]]]] = {kind: [] for kind in READERS}
    for position, entry in enumerate(entries):
        found = _resource(entry, position, record)
        if found is not None:
            ordered[found[1]["resourceType"]].append(found)
    if len(ordered["Patient"]) > 1:
        raise PatientReadError(
            f"{origin}: the Bundle holds {len(ordered['Patient'])} patients; give one patient's record at a time")
    for kind, found in ordered.items():
        for ref, resource in found:
            _read_one(READERS[kind], resource, ref, record)
    facts = record.facts
    if not ordered["Patient"]:
        record.warn("Bundle", "no Patient resource: birth date and sex will be asked")
    if not any((facts.birth_date, facts.sex, facts.conditions, facts.labs, facts.performance, facts.therapies,
                facts.infections, facts.allergies, facts.pregnant)):
        problems = "; ".join(facts.warnings[:3]) or "it holds no Patient, Condition, Observation or medication"
        raise PatientReadError(f"{origin}: nothing in it could be read as patient facts ({problems}); {_HOW_TO}")
    return resolve_concepts(facts, record.vocabulary)


def _load(bundle: str | Path | Mapping[str, Any]) -> tuple[object, str]:
    """The parsed JSON and a name for it in messages."""
    if isinstance(bundle, Mapping):
        return dict(bundle), "FHIR input"
    if isinstance(bundle, str):
        bundle = bundle.lstrip("\ufeff")  # a byte-order mark pasted along with the text
    if isinstance(bundle, Path):
        path = bundle
        try:
            raw = path.read_text("utf-8-sig")
        except UnicodeDecodeError:
            raise PatientReadError(f"{path}: not UTF-8 text; save the FHIR file as UTF-8 JSON") from None
        except OSError as error:
            raise PatientReadError(f"{path}: can't read it ({error.strerror or error}); check the path") from None
        origin = str(path)
    else:
        raw, origin = bundle, "FHIR text"
    if raw.lstrip().startswith("<"):
        raise PatientReadError(f"{origin}: FHIR XML is not supported; export the record as FHIR JSON")
    try:
        return json.loads(raw), origin
    except json.JSONDecodeError as error:
        raise PatientReadError(
            f"{origin}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); check the file is "
            f"complete, or {_HOW_TO}") from None
    except RecursionError:
        raise PatientReadError(f"{origin}: JSON nested too deeply to be a FHIR record; {_HOW_TO}") from None


def _entries(data: object, origin: str) -> list[object]:
    if not isinstance(data, dict):
        raise PatientReadError(f"{origin}: a JSON {type(data).__name__.replace('dict', 'object')}, not a FHIR "
                               f"resource; {_HOW_TO}")
    kind = data.get("resourceType")
    if not isinstance(kind, str) or not kind.strip():
        raise PatientReadError(f"{origin}: no resourceType, so not a FHIR resource; {_HOW_TO}")
    if kind == "Bundle":
        entries = data.get("entry")
        if not isinstance(entries, list) or not entries:
            raise PatientReadError(f"{origin}: the Bundle has no entries; {_HOW_TO}")
        return entries
    if kind in READERS:
        return [{"resource": data}]
    raise PatientReadError(f"{origin}: a FHIR {kind} holds no patient facts; {_HOW_TO}")


def _check_envelope(bundle: dict[str, Any], record: RecordReading) -> None:
    """Report a Bundle whose own fields (id, type …) aren't valid R4; its entries are checked one by one."""
    if bundle.get("resourceType") != "Bundle":
        return
    problem = _invalid({key: value for key, value in bundle.items() if key != "entry"})
    if problem:
        record.warn(f"Bundle/{bundle.get('id')}" if bundle.get("id") else "Bundle", f"not valid FHIR R4 ({problem})")


def _resource(entry: object, position: int, record: RecordReading) -> tuple[str, dict[str, Any]] | None:
    """The ("Type/id", JSON) of an entry this reader uses, registered for references; None to skip it."""
    where = f"Bundle.entry[{position}]"
    resource = obj(entry, "resource")
    kind = resource.get("resourceType")
    if not resource or not isinstance(kind, str):
        record.warn(where, "no resource with a resourceType; skipped")
        return None
    ref, new = record.add_resource(resource, text(entry, "fullUrl"), position)
    if kind not in READERS:
        return None  # Practitioners, Encounters, Medications …: kept only so references to them resolve
    if not new:
        record.warn(ref, "appears more than once in the Bundle; read once")
        return None
    return ref, resource


def _read_one(reader: _Reader, resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    problem = _invalid(resource)
    if problem:
        record.warn(ref, f"not valid FHIR R4 ({problem}); read leniently")
    _check_subject(resource, ref, record)
    try:
        reader(resource, ref, record)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        # Lenient reading of an invalid resource met a shape no reader expects: lose it, not the patient.
        record.warn(ref, f"could not be read ({type(error).__name__}); skipped")


def _check_subject(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    for field in _SUBJECT_FIELDS:
        subject = record.resolve(text(obj(resource, field), "reference"))
        if subject and record.patient and subject.startswith("Patient/") and subject != record.patient:
            record.warn(ref, f"refers to another patient ({subject}); read as this record's patient")


def _invalid(resource: dict[str, Any]) -> str | None:
    """Why a resource is not valid FHIR R4, in a few words; None when it is."""
    try:
        model = get_fhir_model_class(str(resource.get("resourceType")))
    except (KeyError, ValueError):
        return f"unknown resource type {resource.get('resourceType')!r}"
    try:
        model.model_validate(resource)
    except ValidationError as error:
        return "; ".join(_describe(e) for e in error.errors()[:2]) + (
            f"; and {error.error_count() - 2} more" if error.error_count() > 2 else "")
    except (TypeError, ValueError) as error:
        return f"{type(error).__name__}"
    return None


_CHOICE = re.compile(r"from this list \['([a-z]+)[A-Z]")


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "resource"
    message = str(error["msg"])
    choice = _CHOICE.search(message)
    if choice and "multiple" in message:
        return f"more than one {choice.group(1)}[x]"
    if error["type"] == "string_pattern_mismatch" and where.endswith("id"):
        return f"{where} {error.get('input')!r} has characters an id may not"
    if error["type"] == "extra_forbidden":
        return f"unknown field {where}"
    return f"{where}: {message.removeprefix('Value error, ')[:80]}"
