"""FHIR R4 Patient, Condition, FamilyMemberHistory, medication, Procedure and AllergyIntolerance -> facts.

Each reader takes one resource's JSON, its "Type/id" and the record being read; it appends facts, or a
warning saying why the resource gave none. Status codes are read through ``data/fhir/statuses.yaml``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from trialmatch.patients.concepts import concept_for
from trialmatch.patients.facts import (
    AllergyFact,
    Coding,
    ConditionFact,
    InfectionFact,
    Location,
    Source,
    TherapyFact,
)
from trialmatch.patients.fhir_datatypes import (
    code_maps,
    codings,
    concept_name,
    first_code,
    has_code,
    number,
    obj,
    objs,
    parse_date,
    reference,
    text,
)
from trialmatch.patients.fhir_record import RecordReading

#: mCODE marks the cancer a patient is treated for with this profile; findings without a focus attach to it.
PRIMARY_CANCER_PROFILE = "mcode-primary-cancer-condition"
_BIRTH_SEX = "us-core-birthsex"
_GEOLOCATION = "geolocation"
_THERAPY_KINDS = {"drug", "drug_class", "procedure"}


def source(ref: str) -> Source:
    return Source(kind="fhir", reference=ref)


def date_of(record: RecordReading, ref: str, what: str, value: object) -> dt.date | None:
    """A date field, with a warning when it is only a year or a month."""
    date, partial = parse_date(value)
    if partial:
        record.warn(ref, f"{what} '{value}' gives no day; not used")
    return date


def read_patient(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    facts = record.facts
    record.patient = ref
    facts.id = text(resource, "id")
    birth = resource.get("birthDate")
    facts.birth_date, partial = parse_date(birth)
    if birth is None:
        record.warn(ref, "no birth date: age-based criteria will be asked")
    elif facts.birth_date is None:
        problem = "gives no day" if partial else "is not a date"
        record.warn(ref, f"birth date '{birth}' {problem}: age-based criteria will be asked")
    sexes = code_maps("statuses")["sex"]
    gender = text(resource, "gender")
    sex = sexes["gender"].get(gender)
    if sex is None:
        for extension in objs(resource, "extension"):
            if (text(extension, "url") or "").endswith(_BIRTH_SEX):
                sex = sexes["birth_sex"].get(text(extension, "valueCode"))
    if sex is None:
        record.warn(ref, f"sex not given as male or female ({gender or 'no gender'}): sex-based criteria will be asked")
    facts.sex = sex
    facts.sex_source = source(ref) if sex else None
    facts.location = _location(resource)


def _location(resource: dict[str, Any]) -> Location | None:
    addresses = objs(resource, "address")
    home = next((a for a in addresses if text(a, "use") == "home"), addresses[0] if addresses else None)
    if home is None:
        return None
    lat = lon = None
    for extension in objs(home, "extension"):
        if (text(extension, "url") or "").endswith(_GEOLOCATION):
            parts = {text(e, "url"): number(e.get("valueDecimal")) for e in objs(extension, "extension")}
            lat, lon = parts.get("latitude"), parts.get("longitude")
    place = ", ".join(p for p in (text(home, "city"), text(home, "country")) if p) or text(home, "postalCode")
    if place is None and lat is None:
        return None
    return Location(text=place, lat=lat, lon=lon)


def read_condition(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    statuses = code_maps("statuses")
    verification = statuses["condition_verification"].get(first_code(obj(resource, "verificationStatus")), "present")
    if verification == "skip":
        record.warn(ref, "entered in error; skipped")
        return
    code = obj(resource, "code")
    name, codes = concept_name(code), codings(code)
    if name is None:
        record.warn(ref, "condition without a code or text; skipped")
        return
    if verification == "doubtful":
        record.warn(ref, f"{name} is not confirmed; read as present")
    clinical = first_code(obj(resource, "clinicalStatus"))
    resolved = date_of(record, ref, "abatement date", resource.get("abatementDateTime"))
    status = statuses["condition_clinical"].get(clinical)
    if status is None:
        status = "history" if any(key.startswith("abatement") for key in resource) else "active"
        if verification != "absent":
            record.warn(ref, f"{name}: no clinical status; read as {status}")
    onset = resource.get("onsetDateTime") or obj(resource, "onsetPeriod").get("start")
    diagnosed = date_of(record, ref, "onset date", onset)
    concept = concept_for(name, codes, {"condition", "infection"}, record.vocabulary)
    found = record.vocabulary.get(concept) if concept else None
    if found is not None and found.kind == "infection":
        record.facts.infections.append(InfectionFact(
            concept=concept, name=name, codes=codes, present=verification != "absent", date=diagnosed,
            status=statuses["infection_status"][status], source=source(ref)))
        return
    fact = ConditionFact(
        concept=concept, name=name, codes=codes, present=verification != "absent", status=status,
        diagnosed=diagnosed, resolved=resolved, source=source(ref))
    profiles = [p for p in (obj(resource, "meta").get("profile") or []) if isinstance(p, str)]
    record.add_condition(ref, fact, any(p.endswith(PRIMARY_CANCER_PROFILE) for p in profiles))
    if objs(resource, "stage"):
        record.warn(ref, f"{name}: stage recorded; no patient fact holds a stage yet, so stage criteria will be asked")


def read_family_history(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    if text(resource, "status") == "entered-in-error":
        return
    relation = concept_name(obj(resource, "relationship")) or "a relative"
    for condition in objs(resource, "condition"):
        name, codes = concept_name(obj(condition, "code")), codings(obj(condition, "code"))
        if name is None:
            continue
        concept = concept_for(name, codes, {"condition", "infection"}, record.vocabulary)
        record.facts.conditions.append(ConditionFact(
            concept=concept, name=f"{name} ({relation})", codes=codes, family=True, source=source(ref)))


def _medication(resource: dict[str, Any], record: RecordReading) -> tuple[str | None, list[Coding]]:
    """The drug a medication resource is about: its code, or the Medication it references."""
    concept = obj(resource, "medicationCodeableConcept")
    if not concept:
        medication = record.resource(reference(resource, "medicationReference"))
        concept = obj(medication, "code") if medication else {}
        if not concept:
            return text(obj(resource, "medicationReference"), "display"), []
    return concept_name(concept), codings(concept)


def _given(record: RecordReading, ref: str, resource: dict[str, Any], what: str) -> dict[str, Any] | None:
    """What a status says about a therapy: {"ongoing": …}, or None (with a warning) when it was not given."""
    statuses, status = code_maps("statuses"), text(resource, "status") or "unknown"
    table = statuses["medication"]
    if resource.get("resourceType") == "MedicationAdministration":
        table = {**table, **statuses["administration"]}
    meaning = table.get(status, {"ongoing": None})
    if "skip" in meaning:
        if status != "entered-in-error":
            record.warn(ref, f"{what} {meaning['skip']}; not read as a therapy")
        return None
    return meaning


def _period(record: RecordReading, ref: str, resource: dict[str, Any], prefix: str) -> tuple[dt.date | None, ...]:
    """(start, end) of an effective[x] or performed[x]: a single day has an end of None."""
    when = resource.get(f"{prefix}DateTime")
    if when is not None:
        return date_of(record, ref, "date", when), None
    period = obj(resource, f"{prefix}Period")
    start = date_of(record, ref, "start date", period.get("start"))
    end = date_of(record, ref, "end date", period.get("end"))
    return start, (end if end != start else None)


def read_medication(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    """MedicationStatement, MedicationRequest or MedicationAdministration -> TherapyFact."""
    name, codes = _medication(resource, record)
    if name is None:
        record.warn(ref, "medication without a code or name; skipped")
        return
    kind, intent = resource.get("resourceType"), text(resource, "intent")
    if kind == "MedicationRequest" and intent not in code_maps("statuses")["medication_request_intents"]:
        record.warn(ref, f"{name} is a {intent or 'request'}, not an order; not read as a therapy")
        return
    meaning = _given(record, ref, resource, name)
    if meaning is None:
        return
    if kind == "MedicationRequest":
        bounds = obj(obj(obj(next(iter(objs(resource, "dosageInstruction")), {}), "timing"), "repeat"), "boundsPeriod")
        start = date_of(record, ref, "start date", bounds.get("start") or resource.get("authoredOn"))
        end = date_of(record, ref, "end date", bounds.get("end"))
    else:
        start, end = _period(record, ref, resource, "effective")
    concept = concept_for(name, codes, _THERAPY_KINDS, record.vocabulary)
    record.facts.therapies.append(TherapyFact(
        concept=concept, name=name, codes=codes, start=start, end=end, ongoing=meaning["ongoing"], source=source(ref)))


def read_procedure(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    code = obj(resource, "code")
    name, codes = concept_name(code), codings(code)
    if name is None:
        record.warn(ref, "procedure without a code or text; skipped")
        return
    meaning = _given(record, ref, resource, name)
    if meaning is None:
        return
    start, end = _period(record, ref, resource, "performed")
    # mCODE puts "radiation therapy" in the category and the technique in the code; either may name the concept.
    concept = concept_for(name, codes, _THERAPY_KINDS, record.vocabulary)
    category = obj(resource, "category")
    if concept is None and category:
        concept = concept_for(concept_name(category) or "", codings(category), _THERAPY_KINDS, record.vocabulary)
    record.facts.therapies.append(TherapyFact(
        concept=concept, name=name, codes=codes, start=start, end=end, ongoing=meaning["ongoing"], source=source(ref)))


def read_allergy(resource: dict[str, Any], ref: str, record: RecordReading) -> None:
    statuses = code_maps("statuses")
    verification = statuses["condition_verification"].get(first_code(obj(resource, "verificationStatus")), "present")
    if verification == "skip":
        return
    code = obj(resource, "code")
    name, codes = concept_name(code), codings(code)
    if name is None:
        record.warn(ref, "allergy without a code or text; skipped")
        return
    if has_code(code, statuses["no_known_allergy"]):
        record.facts.allergies.append(AllergyFact(name=name, codes=codes, present=False, source=source(ref)))
        return
    clinical = statuses["allergy_clinical"].get(first_code(obj(resource, "clinicalStatus")), "present")
    present = verification != "absent" and clinical == "present"
    severities = [text(reaction, "severity") for reaction in objs(resource, "reaction")]
    criticality = text(resource, "criticality")
    severe: bool | None = None
    if criticality in statuses["allergy_severe"] or any(s in statuses["allergy_severe"] for s in severities):
        severe = True
    elif criticality in statuses["allergy_not_severe"]:
        severe = False
    concept = concept_for(name, codes, {"drug", "drug_class"}, record.vocabulary)
    record.facts.allergies.append(AllergyFact(
        concept=concept, name=name, codes=codes, present=present, severe=severe, source=source(ref)))

