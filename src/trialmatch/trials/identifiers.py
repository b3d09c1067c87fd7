"""Registry identifiers: which registry an id belongs to, judged from its text."""

from __future__ import annotations

import re

from trialmatch.trials.record import RegistryId

NCT_RE = re.compile(r"^NCT\d{8}$")

# Registry numbers recognisable from their text alone, most specific first.
_REGISTRY_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("NCT", re.compile(r"^NCT\d{8}$", re.IGNORECASE)),
    ("CTIS", re.compile(r"^(EU\s*CT\s*(No\.?|number)?:?\s*)?\d{4}-5\d{5}-\d{2}-\d{2}$", re.IGNORECASE)),
    ("EUDRACT", re.compile(r"^(EudraCT\s*(No\.?|number)?:?\s*)?\d{4}-\d{6}-\d{2}$", re.IGNORECASE)),
    ("ISRCTN", re.compile(r"^ISRCTN\s*\d{8}$", re.IGNORECASE)),
    ("ANZCTR", re.compile(r"^ACTRN\d{14}p?$", re.IGNORECASE)),
    ("CHICTR", re.compile(r"^ChiCTR[-\w]+$", re.IGNORECASE)),
    ("DRKS", re.compile(r"^DRKS\d{8}$", re.IGNORECASE)),
    ("CTRI", re.compile(r"^CTRI/\d{4}/\d+/\d+$", re.IGNORECASE)),
    ("JRCT", re.compile(r"^jRCT\w+$")),
    ("UMIN", re.compile(r"^UMIN\d{9}$", re.IGNORECASE)),
    # NIH grant numbers such as R01MH067148 or 5P30AG028740-10.
    ("NIH", re.compile(r"^\d?[A-Z]\d{2}\s?[A-Z]{2}\d{6}(-\w+)?$")),
]

_SECONDARY_TYPES = {
    "EUDRACT_NUMBER": "EUDRACT",
    "OTHER_GRANT": "OTHER_GRANT",
    "NIH": "NIH",
    "FDA": "FDA",
    "VA": "VA",
    "CDC": "CDC",
    "AHRQ": "AHRQ",
    "SAMHSA": "SAMHSA",
}


def detect_id_type(text: str) -> str | None:
    """The registry an id belongs to, judged from its text ("ISRCTN12345678" -> ISRCTN), or None."""
    cleaned = text.strip()
    return next((kind for kind, pattern in _REGISTRY_PATTERNS if pattern.match(cleaned)), None)


def secondary_id_type(text: str, declared: str | None) -> str:
    """Our RegistryId type for a CT.gov secondary id of SecondaryIdType ``declared``."""
    detected = detect_id_type(text)
    if declared == "EUDRACT_NUMBER" and detected == "CTIS":
        return "CTIS"
    if declared in _SECONDARY_TYPES:
        return _SECONDARY_TYPES[declared]
    # REGISTRY, OTHER or missing: sponsors file EudraCT and ISRCTN numbers here.
    return other_id_type(text)


def other_id_type(text: str) -> str:
    """The type of a trial's secondary id, from its text; OTHER when unrecognised."""
    detected = detect_id_type(text)
    # Another NCT number among a trial's ids is a related study, never this trial's own number.
    return "OTHER" if detected in (None, "NCT") else detected


def dedupe_ids(ids: list[RegistryId]) -> list[RegistryId]:
    """Drop repeats of the same id and type, keeping the first (which carries its domain)."""
    unique: dict[tuple[str, str], RegistryId] = {}
    for rid in ids:
        unique.setdefault((rid.type, rid.id), rid)
    return list(unique.values())
