"""Consent and compliance items, blood pressure pairs and body measures: compiled from real corpus items,
evaluated against realistic patients, and read from FHIR Observations.

Every criterion text below is checked to occur in the shared criteria corpora, so the examples are real.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import pytest

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.describe import describe
from trialmatch.criteria.rules import Consent, Lab, Not, Question, leaves
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import build_plan, question_id
from trialmatch.matching.verdicts import CriterionVerdict
from trialmatch.patients.fhir import read_fhir_bundle
from trialmatch.patients.profile import profile_from_dict
from trialmatch.trials.record import Eligibility, Provenance, Trial

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "data" / "criteria-corpus"
AS_OF = dt.date(2026, 6, 1)
CONSENT_QUESTION = "Are you (or your parent or guardian) able and willing to give written consent to take part?"
COMPLY_QUESTION = "Are you able and willing to come to the study visits and follow the study's instructions?"

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason="needs ../shared/data/criteria-corpus")


@cache
def _corpus_text() -> str:
    texts = []
    for name in ("hint-trials.jsonl", "lct-criteria.jsonl"):
        with (CORPORA / name).open(encoding="utf-8") as handle:
            texts += [" ".join((json.loads(line).get("criteria") or "").split()) for line in handle]
    return "\n".join(texts)


def _compiled(text: str, section: str = "Inclusion"):
    assert " ".join(text.split()) in _corpus_text(), f"not a corpus item: {text!r}"
    criteria = compile_criteria(f"{section} Criteria:\n- {text}").criteria
    assert len(criteria) == 1
    return criteria[0]


# Compiling ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Written informed consent", "able and willing to give informed consent"),
    ("Ability to understand and the willingness to sign a written informed consent document.",
     "able and willing to give informed consent"),
    ("Ability to understand and willingness to sign an IRB approved written informed consent document (or that of "
     "legally authorized representative, if applicable)", "able and willing to give informed consent"),
    ("Signed and dated written informed consent prior to admission to the study in accordance with GCP and local "
     "legislation", "able and willing to give informed consent"),
    ("Be willing and able to provide written informed consent/assent for the trial",
     "able and willing to give informed consent"),
    ("Able to adhere to the study visit schedule and other protocol requirements",
     "able and willing to follow the study's visits and procedures"),
    ("Willingness and ability to comply with scheduled visits, treatment plans, laboratory tests, and other study "
     "procedures", "able and willing to follow the study's visits and procedures"),
    ("Capable of giving written informed consent, which includes compliance with the requirements and restrictions "
     "listed in the consent form",
     "able and willing to give informed consent and able and willing to follow the study's visits and procedures"),
    ("Ability to provide written informed consent and comply with study assessments for the full duration of the "
     "study",
     "able and willing to give informed consent and able and willing to follow the study's visits and procedures"),
])
def test_consent_and_compliance_inclusions_compile_to_consent_leaves(text: str, expected: str) -> None:
    criterion = _compiled(text)
    assert criterion.computable
    assert criterion.category == "consent"
    assert describe(criterion.rule) == expected


@pytest.mark.parametrize(("text", "aspects"), [
    ("Inability to comply with study and/or follow-up procedures", {"comply"}),
    ("Patients unwilling to or unable to comply with the protocol", {"comply"}),
    ("Unwillingness or inability to follow the procedures outlined in the protocol", {"comply"}),
    ("Unable or unwilling to provide informed consent or to comply with study procedures",
     {"informed_consent", "comply"}),
    ("Inability to provide informed consent", {"informed_consent"}),
])
def test_an_inability_in_an_exclusion_is_the_negation(text: str, aspects: set[str]) -> None:
    criterion = _compiled(text, "Exclusion")
    assert criterion.computable
    assert isinstance(criterion.rule, Not)
    assert {leaf.aspect for leaf in leaves(criterion.rule) if isinstance(leaf, Consent)} == aspects
    assert not any(isinstance(leaf, Question) for leaf in leaves(criterion.rule))


@pytest.mark.parametrize("text", [
    "Able to swallow and retain oral medication",
    "Written informed consent and HIPAA authorization for release of personal health information",
    "In the opinion of the investigator, the participant is capable of understanding and complying with protocol "
    "requirements",
    "Inability to comply with dietary regimen of trial site",
    "Patients must consent to biopsies",
    "Any condition that impairs patient's ability to swallow whole pills",
])
def test_items_that_ask_something_else_stay_questions(text: str) -> None:
    section = "Exclusion" if text.startswith(("Inability", "Any condition")) else "Inclusion"
    criterion = _compiled(text, section)
    assert not any(isinstance(leaf, Consent) for leaf in leaves(criterion.rule))
    assert not criterion.computable


def test_a_consent_item_listed_as_an_exclusion_is_unsure() -> None:
    criterion = compile_criteria("Exclusion Criteria:\n- Signed informed consent").criteria[0]
    assert isinstance(criterion.rule, Consent)
    assert not criterion.computable  # most likely under the wrong heading: it never decides alone


def test_every_trial_asks_consent_in_the_same_words() -> None:
    first = _compiled("Signed informed consent")
    second = _compiled("Ability to understand and the willingness to sign a written informed consent document.")
    third = _compiled("Inability to provide informed consent", "Exclusion")
    assert first.question == second.question == third.question == CONSENT_QUESTION
    assert _compiled("Ability to comply with study procedures").question == COMPLY_QUESTION


# Evaluating ---------------------------------------------------------------------------------------------


def _trial(criteria: str, trial_id: str = "TEST-1") -> Trial:
    return Trial(id=trial_id, brief_title="test trial", conditions=["Acute lymphoblastic leukemia"],
                 eligibility=Eligibility(criteria_text=criteria), provenance=Provenance(source="test", location="test"))


def _verdicts(criteria: str, profile: dict, trial_id: str = "TEST-1") -> dict[str, CriterionVerdict]:
    plan = build_plan(_trial(criteria, trial_id), compile_criteria(criteria))
    match = match_trial(PatientView(profile_from_dict(profile), AS_OF), plan)
    return {c.id: c.verdict for c in match.criteria}


CONSENT_TRIAL = ("Inclusion Criteria:\n- Signed informed consent\n- Ability to comply with study procedures\n"
                 "Exclusion Criteria:\n- Patients unwilling or unable to comply with the protocol")


@pytest.mark.parametrize(("profile", "expected"), [
    ({"informed_consent": True, "comply": True},
     {"inc-1": CriterionVerdict.MET, "inc-2": CriterionVerdict.MET, "exc-1": CriterionVerdict.NOT_MET}),
    ({"informed_consent": {"value": False}, "comply": {"value": False}},
     {"inc-1": CriterionVerdict.NOT_MET, "inc-2": CriterionVerdict.NOT_MET, "exc-1": CriterionVerdict.MET}),
    # Never guessed: a patient who said nothing about it is asked.
    ({"age": 34, "sex": "female"},
     {"inc-1": CriterionVerdict.UNKNOWN, "inc-2": CriterionVerdict.UNKNOWN, "exc-1": CriterionVerdict.UNKNOWN}),
])
def test_consent_is_settled_only_by_the_patients_own_fact(profile: dict, expected: dict) -> None:
    assert _verdicts(CONSENT_TRIAL, profile) == expected


def test_one_answer_settles_the_consent_item_of_every_trial() -> None:
    other = ("Inclusion Criteria:\n"
             "- Ability to understand and the willingness to sign a written informed consent document")
    facts = profile_from_dict({"age": 40}).with_answer(question_id(CONSENT_QUESTION), "yes", CONSENT_QUESTION)
    for criteria, trial_id in ((CONSENT_TRIAL, "A"), (other, "B")):
        plan = build_plan(_trial(criteria, trial_id), compile_criteria(criteria))
        verdicts = {c.id: c.verdict for c in match_trial(PatientView(facts, AS_OF), plan).criteria}
        assert verdicts["inc-1"] == CriterionVerdict.MET


def test_a_no_to_the_compliance_question_meets_the_exclusion_of_those_unable_to_comply() -> None:
    facts = profile_from_dict({"age": 40}).with_answer(question_id(COMPLY_QUESTION), "no", COMPLY_QUESTION)
    plan = build_plan(_trial(CONSENT_TRIAL), compile_criteria(CONSENT_TRIAL))
    verdicts = {c.id: c.verdict for c in match_trial(PatientView(facts, AS_OF), plan).criteria}
    assert verdicts["inc-2"] == CriterionVerdict.NOT_MET
    assert verdicts["exc-1"] == CriterionVerdict.MET  # answered "no": unable, so excluded


# Blood pressure and body measures ------------------------------------------------------------------------


def test_a_blood_pressure_pair_is_both_readings() -> None:
    upper = _compiled("Supine blood pressure ≤160/100 mmHg")
    assert upper.computable
    assert describe(upper.rule) == "Systolic blood pressure ≤ 160 mmHg and Diastolic blood pressure ≤ 100 mmHg"
    low = _compiled("Hypotensive individuals with sitting blood pressure below 90/60 mmHG.", "Exclusion")
    assert not low.computable  # "hypotensive individuals" is not read: a question stays in the rule
    assert {leaf.analyte for leaf in leaves(low.rule) if isinstance(leaf, Lab)} == {
        "systolic_blood_pressure", "diastolic_blood_pressure"}


@pytest.mark.parametrize(("systolic", "diastolic", "expected"), [
    (150, 95, CriterionVerdict.MET),
    (150, 105, CriterionVerdict.NOT_MET),   # one reading over the limit fails it
    (165, 80, CriterionVerdict.NOT_MET),
])
def test_blood_pressure_limit_against_a_patients_readings(systolic: float, diastolic: float,
                                                          expected: CriterionVerdict) -> None:
    profile = {"labs": [{"name": "systolic blood pressure", "value": systolic, "unit": "mmHg"},
                        {"name": "diastolic blood pressure", "value": diastolic, "unit": "mm[Hg]"}]}
    assert _verdicts("Inclusion Criteria:\n- Supine blood pressure ≤160/100 mmHg", profile)["inc-1"] == expected


def test_bmi_outside_a_range_and_qtc_on_the_ecg_compile() -> None:
    bmi = _compiled("BMI < 19 or BMI > 34.", "Exclusion")
    assert bmi.computable
    assert bmi.question.startswith("Is any of these true of your measurements")  # either limit, not both
    qtc = _compiled("Corrected QT interval (QTc) ≤ 480 msecs using Bazett's formula")
    assert qtc.computable
    assert describe(qtc.rule) == "Corrected QT interval ≤ 480 ms"


def _observation(code: str, display: str, value: float, unit: str, ucum: str) -> dict:
    return {"resourceType": "Observation", "id": code.replace("-", ""), "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "effectiveDateTime": "2026-05-20",
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum}}


def _bundle() -> dict:
    blood_pressure = {
        "resourceType": "Observation", "id": "bp", "status": "final", "effectiveDateTime": "2026-05-20",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}]},
        "component": [
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6",
                                  "display": "Systolic blood pressure"}]},
             "valueQuantity": {"value": 142, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4",
                                  "display": "Diastolic blood pressure"}]},
             "valueQuantity": {"value": 104, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
        ]}
    resources = [
        {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1980-02-01"},
        _observation("10230-1", "Left ventricular Ejection fraction", 38, "%", "%"),
        _observation("8636-3", "QT interval corrected", 495, "ms", "ms"),
        _observation("39156-5", "Body mass index", 31.2, "kg/m2", "kg/m2"),
        blood_pressure,
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def test_fhir_cardiac_and_body_measures_are_read_as_lab_values() -> None:
    facts = read_fhir_bundle(_bundle())
    by_analyte = {lab.analyte: lab for lab in facts.labs}
    assert by_analyte["lvef"].value == 38
    assert by_analyte["qtc"].value == 495
    assert by_analyte["body_mass_index"].value == 31.2
    assert by_analyte["systolic_blood_pressure"].value == 142
    assert by_analyte["diastolic_blood_pressure"].value == 104
    assert by_analyte["diastolic_blood_pressure"].source.reference.endswith("#component[1]")
    assert not [w for w in facts.warnings if "Blood pressure" in w]


def test_fhir_measures_settle_cardiac_criteria() -> None:
    criteria = ("Inclusion Criteria:\n- LVEF ≥ 50%\n- Supine blood pressure ≤160/100 mmHg\n"
                "Exclusion Criteria:\n- QTc > 480 ms\n- BMI > 40 kg/m2")
    plan = build_plan(_trial(criteria), compile_criteria(criteria))
    verdicts = {c.id: c.verdict for c in match_trial(PatientView(read_fhir_bundle(_bundle()), AS_OF), plan).criteria}
    assert verdicts == {"inc-1": CriterionVerdict.NOT_MET, "inc-2": CriterionVerdict.NOT_MET,
                        "exc-1": CriterionVerdict.MET, "exc-2": CriterionVerdict.NOT_MET}


def test_an_exclusion_of_either_liver_test_is_not_asked_as_both() -> None:
    criterion = _compiled("AST or ALT > 2 x ULN", "Exclusion")
    assert criterion.computable
    # A patient with only a high AST must answer "Yes": "each more than" would have let them say "No".
    assert criterion.question == ("Is any of these true of your blood test results: AST more than 2 times the upper "
                                  "limit of normal or ALT more than 2 times the upper limit of normal?")


@pytest.mark.parametrize(("text", "expected"), [
    ("BMI < 19 or > 35", "Body mass index < 19 kg/m² or Body mass index > 35 kg/m²"),
    ("Systolic blood pressure < 110 mmHg or > 180 mmHg;",
     "Systolic blood pressure < 110 mmHg or Systolic blood pressure > 180 mmHg"),
])
def test_a_value_outside_a_range_is_either_limit(text: str, expected: str) -> None:
    criterion = _compiled(text, "Exclusion")
    assert criterion.computable
    assert describe(criterion.rule) == expected
    bmi = {"labs": [{"name": "body mass index", "value": 37.5, "unit": "kg/m2"}]}
    if "BMI" in text:
        assert _verdicts(f"Exclusion Criteria:\n- {text}", bmi)["exc-1"] == CriterionVerdict.MET
        bmi["labs"][0]["value"] = 24
        assert _verdicts(f"Exclusion Criteria:\n- {text}", bmi)["exc-1"] == CriterionVerdict.NOT_MET


def test_the_two_shared_answers_settle_an_item_that_asks_both() -> None:
    both = "Inclusion Criteria:\n- Ability to provide informed consent and comply with the protocol."
    facts = (profile_from_dict({"age": 40})
             .with_answer(question_id(CONSENT_QUESTION), "yes", CONSENT_QUESTION)
             .with_answer(question_id(COMPLY_QUESTION), "no", COMPLY_QUESTION))
    plan = build_plan(_trial(both), compile_criteria(both))
    match = match_trial(PatientView(facts, AS_OF), plan)
    assert {c.id: c.verdict for c in match.criteria} == {"inc-1": CriterionVerdict.NOT_MET}
    only_consent = profile_from_dict({"age": 40}).with_answer(question_id(CONSENT_QUESTION), "yes", CONSENT_QUESTION)
    match = match_trial(PatientView(only_consent, AS_OF), plan)
    assert {c.id: c.verdict for c in match.criteria} == {"inc-1": CriterionVerdict.UNKNOWN}  # compliance still asked


@pytest.mark.parametrize(("text", "section", "expected"), [
    ("DLCO >/= 50% of predicted", "Inclusion", "DLCO (percent of predicted) ≥ 50 %"),
    ("Diffusing capacity of the lung for carbon monoxide (DLCO) and forced expiratory volume in one second (FEV1) > "
     "60% predicted", "Inclusion", "DLCO (percent of predicted) > 60 % and FEV1 (percent of predicted) > 60 %"),
    ("DLCO > 50% of predicted value (corrected for hemoglobin)", "Inclusion", "DLCO (percent of predicted) > 50 %"),
    ("FEV1 or FVC of less than 60% of predicted normal, at screening", "Exclusion",
     "FEV1 (percent of predicted) < 60 % or FVC (percent of predicted) < 60 %"),
])
def test_pulmonary_function_as_a_percentage_of_predicted(text: str, section: str, expected: str) -> None:
    criterion = _compiled(text, section)
    assert criterion.computable
    assert describe(criterion.rule) == expected


def test_fev1_over_fvc_is_the_ratio_never_a_list() -> None:
    criterion = _compiled("FEV1 / FVC < 70% predicted and FEV1 < 60% predicted", "Exclusion")
    analytes = {leaf.analyte for leaf in leaves(criterion.rule) if isinstance(leaf, Lab)}
    assert "fvc_percent_predicted" not in analytes
    assert not criterion.computable  # "% predicted" of a ratio is not read


def test_dlco_in_a_profile_settles_a_transplant_criterion() -> None:
    criteria = "Inclusion Criteria:\n- DLCO >/= 50% of predicted"
    low = {"labs": [{"name": "DLCO", "value": 42, "unit": "%"}]}
    assert _verdicts(criteria, low)["inc-1"] == CriterionVerdict.NOT_MET
    assert _verdicts(criteria, {"labs": [{"name": "DLCO", "value": 64, "unit": "%"}]})["inc-1"] == CriterionVerdict.MET
    assert _verdicts(criteria, {"age": 30})["inc-1"] == CriterionVerdict.UNKNOWN
