"""The bundled vocabulary data: unique ids, known parents, units pint can read, one concept per phrase,
codes that pass their check digits, and realistic criteria phrases found as the right concepts."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from importlib import resources

import pint
import pytest
import yaml

from trialmatch.vocabulary.concepts import Concept, _exact_key, _folded_key, load_vocabulary
from trialmatch.vocabulary.spelling import americanize

#: The kinds each bundled file may use; a file not listed may use any of them.
FILE_KINDS = {
    "conditions.yaml": {"condition"},
    "infections.yaml": {"infection"},
    "labs.yaml": {"lab", "measure"},
    "oncology.yaml": {"condition", "drug", "drug_class", "procedure"},
    "therapies.yaml": {"drug", "drug_class", "procedure"},
}
MEASURED = {"lab", "measure"}

#: Phrases knowingly shared by two concepts, with the reason. Keep it empty unless a case is argued.
ALLOWED_COLLISIONS: dict[tuple[str, ...], str] = {}


def _bundled() -> dict[str, list[dict]]:
    folder = resources.files("trialmatch.data").joinpath("vocabulary")
    return {
        item.name: yaml.safe_load(item.read_text("utf-8")).get("concepts", [])
        for item in sorted(folder.iterdir(), key=lambda p: p.name)
        if item.name.endswith(".yaml") and item.name != "spelling.yaml"
    }


@cache
def _units() -> pint.UnitRegistry:
    registry = pint.UnitRegistry()
    registry.define("cells = [] = cell")  # a count: 1,000 cells/uL = 1.0 x 10**9/L
    registry.define("ratio = []")  # a fraction: MRD 10**-4
    return registry


def _canonical(concept: Concept) -> pint.Quantity:
    """One of the concept's canonical unit. A scaled unit such as "10**9/L" or "mL/min/(1.73*m**2)" is an
    expression to pint (``Quantity(1, "10**9/L")`` raises), so values are divided by this to convert."""
    return _units().parse_expression(str(concept.properties["unit"]))


def _in_canonical(quantity: pint.Quantity, concept: Concept) -> float:
    return float((quantity / _canonical(concept)).to("dimensionless").magnitude)


def _concepts(*kinds: str) -> list[Concept]:
    return [c for c in load_vocabulary().concepts.values() if c.kind in kinds]


def ids(text: str) -> list[str]:
    """Concept ids found in ``text``, in order, each once."""
    return list(dict.fromkeys(m.concept.id for m in load_vocabulary().find(text)))


# Structure ---------------------------------------------------------------------------------


def test_the_expected_files_are_bundled() -> None:
    assert set(FILE_KINDS) <= set(_bundled())


def test_concept_ids_are_unique_across_files() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for name, entries in _bundled().items():
        for entry in entries:
            where[entry["id"]].append(name)
    duplicated = {concept_id: files for concept_id, files in where.items() if len(files) > 1}
    assert not duplicated


def test_each_file_uses_only_its_kinds() -> None:
    for name, entries in _bundled().items():
        allowed = FILE_KINDS.get(name, set().union(*FILE_KINDS.values()))
        kinds = {entry.get("kind", "condition") for entry in entries}
        assert kinds <= allowed, f"{name}: {kinds - allowed}"


def test_every_parent_exists_and_no_concept_is_its_own_ancestor() -> None:
    vocabulary = load_vocabulary()
    for concept in vocabulary.concepts.values():
        for parent in concept.parents:
            assert parent in vocabulary.concepts, f"{concept.id} has unknown parent {parent}"
        assert concept.id not in vocabulary.ancestors(concept.id), f"{concept.id} is in a cycle"


def test_no_phrase_names_two_concepts() -> None:
    folded: dict[tuple[str, ...], set[str]] = defaultdict(set)
    exact: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for entries in _bundled().values():
        for entry in entries:
            for phrase in (entry["name"], *entry.get("synonyms", [])):
                folded[_folded_key(str(phrase))].add(entry["id"])
            for abbreviation in entry.get("abbreviations", []):
                exact[_exact_key(str(abbreviation))].add(entry["id"])
    collisions = {key: owners for key, owners in folded.items() if len(owners) > 1}
    collisions |= {key: owners for key, owners in exact.items() if len(owners) > 1}
    # An abbreviation that another concept also has as a case-insensitive phrase: the abbreviation
    # would win where the text is written exactly so, and the phrase everywhere else.
    for key, owners in exact.items():
        spelled = tuple(americanize(token.lower()) for token in key)
        if folded.get(spelled, set()) - owners:
            collisions[key] = owners | folded[spelled]
    unexplained = {key: owners for key, owners in collisions.items() if key not in ALLOWED_COLLISIONS}
    assert not unexplained, "phrases with two concepts:\n" + "\n".join(
        f"  {' '.join(key)!r}: {sorted(owners)}" for key, owners in sorted(unexplained.items())
    )


# Labs and measures -------------------------------------------------------------------------


@pytest.mark.parametrize("concept", _concepts(*MEASURED), ids=lambda c: c.id)
def test_every_lab_and_measure_has_a_unit_pint_parses(concept: Concept) -> None:
    unit = concept.properties.get("unit")
    assert isinstance(unit, str) and unit, f"{concept.id} has no unit"
    assert isinstance(_canonical(concept), pint.Quantity)  # raises if pint cannot read it


@pytest.mark.parametrize("concept", _concepts(*MEASURED), ids=lambda c: c.id)
def test_limits_and_molar_masses_are_numbers_in_order(concept: Concept) -> None:
    properties = concept.properties
    low, high = properties.get("lower_limit_of_normal"), properties.get("upper_limit_of_normal")
    for value in (low, high, properties.get("molar_mass")):
        assert value is None or (isinstance(value, int | float) and value > 0), concept.id
    if low is not None and high is not None:
        assert low < high, concept.id
    if low is not None or high is not None:
        assert properties.get("reference"), f"{concept.id} gives limits without a reference"


def test_labs_usually_given_as_multiples_of_the_upper_limit_have_one() -> None:
    vocabulary = load_vocabulary()
    expected = {"alt": 40, "ast": 40, "alkaline_phosphatase": 120, "ggt": 60, "total_bilirubin": 1.2,
                "direct_bilirubin": 0.3, "creatinine": 1.2, "lipase": 60, "amylase": 100, "inr": 1.1,
                "ldh": 250, "uric_acid": 7.0}
    for concept_id, limit in expected.items():
        assert vocabulary.concepts[concept_id].properties["upper_limit_of_normal"] == limit, concept_id
    for concept_id in ("prothrombin_time", "aptt"):
        assert vocabulary.concepts[concept_id].properties["upper_limit_of_normal"] > 0


@pytest.mark.parametrize(
    ("concept_id", "value", "unit", "target", "expected"),
    [
        ("hemoglobin", 1, "g/dL", "mmol/L", 0.6206),
        ("creatinine", 1, "mg/dL", "umol/L", 88.4),
        ("total_bilirubin", 1, "mg/dL", "umol/L", 17.1),
        ("glucose", 100, "mg/dL", "mmol/L", 5.55),
        ("urea_nitrogen", 10, "mg/dL", "mmol/L", 3.57),
        ("calcium", 10, "mg/dL", "mmol/L", 2.495),
        ("uric_acid", 7, "mg/dL", "umol/L", 416),
        ("testosterone", 50, "ng/dL", "nmol/L", 1.73),
    ],
)
def test_molar_masses_give_the_usual_conversion_factors(
    concept_id: str, value: float, unit: str, target: str, expected: float
) -> None:
    concept = load_vocabulary().concepts[concept_id]
    units = _units()
    assert _canonical(concept).is_compatible_with(unit)
    molar = units.Quantity(value, unit) / units.Quantity(concept.properties["molar_mass"], "g/mol")
    assert molar.to(target).magnitude == pytest.approx(expected, rel=0.005)


def test_counts_fractions_and_rates_convert_as_criteria_write_them() -> None:
    units, concepts = _units(), load_vocabulary().concepts
    assert _in_canonical(units.Quantity(1000, "cells/uL"), concepts["anc"]) == pytest.approx(1.0)
    assert _in_canonical(units.Quantity(100_000, "1/mm**3"), concepts["platelets"]) == pytest.approx(100)
    assert _in_canonical(units.Quantity(0.01, "percent"), concepts["mrd"]) == pytest.approx(1e-4)
    per_area = units.Quantity(60, "mL/min") / units.Quantity(1.73, "m**2")
    assert _in_canonical(per_area, concepts["egfr"]) == pytest.approx(60)
    assert _in_canonical(units.Quantity(0.45, "s"), concepts["qtc"]) == pytest.approx(450)


def test_mrd_the_measure_points_at_mrd_the_condition() -> None:
    concepts = load_vocabulary().concepts
    assert concepts["mrd"].kind == "measure"
    assert concepts["mrd"].properties["condition"] == "minimal_residual_disease"
    assert concepts["minimal_residual_disease"].kind == "condition"


# Codes -------------------------------------------------------------------------------------

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5), (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7), (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3), (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P1 = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)


def _verhoeff_ok(digits: str) -> bool:
    """SNOMED CT identifiers end in a Verhoeff check digit."""
    permutations = [tuple(range(10))]
    for _ in range(7):
        permutations.append(tuple(permutations[-1][_VERHOEFF_P1[j]] for j in range(10)))
    check = 0
    for i, digit in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][permutations[i % 8][int(digit)]]
    return check == 0


def _luhn_ok(digits: str) -> bool:
    """LOINC codes end in a mod-10 (Luhn) check digit."""
    total = 0
    for i, digit in enumerate(int(d) for d in reversed(digits)):
        doubled = digit * 2 if i % 2 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def test_snomed_and_loinc_check_digits_catch_typos() -> None:
    assert _verhoeff_ok("22298006") and not _verhoeff_ok("22298007")  # myocardial infarction
    assert _luhn_ok("7187") and not _luhn_ok("7188")  # hemoglobin, 718-7


_CODE_FORMS = {
    "loinc": re.compile(r"\d{1,7}-\d"),
    "snomed": re.compile(r"\d{6,18}"),
    "atc": re.compile(r"[A-Z](?:\d{2}(?:[A-Z](?:[A-Z](?:\d{2})?)?)?)?"),
    "icd10": re.compile(r"[A-Z]\d{2}(?:\.\d{1,2})?"),
    "icd10cm": re.compile(r"[A-Z]\d{2}(?:\.\w{1,4})?"),
    "ncit": re.compile(r"C\d+"),
}


def test_codes_are_well_formed_and_pass_their_check_digits() -> None:
    for concept in load_vocabulary().concepts.values():
        for system, code in concept.codes.items():
            assert system in _CODE_FORMS, f"{concept.id}: unknown code system {system}"
            assert _CODE_FORMS[system].fullmatch(code), f"{concept.id}: {system} {code}"
            if system == "snomed":
                assert code[-3:-1] == "00" and _verhoeff_ok(code), f"{concept.id}: SNOMED CT {code}"
            if system == "loinc":
                assert _luhn_ok(code.replace("-", "")), f"{concept.id}: LOINC {code}"


# Criteria phrases --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Blood counts and chemistry
        ("Absolute neutrophil count ≥1,000/μL", ["anc"]),
        ("ANC ≥ 750/μL without growth factor support", ["anc", "hematopoietic_growth_factor"]),
        ("Platelets ≥50,000/μL", ["platelets"]),
        ("Hemoglobin level ≥9 g/dL", ["hemoglobin"]),
        ("Haemoglobin ≥ 8 g/dl (transfusion allowed)", ["hemoglobin", "blood_transfusion"]),
        ("White blood cell count ≥ 3,000/μL", ["wbc"]),
        ("CD4 count ≥ 350 cells/mm³", ["cd4_count"]),
        ("AST, ALT, and AP < 2 x ULN", ["ast", "alt", "alkaline_phosphatase"]),
        ("ALT/SGPT and AST/SGOT ≤ 3 × ULN", ["alt", "ast"]),
        ("Total bilirubin <1.5 x ULN", ["total_bilirubin"]),
        ("Direct bilirubin > 1.5 mg/dl", ["direct_bilirubin"]),
        ("Serum bilirubin ≤ 1.5 × ULN unless due to Gilbert's syndrome", ["total_bilirubin", "gilbert_syndrome"]),
        ("Creatinine clearance ≥ 50 mL/min", ["creatinine_clearance"]),
        ("CrCl ≥ 30 mL/min (Cockcroft-Gault)", ["creatinine_clearance"]),
        ("Serum creatinine above upper limit of normal", ["creatinine"]),
        ("eGFR ≥ 60 mL/min/1.73 m²", ["egfr"]),
        ("Glomerular filtration rate ≥ 70 mL/min/1.73m2", ["egfr"]),
        ("Prothrombin time (PT) or INR ≤ 1.5 × ULN and aPTT ≤ 1.5 × ULN", ["prothrombin_time", "inr", "aptt"]),
        ("PT/INR < 1.5", ["inr"]),
        ("Fibrinogen ≥ 100 mg/dL", ["fibrinogen"]),
        ("Serum lipase and amylase ≤ 1.5 × ULN", ["lipase", "amylase"]),
        ("HbA1c ≤ 8%", ["hba1c"]),
        ("Serum uric acid > 7 mg/dL", ["uric_acid"]),
        # Physiological measures and disease burden
        ("Left ventricular ejection fraction ≥ 50% by echocardiogram", ["lvef"]),
        ("Shortening fraction ≥ 27% by echocardiogram", ["shortening_fraction"]),
        ("QTcF ≤ 480 ms", ["qtc"]),
        ("Pulse oximetry > 92% on room air", ["oxygen_saturation"]),
        ("Greater than or equal to 5% blasts in the Bone Marrow", ["bone_marrow_blasts"]),
        ("M3 marrow at end of induction", ["bone_marrow_blasts"]),
        ("Circulating blasts > 1,000/μL", ["peripheral_blasts"]),
        ("CSF WBC < 5/μL", ["csf_wbc"]),
        ("MRD ≥10^-4", ["minimal_residual_disease"]),
        ("MRD level ≥ 0.01% by flow cytometry", ["mrd"]),
        # Transplant and cellular therapy
        ("AlloHSCT within 12 weeks", ["allogeneic_hsct"]),
        ("Autologous HSCT within six weeks", ["autologous_hsct"]),
        ("Have had a stem cell transplant using donor cells in the past", ["allogeneic_hsct"]),
        ("Prior allogenic stem cell transplantation", ["allogeneic_hsct"]),
        ("Paediatric haematopoietic stem cell transplant", ["hsct"]),
        ("Donor lymphocyte infusion (DLI) within 4 weeks", ["donor_lymphocyte_infusion"]),
        ("Prior failed CD19 directed therapy such as prior blinatumomab or CAR T cells",
         ["cd19_directed_therapy", "blinatumomab", "car_t_cell_therapy"]),
        ("Prior CD19 CAR T-cell therapy", ["cd19_car_t_cell_therapy"]),
        # Other therapy
        ("Immunotherapy (eg, rituximab)", ["immunotherapy", "rituximab"]),
        ("Cancer chemotherapy", ["chemotherapy"]),
        ("intrathecal chemotherapy", ["intrathecal_chemotherapy"]),
        ("Radiotherapy within 2 weeks", ["radiotherapy"]),
        ("Prior cranial radiotherapy", ["cranial_irradiation"]),
        ("Total body irradiation (TBI)", ["total_body_irradiation"]),
        ("investigational drug within 30 days", ["investigational_agent"]),
        ("Received any anti-cancer therapy within 2 weeks", ["anticancer_therapy"]),
        ("Systemic corticosteroids > 10 mg/day prednisone", ["systemic_corticosteroids", "prednisone"]),
        ("Ph+ ALL previously treated with ponatinib or asciminib", ["ph_positive_all", "ponatinib", "asciminib"]),
        ("Strong CYP3A4 inhibitors within 7 days", ["strong_cyp3a4_inhibitor"]),
        ("Live vaccine within 30 days", ["live_vaccine"]),
        ("Major surgery within 4 weeks", ["major_surgery"]),
        ("G-CSF or pegfilgrastim within 7 days", ["g_csf", "pegfilgrastim"]),
        ("Therapeutic anticoagulation with warfarin", ["anticoagulant", "warfarin"]),
        # Infections
        ("Known infection with HIV or chronic infection with hepatitis B (HBsAg positive) or hepatitis C "
         "(anti-HCV positive)", ["hiv", "hepatitis_b", "hepatitis_c"]),
        ("Active uncontrolled infection", ["infection"]),
        ("COVID-19 (SARS-CoV-2) infection", ["covid_19"]),
        ("Septicaemia", ["sepsis"]),
        # Conditions
        ("Clinically relevant CNS pathology requiring treatment (eg, unstable epilepsy)", ["cns_disorder", "epilepsy"]),
        ("CNS leukemia at diagnosis", ["cns_leukemia"]),
        ("CNS3 disease at diagnosis", ["cns_leukemia"]),
        ("Testicular involvement at relapse", ["testicular_leukemia"]),
        ("Isolated extramedullary relapse", ["isolated_extramedullary_relapse"]),
        ("carcinoma in situ of the cervix or non melanoma skin cancer",
         ["cervical_carcinoma_in_situ", "non_melanoma_skin_cancer"]),
        ("Second primary malignancy", ["other_malignancy"]),
        ("History of myocardial infarction, unstable angina or stroke within 6 months",
         ["myocardial_infarction", "unstable_angina", "stroke"]),
        ("NYHA class III or IV heart failure", ["heart_failure"]),
        ("Active acute GVHD grade II-IV", ["acute_gvhd"]),
        ("Down syndrome (trisomy 21)", ["down_syndrome"]),
        ("Acute lymphoblastic leukaemia with anaemia", ["all", "anemia"]),
        ("CML-AP or CML-BP", ["cml_accelerated_phase", "cml_blast_phase"]),
        # Words that must stay words
        ("EGFR mutation", []),
        ("all patients must sign consent", []),
        ("Pregnant or breastfeeding", []),
    ],
)
def test_criteria_phrases_find_their_concepts(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


# Criteria data: performance scales and disease-burden classes ------------------------------


def _criteria_data(name: str) -> dict:
    return yaml.safe_load(resources.files("trialmatch.data").joinpath(f"criteria/{name}").read_text("utf-8"))


def test_performance_scales_have_grades_across_their_range() -> None:
    scales = _criteria_data("performance.yaml")["scales"]
    assert set(scales) == {"ecog", "karnofsky", "lansky"}
    for scale_id, scale in scales.items():
        low, high = scale["range"]
        assert sorted(scale["grades"]) == list(range(low, high + 1, scale["step"])), scale_id
        assert scale["synonyms"] and scale["source"], scale_id


def test_every_ecog_grade_converts_to_karnofsky_and_back() -> None:
    data = _criteria_data("performance.yaml")
    ecog_to_kps, kps_to_ecog = data["conversion"]["ecog_to_karnofsky"], data["conversion"]["karnofsky_to_ecog"]
    assert sorted(ecog_to_kps) == list(range(6)) and sorted(kps_to_ecog) == list(range(0, 101, 10))
    assert ecog_to_kps[0] == [90, 100] and ecog_to_kps[1] == [70, 80] and ecog_to_kps[5] == [0, 0]
    for kps, ecog in kps_to_ecog.items():
        low, high = ecog_to_kps[ecog]
        assert low <= kps <= high, kps
    assert data["conversion"]["same_as"] == {"lansky": "karnofsky"}


def test_disease_burden_classes_use_vocabulary_measures_and_cover_the_scale() -> None:
    data, concepts = _criteria_data("disease_burden.yaml"), load_vocabulary().concepts
    for status in ("marrow_status", "cns_status"):
        measure = concepts[data[status]["measure"]]
        assert measure.kind == "measure" and measure.properties["unit"] == data[status]["unit"]
        assert measure.properties["status_classes"] == status
    marrow = data["marrow_status"]["classes"]
    assert marrow["M1"]["bone_marrow_blasts"] == {"lt": 5}
    assert marrow["M2"]["bone_marrow_blasts"] == {"ge": 5, "le": 25}
    assert marrow["M3"]["bone_marrow_blasts"] == {"gt": 25}
    cns = data["cns_status"]["classes"]
    assert cns["CNS1"]["csf_blasts"] is False
    assert cns["CNS2"]["csf_wbc"] == {"lt": 5} and cns["CNS2"]["csf_blasts"] is True
    assert cns["CNS3"]["csf_wbc"] == {"ge": 5} and cns["CNS3"]["concept"] in concepts
