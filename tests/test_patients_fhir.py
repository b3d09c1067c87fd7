"""The FHIR R4 Bundle reader, on the six real mCODE bundles in ../shared and a hand translation of mCODE's
paediatric B-ALL example (tests/fixtures/patients/fhir/mcode-pediatric-b-all.json).

Four of the six shared bundles are not strictly valid FHIR R4 (ids with underscores, Observations with two
values, a list written as an object): they must still be read, resource by resource, with warnings.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.fhir import read_fhir_bundle

SHARED = Path(__file__).resolve().parents[2] / "shared" / "patients" / "fhir"
B_ALL = Path(__file__).parent / "fixtures" / "patients" / "fhir" / "mcode-pediatric-b-all.json"
BAD = SHARED / "mitre-patient_data_missing_birthdate_invalid_ecog_karnofsky.json"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="needs ../shared/patients/fhir")


def load(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def by_ref(facts: list, reference: str):
    return next(f for f in facts if f.source.reference == reference)


def warned(facts: PatientFacts, *words: str) -> list[str]:
    return [w for w in facts.warnings if all(word in w for word in words)]


@pytest.fixture(scope="module")
def b_all() -> PatientFacts:
    return read_fhir_bundle(B_ALL)


# The six shared bundles ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(SHARED.glob("*.json")), ids=lambda p: p.stem)
def test_every_shared_bundle_reads_with_sources(path: Path) -> None:
    facts = read_fhir_bundle(path)
    assert facts.sex == "female"
    assert any(c.concept == "breast_cancer" for c in facts.conditions)
    everything = [*facts.conditions, *facts.labs, *facts.performance, *facts.therapies]
    assert all(f.source.kind == "fhir" and "/" in f.source.reference for f in everything)


def test_trial_matching_patient_01() -> None:
    facts = read_fhir_bundle(SHARED / "mitre-app-TrialMatching_Patient01.json")
    assert facts.birth_date == dt.date(1959, 1, 1)
    primary = by_ref(facts.conditions, "Condition/mCODETrialMatchingPrimaryCancerConditionExample01")
    assert (primary.concept, primary.status, primary.present) == ("breast_cancer", "active", True)
    assert primary.codes[0].code == "408643008"
    [ecog] = facts.performance
    assert (ecog.scale, ecog.value, ecog.date) == ("ecog", 1, dt.date(2019, 4, 1))
    statement = "MedicationStatement/mCODETrialMatchingCancerMedicationStatement{}PatientExample01"
    abemaciclib = by_ref(facts.therapies, statement.format("03"))
    assert (abemaciclib.concept, abemaciclib.start, abemaciclib.ongoing) == ("abemaciclib", dt.date(2019, 4, 1), True)
    leuprolide = by_ref(facts.therapies, statement.format(""))
    assert (leuprolide.concept, leuprolide.ongoing) == ("leuprorelin", False)
    # The Bundle's own id has an underscore: reported, and nothing lost because of it.
    assert warned(facts, "Bundle/9aa0a829-14be-4951-84e7-5dd453708011_1", "not valid FHIR R4")
    # Secondary cancers without a clinical status are read as active, and the reader says so.
    liver = by_ref(facts.conditions, "Condition/mCODETrialMatchingSecondaryCancerCondition02PatientExample01")
    assert liver.concept == "cancer" and liver.status == "active"
    assert warned(facts, "SecondaryCancerCondition02", "no clinical status; read as active")


def test_trial_matching_patient_02_procedures_and_drugs() -> None:
    facts = read_fhir_bundle(SHARED / "mitre-app-TrialMatching_Patient02.json")
    assert facts.birth_date == dt.date(1973, 1, 1)
    radiation = [t for t in facts.therapies if t.concept == "radiotherapy"]
    assert [t.start for t in radiation] == [dt.date(2019, 4, 1), dt.date(2019, 4, 1), dt.date(2019, 5, 1),
                                            dt.date(2019, 11, 1)]
    assert all(t.ongoing is False for t in radiation)
    lumpectomy = by_ref(facts.therapies, "Procedure/mCODETrialMatchingCancerRelatedSurgicalProcedurePatientExample02")
    assert lumpectomy.name == "Lumpectomy of breast (procedure)" and lumpectomy.start == dt.date(2019, 3, 1)
    concepts = {t.concept: t.ongoing for t in facts.therapies if t.source.reference.startswith("MedicationStatement")}
    assert concepts["palbociclib"] is False and concepts["alpelisib"] is True and concepts["capecitabine"] is False


def test_eom_patient_is_strictly_valid_and_reads_periods() -> None:
    facts = read_fhir_bundle(SHARED / "mitre-eom_patient_1.json")
    assert not warned(facts, "not valid FHIR R4")
    assert facts.birth_date == dt.date(1987, 1, 1)
    [ecog] = facts.performance
    assert (ecog.value, ecog.date, ecog.source.reference) == (3, dt.date(2022, 1, 2), "Observation/observation-id-1")
    alpelisib = by_ref(facts.therapies, "MedicationStatement/medicationId-2")
    # A one-day period: a start and no separate end.
    assert (alpelisib.concept, alpelisib.start, alpelisib.end, alpelisib.ongoing) == (
        "alpelisib", dt.date(2022, 1, 1), None, False)
    lung = by_ref(facts.conditions, "Condition/conditionId-2")
    assert lung.concept == "cancer" and lung.status == "active"
    # mCODE disease status "improved" says nothing a criterion asks: reported, not stored.
    assert warned(facts, "Observation/cancerDiseaseStatusId-1", "improved", "not used")


def test_invalid_observations_are_read_leniently() -> None:
    facts = read_fhir_bundle(SHARED / "mitre-patient_data.json")
    assert facts.birth_date == dt.date(1966, 8, 3)
    cancer = by_ref(facts.conditions, "Condition/4dee068c-5ffe-4977-8677-4ff9b518e763")
    assert (cancer.concept, cancer.diagnosed) == ("breast_cancer", dt.date(2017, 7, 21))
    for observation in ("95d74cb0-15d5-44dd-a289-b622bfed80be", "79930cdd-7eb4-44e3-8e5e-f45892813d04",
                        "576e8b5e-4f9e-418c-842b-f86d6e7ce795"):
        assert warned(facts, f"Observation/{observation}: not valid FHIR R4 (more than one value[x]); read leniently")
    # HER2 IHC score 3 is kept; ER ">= 10 %" is not an exact value, so it is reported instead of stored.
    her2 = by_ref(facts.labs, "Observation/95d74cb0-15d5-44dd-a289-b622bfed80be")
    assert (her2.name, her2.value, her2.date) == ("HER2 Receptor", 3, dt.date(2017, 7, 21))
    assert not [lab for lab in facts.labs if lab.name == "Estrogen Receptor"]
    assert warned(facts, "576e8b5e", "'>= 10', not an exact value")
    assert {(p.scale, p.value) for p in facts.performance} == {("karnofsky", 90), ("ecog", 3)}
    # Resources that appear twice are read once.
    assert len([t for t in facts.therapies if t.concept == "paclitaxel"]) == 3
    assert warned(facts, "MedicationStatement/6cb316ef-0e5a-4e33-9c03-6a9954150c91", "more than once")
    # Observations about another patient id: read (the bundle holds one patient), and flagged.
    assert warned(facts, "mCODEECOGPerformanceStatusExample", "refers to another patient")
    assert facts.location is not None
    assert (round(facts.location.lat, 2), round(facts.location.lon, 2)) == (42.84, -70.92)


def test_list_written_as_object_is_read_leniently() -> None:
    facts = read_fhir_bundle(SHARED / "mitre-patient_data_missing_histology_morph.json")
    assert warned(facts, "Observation/6556b6b3-678c-4fd6-9309-8df77xxxxxxx: not valid FHIR R4",
                  "interpretation: Input should be a valid list")
    assert warned(facts, "Observation/6556b6b3-678c-4fd6-9309-8df77xxxxxxx", "HGNC:11389 variant", "not used")
    assert by_ref(facts.conditions, "Condition/4dee068c-5ffe-4977-8677-4ff9b518e763").concept == "breast_cancer"


# Missing birth date and invalid performance scores -----------------------------------------------------

def test_missing_birth_date_and_invalid_scores_are_warnings_not_facts() -> None:
    facts = read_fhir_bundle(BAD)
    assert facts.birth_date is None and facts.sex == "female"
    patient = "Patient/1e208b6b-77f1-4808-a32b-9f9caf1ec334"
    assert warned(facts, f"{patient}: no birth date: age-based criteria will be asked")
    assert warned(facts, "Observation/mCODEECOGPerformanceStatusExample", "ECOG", "-1 is not a valid score (0-5)")
    assert warned(facts, "Observation/mCODEKarnofskyPerformanceStatusExample", "Karnofsky", "-1 is not a valid score")
    assert facts.performance == []
    assert [c.concept for c in facts.conditions] == ["breast_cancer"]


@pytest.mark.parametrize(("scale", "value", "valid"), [
    ("ECOG", 7, False), ("ECOG", 2.5, False), ("ECOG", 0, True), ("ECOG", 5, True),
    ("Karnofsky", 55, False), ("Karnofsky", 110, False), ("Karnofsky", 60, True),
])
def test_performance_scores_outside_their_scale_are_not_stored(scale: str, value: float, valid: bool) -> None:
    bundle = load(BAD)
    observation = next(e["resource"] for e in bundle["entry"] if scale in e["resource"]["id"])
    observation["valueInteger"] = value
    facts = read_fhir_bundle(bundle)
    stored = [p.value for p in facts.performance if p.scale == scale.lower()]
    assert stored == ([value] if valid else [])
    assert bool(warned(facts, scale, f"{value:g} is not a valid score")) is not valid


def test_coded_performance_answer_is_read_and_conflict_is_refused() -> None:
    bundle = load(BAD)
    karnofsky = next(e["resource"] for e in bundle["entry"] if "Karnofsky" in e["resource"]["id"])
    del karnofsky["valueInteger"]
    karnofsky["valueCodeableConcept"] = karnofsky["interpretation"][0]  # LA29176-7: 90
    ecog = next(e["resource"] for e in bundle["entry"] if "ECOG" in e["resource"]["id"])
    ecog["valueInteger"] = 1
    ecog["valueCodeableConcept"] = ecog["interpretation"][0]  # LA9625-0: 3, so two values that disagree
    facts = read_fhir_bundle(bundle)
    assert [(p.scale, p.value) for p in facts.performance] == [("karnofsky", 90)]
    assert warned(facts, "mCODEECOGPerformanceStatusExample", "more than one value[x]")
    assert warned(facts, "mCODEECOGPerformanceStatusExample", "disagreeing scores (1, 3)")


# The paediatric B-ALL example ----------------------------------------------------------------------------

def test_b_all_fixture_is_strictly_valid_fhir_r4() -> None:
    bundle = Bundle.model_validate(load(B_ALL))
    assert bundle.type == "collection" and len(bundle.entry) == 28
    assert not warned(read_fhir_bundle(B_ALL), "not valid FHIR R4")


def test_b_all_patient_and_diagnosis(b_all: PatientFacts) -> None:
    assert (b_all.birth_date, b_all.sex) == (dt.date(2021, 1, 1), "male")
    assert b_all.sex_source.reference == "Patient/cancer-patient-brian-l"
    leukaemia = by_ref(b_all.conditions, "Condition/primary-cancer-condition-brian-l")
    assert (leukaemia.concept, leukaemia.status, leukaemia.diagnosed) == ("b_all", "active", dt.date(2024, 1, 1))
    # Immunophenotype "positive for CD10, CD79a, TdT, CD19, and CD20" and the negative lumbar puncture.
    assert leukaemia.cd19 == "positive"
    assert leukaemia.cns_status == "CNS1"
    defect = by_ref(b_all.conditions, "Condition/us-core-condition-atrial-septal-defect-brian-l")
    assert (defect.status, defect.resolved) == ("history", dt.date(2021, 2, 1))
    grandmother = by_ref(b_all.conditions, "FamilyMemberHistory/family-member-history-grandmother-brian-l")
    assert grandmother.family is True and grandmother.concept == "breast_cancer"


def test_b_all_lansky_and_blood_counts(b_all: PatientFacts) -> None:
    [lansky] = b_all.performance
    assert (lansky.scale, lansky.value, lansky.date) == ("lansky", 80, dt.date(2024, 1, 12))
    counts = {lab.analyte: (lab.value, lab.unit, lab.low, lab.high, lab.date) for lab in b_all.labs}
    assert counts["hemoglobin"] == (6.7, "g/dL", 13.2, 16.5, dt.date(2024, 1, 4))
    assert counts["hematocrit"] == (22.3, "%", 39.7, 50.3, dt.date(2024, 1, 4))
    assert counts["wbc"] == (88.5, "10*3/uL", 39.7, 50.3, dt.date(2024, 1, 4))


def test_b_all_induction_drugs_with_dates(b_all: PatientFacts) -> None:
    ordered = {t.concept: t for t in b_all.therapies if t.source.reference.startswith("MedicationRequest/")}
    given = {t.concept: t for t in b_all.therapies if t.source.reference.startswith("MedicationAdministration/")}
    assert set(ordered) == set(given) == {"cyclophosphamide", "idarubicin", "vincristine", "prednisone"}
    assert all(t.start == dt.date(2024, 1, 9) and t.ongoing is True for t in ordered.values())
    # A completed administration is one dose: whether the course goes on is the order's to say.
    assert all(t.start == dt.date(2024, 1, 9) and t.ongoing is None for t in given.values())
    assert ordered["vincristine"].codes[0].code == "11202"
    assert ordered["vincristine"].source.reference.endswith("/cancer-related-medication-request-vincristine-brian-l")


def test_b_all_unused_results_are_reported(b_all: PatientFacts) -> None:
    assert warned(b_all, "gx-genomic-variant-fusion-ETV6-RUNX1-brian-l", "ETV6-RUNx1 variant", "not used")
    assert warned(b_all, "Observation/bone-marrow-aspirate-result-brian-l", "not used")
    assert warned(b_all, "Observation/cancer-disease-status-improved-brian-l", "not used")


def test_bcr_abl1_fusion_and_remission_qualify_the_leukaemia() -> None:
    bundle = load(B_ALL)
    variant = copy.deepcopy(next(e for e in bundle["entry"] if e["resource"]["id"].startswith("gx-genomic")))
    variant["resource"]["id"] = "gx-genomic-variant-fusion-BCR-ABL1"
    genes = variant["resource"]["component"]
    genes[0]["valueCodeableConcept"]["coding"][0].update(code="HGNC:1014", display="BCR")
    genes[1]["valueCodeableConcept"]["coding"][0].update(code="HGNC:76", display="ABL1")
    variant["resource"]["valueCodeableConcept"]["coding"][0].update(code="LA9634-2", display="Absent")
    status = next(e for e in bundle["entry"] if e["resource"]["id"] == "cancer-disease-status-improved-brian-l")
    status["resource"]["valueCodeableConcept"] = {"coding": [{
        "system": "http://snomed.info/sct", "code": "550991000124107",
        "display": "Malignant neoplasm in full remission (disorder)"}]}
    bundle["entry"].append(variant)
    facts = read_fhir_bundle(bundle)
    leukaemia = by_ref(facts.conditions, "Condition/primary-cancer-condition-brian-l")
    assert (leukaemia.philadelphia, leukaemia.remission) == ("negative", "complete")


# Pregnancy, allergies, statuses --------------------------------------------------------------------------

def _with(path: Path, *resources: dict) -> dict:
    bundle = load(path)
    bundle["entry"].extend({"resource": r} for r in resources)
    return bundle


def _coded(system: str, code: str, display: str) -> dict:
    return {"coding": [{"system": system, "code": code, "display": display}]}


LOINC, SNOMED = "http://loinc.org", "http://snomed.info/sct"
PATIENT_01 = {"reference": "Patient/mCODETrialMatchingPatientExample01"}


def test_pregnancy_status_and_hcg_test_latest_wins() -> None:
    status = {"resourceType": "Observation", "id": "pregnancy-status", "status": "final",
              "code": _coded(LOINC, "82810-3", "Pregnancy status"), "subject": PATIENT_01,
              "effectiveDateTime": "2024-03-01", "valueCodeableConcept": _coded(SNOMED, "77386006", "Pregnant")}
    test = {"resourceType": "Observation", "id": "urine-hcg", "status": "final",
            "code": _coded(LOINC, "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine"),
            "subject": PATIENT_01, "effectiveDateTime": "2024-03-20",
            "valueCodeableConcept": _coded(SNOMED, "260385009", "Negative")}
    facts = read_fhir_bundle(_with(SHARED / "mitre-app-TrialMatching_Patient01.json", test, status))
    assert (facts.pregnant.value, facts.pregnant.date) == (False, dt.date(2024, 3, 20))
    assert facts.pregnant.source.reference == "Observation/urine-hcg"


def test_allergies_conditions_and_statuses() -> None:
    penicillin = {"resourceType": "AllergyIntolerance", "id": "penicillin", "patient": PATIENT_01,
                  "criticality": "high", "code": _coded(SNOMED, "91936005", "Allergy to penicillin"),
                  "reaction": [{"manifestation": [_coded(SNOMED, "39579001", "Anaphylaxis")], "severity": "severe"}]}
    nkda = {"resourceType": "AllergyIntolerance", "id": "nkda", "patient": PATIENT_01,
            "code": _coded(SNOMED, "409137002", "No known drug allergy")}
    refuted = {"resourceType": "Condition", "id": "no-hiv", "subject": PATIENT_01,
               "verificationStatus": _coded("http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted",
                                            "Refuted"),
               "code": _coded(SNOMED, "86406008", "Human immunodeficiency virus infection")}
    mistaken = {"resourceType": "Condition", "id": "mistake", "subject": PATIENT_01,
                "verificationStatus": _coded("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                             "entered-in-error", "Entered in error"),
                "code": _coded(SNOMED, "22298006", "Myocardial infarction")}
    not_taken = {"resourceType": "MedicationStatement", "id": "not-taken", "status": "not-taken",
                 "subject": PATIENT_01, "medicationCodeableConcept": _coded(
                     "http://www.nlm.nih.gov/research/umls/rxnorm", "1156671", "fulvestrant Injectable Product")}
    facts = read_fhir_bundle(_with(SHARED / "mitre-app-TrialMatching_Patient01.json",
                                   penicillin, nkda, refuted, mistaken, not_taken))
    allergy = by_ref(facts.allergies, "AllergyIntolerance/penicillin")
    assert (allergy.name, allergy.present, allergy.severe) == ("Allergy to penicillin", True, True)
    none_known = by_ref(facts.allergies, "AllergyIntolerance/nkda")
    assert (none_known.concept, none_known.present) == (None, False)
    hiv = [f for f in [*facts.conditions, *facts.infections] if f.source.reference == "Condition/no-hiv"]
    assert len(hiv) == 1 and hiv[0].present is False
    assert not [c for c in facts.conditions if c.source.reference == "Condition/mistake"]
    assert not [t for t in facts.therapies if t.source.reference == "MedicationStatement/not-taken"]
    assert warned(facts, "MedicationStatement/not-taken", "recorded as not taken")


def test_partial_birth_date_is_not_guessed() -> None:
    bundle = load(SHARED / "mitre-eom_patient_1.json")
    bundle["entry"][0]["resource"]["birthDate"] = "1987"
    facts = read_fhir_bundle(bundle)
    assert facts.birth_date is None
    assert warned(facts, "Patient/Ancora-13", "birth date '1987' gives no day")


# Ways in: path, text, parsed JSON, a single resource -----------------------------------------------------

def test_accepts_path_text_dict_and_single_patient() -> None:
    path = SHARED / "mitre-eom_patient_1.json"
    expected = read_fhir_bundle(path)
    with pytest.raises(PatientReadError, match="not valid JSON"):
        read_fhir_bundle(str(path))  # text is never taken for a file name
    assert read_fhir_bundle(path.read_text("utf-8")) == expected
    assert read_fhir_bundle(load(path)) == expected
    patient = load(path)["entry"][0]["resource"]
    alone = read_fhir_bundle(patient)
    assert (alone.birth_date, alone.sex, alone.conditions) == (dt.date(1987, 1, 1), "female", [])
    del patient["id"]
    anonymous = read_fhir_bundle("\ufeff" + json.dumps(patient))
    assert anonymous.birth_date == dt.date(1987, 1, 1) and anonymous.sex_source.reference == "Bundle.entry[0]"


# Malformed input: an error that says what to do, or warnings; never a crash ------------------------------

@pytest.mark.parametrize(("given", "message"), [
    (lambda: (SHARED / "mitre-patient_data.json").read_text("utf-8")[:20000], "not valid JSON"),
    (lambda: "[1, 2, 3]", "a JSON list, not a FHIR resource"),
    (lambda: '{"name": "Brian"}', "no resourceType"),
    (lambda: '{"resourceType": "Practitioner", "id": "p1"}', "a FHIR Practitioner holds no patient facts"),
    (lambda: '{"resourceType": "Bundle", "type": "collection", "entry": []}', "the Bundle has no entries"),
    (lambda: '<Bundle xmlns="http://hl7.org/fhir"/>', "FHIR XML is not supported"),
    (lambda: Path("/no/such/bundle.json"), "can't read it"),
    (lambda: "/etc/hostname", "not valid JSON"),  # text is never opened as a file
    (lambda: '{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": '
             '"Practitioner", "id": "p1"}}]}', "nothing in it could be read"),
])
def test_unreadable_input_raises_a_clear_error(given, message: str) -> None:
    with pytest.raises(PatientReadError, match=message):
        read_fhir_bundle(given())


def test_two_patients_in_one_bundle_is_an_error() -> None:
    bundle = load(SHARED / "mitre-eom_patient_1.json")
    other = copy.deepcopy(bundle["entry"][0])
    other["resource"]["id"] = "someone-else"
    other["fullUrl"] = "urn:uuid:someone-else"
    bundle["entry"].append(other)
    with pytest.raises(PatientReadError, match="holds 2 patients; give one patient's record at a time"):
        read_fhir_bundle(bundle)


def test_garbage_fields_lose_a_resource_at_most() -> None:
    bundle = load(SHARED / "mitre-patient_data.json")
    resources = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    resources["mCODEKarnofskyPerformanceStatusExample"]["code"] = "garbage"
    resources["4dee068c-5ffe-4977-8677-4ff9b518e763"]["clinicalStatus"] = 42
    resources["4dee068c-5ffe-4977-8677-4ff9b518e763"]["onsetDateTime"] = ["yesterday"]
    statement = resources["6556b6b3-678c-4fd6-9309-8df7742f6e4e"]
    statement["effectiveDateTime"] = {"when": "soon"}
    statement["medicationCodeableConcept"] = {"coding": "paclitaxel", "text": "Paclitaxel 100 MG Injection"}
    resources["mCODEECOGPerformanceStatusExample"]["valueInteger"] = "three"
    bundle["entry"] += ["hello", {"resource": {"id": "x"}}, {"resource": {"resourceType": "Observation"}},
                        {"resource": {"resourceType": "Nonsense", "id": "n1"}}]
    facts = read_fhir_bundle(bundle)
    assert facts.birth_date == dt.date(1966, 8, 3)
    assert warned(facts, "Observation/mCODEKarnofskyPerformanceStatusExample", "not valid FHIR R4", "code")
    assert warned(facts, "Observation/mCODEKarnofskyPerformanceStatusExample", "without a code or text; skipped")
    assert warned(facts, "Observation/mCODEECOGPerformanceStatusExample", "without a score")
    cancer = by_ref(facts.conditions, "Condition/4dee068c-5ffe-4977-8677-4ff9b518e763")
    assert (cancer.concept, cancer.diagnosed, cancer.status) == ("breast_cancer", None, "active")
    paclitaxel = by_ref(facts.therapies, "MedicationStatement/6556b6b3-678c-4fd6-9309-8df7742f6e4e")
    assert (paclitaxel.concept, paclitaxel.start) == ("paclitaxel", None)
    assert warned(facts, "Bundle.entry[25]", "no resource with a resourceType")
    # An Observation without an id is still read, named by its place in the bundle.
    assert warned(facts, "Bundle.entry[27]", "observation without a code or text; skipped")
    assert facts.performance == []


@pytest.mark.parametrize(("result", "cd19"), [
    ("positive for CD10, CD79a, TdT, CD19, and CD20", "positive"),
    ("Blasts are CD10+, CD19+, CD34-", "positive"),
    ("CD19-negative relapse; positive for CD22", "negative"),
    ("positive for CD22; negative for CD19 and CD20", "negative"),
    ("blasts not expressing CD19", "negative"),
    ("CD10-CD19 co-expression not assessed", None),
])
def test_immunophenotype_text(result: str, cd19: str | None) -> None:
    bundle = load(B_ALL)
    phenotype = next(e for e in bundle["entry"] if e["resource"]["id"] == "immunophenotype-brian-l")
    phenotype["resource"]["valueString"] = result
    facts = read_fhir_bundle(bundle)
    assert by_ref(facts.conditions, "Condition/primary-cancer-condition-brian-l").cd19 == cd19
    assert bool(warned(facts, "immunophenotype-brian-l", "none of CD19 found")) is (cd19 is None)


@pytest.mark.parametrize(("result", "status"), [
    ("negative for presence of cancer in the brain or spine", "CNS1"),
    ("CNS2: blasts seen, WBC 3/uL", "CNS2"),
    ("CNS 3", "CNS3"),
    ("traumatic tap, not assessable", None),
])
def test_csf_result_gives_cns_status(result: str, status: str | None) -> None:
    bundle = load(B_ALL)
    csf = next(e for e in bundle["entry"] if e["resource"]["id"] == "us-core-lumbar-puncture-result-brian-l")
    csf["resource"]["valueString"] = result
    facts = read_fhir_bundle(bundle)
    assert by_ref(facts.conditions, "Condition/primary-cancer-condition-brian-l").cns_status == status
    assert bool(warned(facts, "CSF result does not say the CNS status")) is (status is None)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_field_replaced_by_any_json_never_crashes(data: st.DataObject) -> None:
    """Whatever garbage a field holds, the reader returns facts or raises PatientReadError, nothing else."""
    bundle = load(B_ALL if data.draw(st.booleans()) else SHARED / "mitre-patient_data.json")
    for _ in range(data.draw(st.integers(1, 4))):
        resource = data.draw(st.sampled_from(bundle["entry"]))["resource"]
        field = data.draw(st.sampled_from(sorted(resource)))
        resource[field] = data.draw(_JSON)
    try:
        facts = read_fhir_bundle(bundle)
    except PatientReadError:
        return
    assert isinstance(facts, PatientFacts)
