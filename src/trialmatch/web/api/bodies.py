"""Reading POST bodies: only JSON (or a multipart file upload where allowed), and patients from them.

Refusing every other content type keeps a cross-site HTML form (which can only send form encodings or
text/plain) from driving the API. Patient data read here is never logged or stored, and error messages
name the problem, not the data.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.fhir import read_fhir_bundle
from trialmatch.patients.notes import read_note
from trialmatch.patients.profile import profile_from_dict, read_profile_text
from trialmatch.web.errors import ApiError

JSON_TYPES = ("application/json", "application/fhir+json")
MULTIPART = "multipart/form-data"
_NOTE_SUFFIXES = {".txt", ".md", ".note", ".text"}


@dataclass
class Upload:
    """A multipart upload: the file's text and name, and the form's other fields."""

    text: str
    filename: str
    fields: dict[str, list[str]] = field(default_factory=dict)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def refuse_media_type(request: Request, allowed: tuple[str, ...]) -> None:
    """415 unless the body is one of ``allowed``: what was sent and what to send instead."""
    sent = media_type(request)
    if sent not in allowed:
        shown = sent or "no Content-Type"
        raise ApiError(415, "unsupported_media_type",
                       f"This endpoint takes {' or '.join(allowed)}, not {shown}. "
                       "Send JSON with the header Content-Type: application/json"
                       + (", or upload a file as multipart/form-data in the field 'file'." if MULTIPART in allowed
                          else "."))


async def json_body(request: Request) -> Any:
    """The parsed JSON body, or 400 saying where the JSON is broken."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(400, "empty_body", "The body is empty; send a JSON object.")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The body is not UTF-8 text; send UTF-8 JSON.") from None
    except json.JSONDecodeError as error:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON ({error.msg} at line {error.lineno}, "
                       f"column {error.colno}); check it is complete.") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "The JSON is nested too deeply to be a patient record.") from None


async def upload(request: Request, field_name: str = "file") -> Upload:
    """The uploaded file (field ``field_name``) as UTF-8 text, with the form's other fields."""
    form = await request.form(max_files=1, max_fields=20)
    fields: dict[str, list[str]] = {}
    found: UploadFile | None = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == field_name:
                found = value
        else:
            fields.setdefault(key, []).append(value)
    if found is None:
        raise ApiError(422, "invalid_input", f"Upload the patient file in the form field {field_name!r} "
                       "(a FHIR R4 Bundle as JSON, a profile as JSON or YAML, or a clinical note as .txt).",
                       [{"field": field_name, "message": "missing"}])
    data = await found.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_patient", "The uploaded file is not UTF-8 text; save it as UTF-8 "
                       "(FHIR JSON, a JSON/YAML profile or a plain-text note).") from None
    return Upload(text, found.filename or "", fields)


def validated(model: type[BaseModel], data: object, where: str = "") -> Any:
    """``data`` as ``model``, or 422 naming each wrong field (``where`` prefixes the field paths)."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = [{"field": ".".join(str(p) for p in (where, *e["loc"]) if p != ""), "message": e["msg"]}
                   for e in error.errors()[:10]]
        message = "; ".join(f"{d['field'] or '(body)'}: {d['message']}" for d in details)
        raise ApiError(422, "invalid_input", message + ".", details) from None


def patient_from_json(data: object) -> PatientFacts:
    """A patient from parsed JSON: a FHIR R4 Bundle (or single resource) when it has a resourceType, else a profile."""
    try:
        if isinstance(data, dict) and "resourceType" in data:
            return read_fhir_bundle(data)
        return profile_from_dict(data, "the profile")
    except PatientReadError as error:
        raise ApiError(422, "invalid_patient", str(error)) from None


def patient_from_upload(uploaded: Upload, as_of: dt.date | None = None) -> PatientFacts:
    """A patient from an uploaded file: a note (.txt/.md), JSON (FHIR or profile) or a YAML profile."""
    text = uploaded.text
    try:
        if PurePath(uploaded.filename).suffix.lower() in _NOTE_SUFFIXES:
            return read_note(text, as_of=as_of)
        if text.lstrip().startswith(("{", "[")):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                raise ApiError(422, "invalid_patient", f"The uploaded file is not valid JSON ({error.msg} at line "
                               f"{error.lineno}, column {error.colno}); check the file is complete.") from None
            except RecursionError:
                raise ApiError(422, "invalid_patient", "The uploaded JSON is nested too deeply.") from None
            return patient_from_json(data)
        return read_profile_text(text, "the uploaded file")
    except PatientReadError as error:
        raise ApiError(422, "invalid_patient", str(error)) from None
