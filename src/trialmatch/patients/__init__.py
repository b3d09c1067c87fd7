"""Patient facts and their readers: JSON/YAML profiles, FHIR R4 Bundles, questionnaire answers, notes."""

from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.profile import read_profile, read_profile_text

__all__ = ["PatientFacts", "PatientReadError", "read_profile", "read_profile_text"]
