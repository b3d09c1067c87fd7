"""The clinician view's form: one patient record (uploaded or pasted) and the screening options, checked.

The record is read in memory with the same readers the CLI uses and then dropped; it is never written
anywhere or logged. Every way the upload can be wrong (empty, binary, not UTF-8, bad JSON or YAML, not a
FHIR resource) becomes a message next to the upload field saying what to do instead.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from starlette.datastructures import FormData, UploadFile

from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.fhir import read_fhir_bundle
from trialmatch.patients.notes import read_note
from trialmatch.patients.profile import read_profile_text
from trialmatch.places import Place, UnknownPlace, parse_place
from trialmatch.screening import ScreeningQuery

FIELDS = ("record_text", "kind", "status", "as_of", "near", "show_not_eligible", "limit")
KIND_CHOICES = [("", "Work it out from the content"), ("fhir", "FHIR R4 Bundle (JSON)"),
                ("profile", "TrialMatch profile (JSON or YAML)"), ("note", "Clinical note (plain text)")]
#: (value, label, statuses for the screening); an empty list means any status.
STATUS_CHOICES = [
    ("open", "Open: recruiting, not yet recruiting or by invitation", ["OPEN"]),
    ("recruiting", "Recruiting now", ["RECRUITING"]),
    ("closed", "Closed (to see why past trials would or wouldn't have fitted)", ["CLOSED"]),
    ("any", "Any status", []),
]
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_NOTE_SUFFIXES = (".txt", ".md", ".note", ".text")
#: How the FHIR reader names a record given as parsed JSON; the page names it after the file instead.
_FHIR_ORIGIN = "FHIR input"
#: Bytes of a file looked at for NULs; text formats never hold one, binary files nearly always do early on.
_SNIFF = 8192


@dataclass
class ClinicianForm:
    """The options as typed (to fill the form again), the record's text, and the problems found."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    place: Place | None = None
    as_of: dt.date = field(default_factory=dt.date.today)
    limit: int = DEFAULT_LIMIT

    @property
    def statuses(self) -> list[str]:
        return next(s for value, _, s in STATUS_CHOICES if value == self.values["status"])

    @property
    def origin(self) -> str:
        return f"The file {self.filename}" if self.filename else "The pasted record"

    def options(self) -> dict[str, object]:
        """The options as the results and the exports report them."""
        return {"status": self.values["status"], "as_of": self.as_of.isoformat(),
                "near": self.place.name if self.place else None,
                "show_not_eligible": bool(self.values["show_not_eligible"]), "limit": self.limit}

    def query(self, place: Place | None) -> ScreeningQuery:
        return ScreeningQuery(as_of=self.as_of, statuses=self.statuses, near=place, limit=self.limit,
                              include_not_eligible=bool(self.values["show_not_eligible"]))


def blank_form() -> ClinicianForm:
    values = dict.fromkeys(FIELDS, "")
    values.update(status="open", show_not_eligible="1", limit=str(DEFAULT_LIMIT))
    return ClinicianForm(values)


async def read_clinician_form(data: FormData) -> ClinicianForm:
    """The options checked field by field, and the record's text taken from the file or else the paste box."""
    values = {name: value if isinstance(value := data.get(name), str) else "" for name in FIELDS}
    values["show_not_eligible"] = "1" if values["show_not_eligible"] else ""
    values["status"] = values["status"] or "open"
    form = ClinicianForm(values)
    if values["kind"] not in {value for value, _ in KIND_CHOICES}:
        form.errors["kind"] = "Choose what kind of record this is from the list."
    if values["status"] not in {value for value, _, _ in STATUS_CHOICES}:
        form.errors["status"] = "Choose a trial status from the list."
    _check_as_of(form)
    _check_limit(form)
    _check_near(form)
    upload = data.get("record_file")
    if isinstance(upload, UploadFile) and (upload.filename or upload.size):
        form.filename = (upload.filename or "upload").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
        text = _decoded(await upload.read(), form)
        if text is not None:
            values["record_text"] = text
    elif not values["record_text"].strip():
        form.errors["record"] = "Choose a file to upload, or paste the record into the box."
    if "record" not in form.errors and not values["record_text"].strip():
        form.errors["record"] = f"{form.origin} is empty. Choose the file again; it should hold one patient's record."
    return form


def read_record(form: ClinicianForm) -> PatientFacts | None:
    """The patient facts in the record, or None with the reader's message in ``form.errors["record"]``."""
    text = form.values["record_text"]
    kind = form.values["kind"] or None
    if kind is None and form.filename and form.filename.lower().endswith(_NOTE_SUFFIXES):
        kind = form.values["kind"] = "note"  # kept, so the re-run and the export read it the same way
    try:
        if kind in (None, "fhir") and text.lstrip("\ufeff \t\r\n").startswith("<"):
            raise PatientReadError(f"{form.origin}: FHIR XML (or HTML) is not supported; export it as FHIR JSON")
        parsed = _json_object(text, form.origin) if kind == "fhir" or (kind is None and _starts_json(text)) else None
        if kind == "fhir" or (kind is None and parsed is not None and "resourceType" in parsed):
            if parsed is None:
                raise PatientReadError(f"{form.origin}: not a FHIR resource (FHIR JSON is an object with a "
                                       "resourceType); give a FHIR R4 Bundle in JSON")
            # Parsed here, never passed as text: the FHIR reader takes a string that isn't JSON for a file path.
            return read_fhir_bundle(parsed)
        if kind == "note":
            return read_note(text, as_of=form.as_of)
        return read_profile_text(text, form.origin)
    except PatientReadError as error:
        message = str(error)
        if message.startswith(_FHIR_ORIGIN):
            message = form.origin + message[len(_FHIR_ORIGIN):]
        if kind is None and not _starts_json(text):
            message += ". If this is a clinical note, choose \u201cClinical note\u201d under \u201cWhat is it?\u201d."
        form.errors["record"] = message
    except RecursionError:
        form.errors["record"] = f"{form.origin} is nested too deeply to be a patient record; is it the right file?"
    return None


def _starts_json(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(("{", "["))


def _json_object(text: str, origin: str) -> dict | None:
    """The text as a JSON object; None for other JSON values; a message saying where the JSON breaks."""
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as error:
        raise PatientReadError(f"{origin}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
                               "check the file is complete and is JSON") from None
    return data if isinstance(data, dict) else None


def place_for(form: ClinicianForm, facts: PatientFacts) -> tuple[Place | None, str | None]:
    """Where distances are measured from: the form's place, else the record's address; and a note if unusable."""
    if form.place is not None or facts.location is None:
        return form.place, None
    located = facts.location
    if located.lat is not None and located.lon is not None:
        return Place(located.text or f"{located.lat:.4f},{located.lon:.4f}", located.lat, located.lon), None
    if located.text:
        try:
            return parse_place(located.text), None
        except UnknownPlace:
            return None, ("The record's address is not a place we know; type a town under \u201cNear\u201d "
                          "to see distances.")
    return None, None


def _decoded(raw: bytes, form: ClinicianForm) -> str | None:
    if not raw.strip():
        form.errors["record"] = f"{form.origin} is empty. Choose the file again; it should hold one patient's record."
        return None
    if b"\x00" in raw[:_SNIFF]:
        form.errors["record"] = (f"{form.origin} is not a text file (it looks like a PDF, image or other binary file). "
                                 "Upload the FHIR Bundle as JSON, or a profile as JSON or YAML.")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.errors["record"] = (f"{form.origin} is not UTF-8 text. Save or export it as UTF-8 (JSON or YAML) "
                                 "and upload it again.")
        return None


def _check_as_of(form: ClinicianForm) -> None:
    text = form.values["as_of"].strip()
    if not text:
        return
    try:
        form.as_of = dt.date.fromisoformat(text)
    except ValueError:
        form.errors["as_of"] = "Enter the date as YYYY-MM-DD, for example 2026-06-01, or leave it empty for today."


def _check_limit(form: ClinicianForm) -> None:
    text = form.values["limit"].strip() or str(DEFAULT_LIMIT)
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        form.errors["limit"] = f"Enter a whole number of trials from 1 to {MAX_LIMIT}."
        return
    form.limit = int(text)


def _check_near(form: ClinicianForm) -> None:
    text = form.values["near"].strip()
    if not text:
        return
    try:
        form.place = parse_place(text)
    except UnknownPlace:
        form.errors["near"] = ("We can't find that place. Try a larger city nearby, add the country (Leeds, UK), "
                               "or give latitude,longitude (53.80,-1.55).")
