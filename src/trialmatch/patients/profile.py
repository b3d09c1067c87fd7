"""Read a patient profile: a JSON or YAML file in the ``PatientFacts`` shape.

A profile may use short forms people write by hand: ``age: 34`` (years) instead of an age object,
``prior_lines: 2`` (every line of therapy) instead of a list of counts, and a bare string in a list of facts
(``conditions: [B-ALL]``) instead of ``{name: B-ALL}``, and a bare boolean for a yes / no fact
(``informed_consent: true``) instead of ``{value: true}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import ValidationError

from trialmatch.patients.concepts import resolve_concepts
from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts

_LISTS = ("conditions", "labs", "therapies", "infections", "allergies", "studies")
#: Yes / no facts a profile may give as a bare boolean ("informed_consent: true").
_BOOLEANS = ("childbearing_potential", "pregnant", "breastfeeding", "informed_consent", "comply")


def read_profile_text(text: str, origin: str = "profile") -> PatientFacts:
    """Parse profile JSON or YAML text into facts (concept ids filled in)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PatientReadError(f"{origin}: not valid JSON or YAML ({_first_line(error)}); check the syntax") from None
    return profile_from_dict(data, origin)


def profile_from_dict(data: object, origin: str = "profile") -> PatientFacts:
    if not isinstance(data, dict):
        raise PatientReadError(f"{origin}: a profile must be an object with fields like age, sex, conditions")
    data = dict(data)
    if isinstance(data.get("age"), int | float):
        data["age"] = {"value": data["age"]}
    if isinstance(data.get("prior_lines"), int) and not isinstance(data["prior_lines"], bool):
        data["prior_lines"] = [{"value": data["prior_lines"]}]  # "prior_lines: 2": every line counted
    for name in _BOOLEANS:
        if isinstance(data.get(name), bool):
            data[name] = {"value": data[name]}
    for name in _LISTS:
        if isinstance(data.get(name), list):
            data[name] = [{"name": item} if isinstance(item, str) else item for item in data[name]]
    try:
        facts = PatientFacts.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()[:5])
        raise PatientReadError(f"{origin}: {problems}. See docs/patient-facts.md for the fields") from None
    return resolve_concepts(facts)


def read_profile(path: str | Path) -> PatientFacts:
    path = Path(path)
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise PatientReadError(f"{path}: not UTF-8 text; save the profile as UTF-8") from None
    except OSError as error:
        raise PatientReadError(f"{path}: can't read it ({error.strerror})") from None
    return read_profile_text(text, str(path))


def dump_profile(facts: PatientFacts) -> str:
    """The profile as JSON, without empty fields, for saving answers back."""
    return json.dumps(facts.model_dump(mode="json", exclude_defaults=True), indent=2, ensure_ascii=False) + "\n"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
