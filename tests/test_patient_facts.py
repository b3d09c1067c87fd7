"""The patient facts model: its published JSON Schema, the profile reader and the patient loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialmatch.patients import PatientReadError, read_profile_text
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.load import read_patient
from trialmatch.patients.profile import dump_profile

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def test_published_json_schema_is_the_models() -> None:
    published = json.loads((ROOT / "docs" / "patient-facts.schema.json").read_text("utf-8"))
    assert published == PatientFacts.model_json_schema(), "regenerate docs/patient-facts.schema.json"


def test_profile_short_forms_and_concepts() -> None:
    facts = read_profile_text("age: 7\nsex: female\nconditions: [pre-B ALL]\ntherapies: [Blincyto]\n"
                              "labs: [{name: ANC, value: 1.1, unit: 10^9/L}]")
    assert facts.age is not None and facts.age.value == 7
    assert facts.conditions[0].concept == "b_all"
    assert facts.therapies[0].concept == "blinatumomab"
    assert facts.labs[0].analyte == "anc"
    assert all(f.source.kind == "profile" for f in (*facts.conditions, *facts.labs))


def test_answers_replace_earlier_answers_and_round_trip() -> None:
    facts = read_profile_text("sex: male").with_answer("q-1", "not_sure").with_answer("q-1", "no")
    assert [a.answer for a in facts.answers] == ["no"]
    again = read_profile_text(dump_profile(facts))
    assert again.answer("q-1") is not None and again.answer("q-1").answer == "no"


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not valid JSON or YAML"),
    ("[1, 2]", "must be an object"),
    ("sex: maybe", "sex"),
    ("labs: [{name: ANC}]", "labs.0.value"),
    ("birth_date: yesterday", "birth_date"),
])
def test_bad_profiles_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PatientReadError, match=message):
        read_profile_text(text)


def test_loader_recognises_fhir_bundles(tmp_path: Path) -> None:
    bundle = SHARED / "patients" / "fhir" / "mitre-patient_data.json"
    facts = read_patient(bundle)
    assert facts.sex in ("female", "male")
    assert any(f.source.kind == "fhir" for f in facts.conditions)
    latin1 = tmp_path / "bad.yaml"
    latin1.write_bytes("sex: f\xe9male".encode("latin-1"))
    with pytest.raises(PatientReadError, match="UTF-8"):
        read_patient(latin1)
