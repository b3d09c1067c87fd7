"""Read a patient from any file a user has: a FHIR R4 Bundle, a JSON/YAML profile, or a clinical note."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.profile import read_profile_text

_NOTE_SUFFIXES = {".txt", ".md", ".note", ".text"}


def read_patient_text(text: str, origin: str = "patient", as_of: dt.date | None = None,
                      kind: str | None = None) -> PatientFacts:
    """Facts from ``text``: ``kind`` is fhir, profile or note; guessed from the content when None."""
    kind = kind or _guess(text)
    if kind == "fhir":
        from trialmatch.patients.fhir import read_fhir_bundle

        return read_fhir_bundle(text)
    if kind == "note":
        from trialmatch.patients.notes import read_note

        return read_note(text, as_of=as_of)
    return read_profile_text(text, origin)


def read_patient(path: str | Path, as_of: dt.date | None = None) -> PatientFacts:
    path = Path(path)
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise PatientReadError(f"{path}: not UTF-8 text; save it as UTF-8 and try again") from None
    except OSError as error:
        raise PatientReadError(f"{path}: can't read it ({error.strerror})") from None
    kind = "note" if path.suffix.lower() in _NOTE_SUFFIXES else None
    return read_patient_text(text, str(path), as_of, kind)


def _guess(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return "profile"  # the profile reader reports the JSON error
        return "fhir" if isinstance(data, dict) and "resourceType" in data else "profile"
    return "profile"
