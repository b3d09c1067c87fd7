"""Lab thresholds and disease-burden measures: units, the seed criteria and real corpus wordings.

Wordings marked "corpus" are quoted from ../shared/data/criteria-corpus (hint-trials.jsonl and
lct-criteria.jsonl; wrapped lines joined with one space).
"""

from __future__ import annotations

import pytest

from trialmatch.criteria.compiler import CONFIDENT, CompiledCriterion, compile_criteria
from trialmatch.criteria.passage import Passage
from trialmatch.criteria.recognisers import labs
from trialmatch.criteria.rules import AllOf, AnyOf, Lab, Not, Rule, leaves
from trialmatch.criteria.units import (
    UnitError,
    convert,
    limit_of_normal,
    normalise_unit,
    to_canonical,
)
from trialmatch.vocabulary.concepts import load_vocabulary

# --- helpers ---------------------------------------------------------------------------------------------------


def _compile(item: str, section: str = "inclusion") -> tuple[str, CompiledCriterion]:
    heading = "Inclusion Criteria:" if section == "inclusion" else "Exclusion Criteria:"
    text = f"{heading}\n- {item}\n"
    criteria = compile_criteria(text).criteria
    assert len(criteria) == 1, [c.text for c in criteria]
    return text, criteria[0]


def _labs(rule: Rule) -> list[Lab]:
    return [leaf for leaf in leaves(rule) if isinstance(leaf, Lab)]


def _summary(rule: Rule) -> list[tuple[str, str, float, str | None, str]]:
    return [(lab.analyte, lab.comparator, lab.value, lab.unit, lab.reference) for lab in _labs(rule)]


def _span_text(text: str, lab: Lab) -> str:
    assert lab.span is not None
    return text[lab.span[0] : lab.span[1]]


def _recognise(item: str, section: str = "inclusion") -> list:
    return labs.recognise(Passage(item, 0, len(item), section))  # type: ignore[arg-type]


# --- units -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "canonical"), [
    ("/μL", "cells/uL"), ("/µL", "cells/uL"), ("/uL", "cells/uL"), ("/mcL", "cells/uL"), ("/mm³", "cells/uL"),
    ("/mm3", "cells/uL"), ("cells/mm3", "cells/uL"), ("/cu mm", "cells/uL"), ("cells per cubic millimeter", "cells/uL"),
    ("μL", "uL"), ("mm³", "uL"), ("cu mm", "uL"), ("dl", "dL"), ("dL", "dL"),
    ("10^9/L", "10**9/L"), ("x 10⁹/L", "10**9/L"), ("x 109/L", "10**9/L"), ("x 10(9)/L", "10**9/L"),
    ("G/L", "10**9/L"), ("x10^3/uL", "10**3/uL"), ("K/uL", "10**3/uL"),
    ("g/dl", "g/dL"), ("gm/dL", "g/dL"), ("g/L", "g/L"), ("mg/dl", "mg/dL"), ("mg%", "mg/dL"),
    ("umol/L", "umol/L"), ("μmol/L", "umol/L"), ("µmol/L", "umol/L"), ("mmol/L", "mmol/L"),
    ("mL/min/1.73 m2", "mL/min/(1.73*m**2)"), ("ml/min/1.73m²", "mL/min/(1.73*m**2)"),
    ("mL/min per 1.73 m2", "mL/min/(1.73*m**2)"), ("ml/min", "mL/min"), ("mL/minute", "mL/min"),
    ("%", "%"), ("U/L", "U/L"), ("IU/L", "IU/L"), ("ms", "ms"), ("msec", "ms"), ("sec", "s"),
])
def test_normalise_unit(written: str, canonical: str) -> None:
    assert normalise_unit(written) == canonical


@pytest.mark.parametrize("written", ["", "weeks", "mg/kg", "cells/mL", "years"])
def test_normalise_unit_refuses_what_is_not_a_lab_unit(written: str) -> None:
    assert normalise_unit(written) is None


@pytest.mark.parametrize(("value", "source", "target", "molar_mass", "expected"), [
    (1000, "/μL", "x 10^9/L", None, 1.0),            # ANC 1,000/uL = 1.0 x 10^9/L
    (50000, "/μL", "10**9/L", None, 50.0),           # platelets 50,000/uL = 50 x 10^9/L
    (100, "10**3/uL", "cells/uL", None, 100000.0),   # 100 K/uL
    (1500, "/mm3", "G/L", None, 1.5),
    (9, "g/dL", "g/L", None, 90.0),                  # hemoglobin
    (9, "g/dL", "mmol/L", 16114.5, 5.585),           # hemoglobin (monomer)
    (1.5, "mg/dL", "μmol/L", 584.66, 25.656),        # bilirubin
    (1, "mg/dL", "umol/L", 113.12, 88.40),           # creatinine
    (0.01, "%", "ratio", None, 0.0001),              # MRD 0.01 % = 10^-4
    (40, "U/L", "IU/L", None, 40.0),
    (470, "ms", "s", None, 0.47),
])
def test_convert_real_figures(value: float, source: str, target: str, molar_mass: float | None,
                              expected: float) -> None:
    assert convert(value, source, target, molar_mass) == pytest.approx(expected, rel=1e-3)


def test_convert_refuses_different_quantities() -> None:
    with pytest.raises(UnitError, match="molar mass"):
        convert(1, "mg/dL", "umol/L")
    with pytest.raises(UnitError):
        convert(60, "mL/min", "mL/min/1.73 m2")  # normalised to body surface: not the same quantity
    with pytest.raises(UnitError):
        convert(5, "%", "g/dL", 16114.5)
    with pytest.raises(UnitError, match="unknown unit"):
        convert(1, "wibbles/L", "mg/dL")


def test_to_canonical_uses_the_vocabulary() -> None:
    assert to_canonical(1000, "cells/uL", "anc") == (pytest.approx(1.0), "10**9/L")
    assert to_canonical(90, "g/L", "hemoglobin") == (pytest.approx(9.0), "g/dL")
    assert to_canonical(88.4, "μmol/L", "creatinine") == (pytest.approx(1.0, rel=1e-3), "mg/dL")
    assert to_canonical(1.3, None, "inr") == (1.3, "ratio")


def test_limit_of_normal_prefers_the_patients_range() -> None:
    assert limit_of_normal("total_bilirubin", "uln") == (1.2, "mg/dL")
    assert limit_of_normal("total_bilirubin", "uln", (20.5, "umol/L"))[0] == pytest.approx(1.199, rel=1e-3)
    assert limit_of_normal("alt", "lln") is None


# --- the seed criteria --------------------------------------------------------------------------------------------


def test_seed_bone_marrow_function() -> None:
    item = ("Bone marrow function as defined below: Absolute neutrophil count ≥1,000/μL, Platelets ≥50,000/μL "
            "(transfusion permitted), Hemoglobin level ≥9 g/dL (transfusion permitted)")
    text, criterion = _compile(item)
    assert isinstance(criterion.rule, AllOf)
    assert criterion.category == "lab" and criterion.computable
    assert _summary(criterion.rule) == [("anc", ">=", 1000.0, "cells/uL", "absolute"),
                                        ("platelets", ">=", 50000.0, "cells/uL", "absolute"),
                                        ("hemoglobin", ">=", 9.0, "g/dL", "absolute")]
    assert [_span_text(text, lab) for lab in _labs(criterion.rule)] == [
        "Absolute neutrophil count ≥1,000/μL", "Platelets ≥50,000/μL", "Hemoglobin level ≥9 g/dL"]
    found = _recognise(item)
    claimed = [item[start:end] for f in found for start, end in f.claimed]
    assert claimed.count("(transfusion permitted)") == 2
    assert "Bone marrow function as defined below: " in claimed


def test_seed_renal_and_hepatic_function() -> None:
    item = ("Renal and hepatic function as defined below: Aspartate aminotransferase (AST), Alanine aminotransferase "
            "(ALT), and alkaline phosphatase (AP) < 2 x upper limit of normal (ULN), Total bilirubin <1.5 x ULN, "
            "Creatinine clearance ≥ 50 mL/min")
    text, criterion = _compile(item)
    assert criterion.computable and criterion.category == "lab"
    rule = criterion.rule
    assert isinstance(rule, AllOf)
    assert _summary(rule) == [("ast", "<", 2.0, None, "uln"), ("alt", "<", 2.0, None, "uln"),
                              ("alkaline_phosphatase", "<", 2.0, None, "uln"),
                              ("total_bilirubin", "<", 1.5, None, "uln"),
                              ("creatinine_clearance", ">=", 50.0, "mL/min", "absolute")]
    shared = rule.children[0]  # one finding for the list, its own AllOf
    assert isinstance(shared, AllOf) and len(shared.children) == 3
    assert _span_text(text, _labs(rule)[2]) == "alkaline phosphatase (AP) < 2 x upper limit of normal (ULN)"
    assert _span_text(text, _labs(rule)[3]) == "Total bilirubin <1.5 x ULN"


def test_shared_threshold_with_abbreviations() -> None:
    text, criterion = _compile("AST, ALT, and AP < 2 x ULN")
    assert isinstance(criterion.rule, AllOf) and criterion.computable
    assert _summary(criterion.rule) == [("ast", "<", 2.0, None, "uln"), ("alt", "<", 2.0, None, "uln"),
                                        ("alkaline_phosphatase", "<", 2.0, None, "uln")]
    assert criterion.rule.span is not None
    assert text[criterion.rule.span[0] : criterion.rule.span[1]] == "AST, ALT, and AP < 2 x ULN"


def test_seed_total_bilirubin_and_creatinine_clearance() -> None:
    _, criterion = _compile("Total bilirubin <1.5 x ULN")
    assert _summary(criterion.rule) == [("total_bilirubin", "<", 1.5, None, "uln")]
    _, criterion = _compile("Creatinine clearance ≥ 50 mL/min")
    assert _summary(criterion.rule) == [("creatinine_clearance", ">=", 50.0, "mL/min", "absolute")]
    assert criterion.computable


def test_seed_direct_bilirubin_with_conversion_and_exception() -> None:
    item = ("Direct bilirubin > 1.5 mg/dl (25.6 μmol/L) at screening (unless related to Gilbert's or Meulengracht "
            "disease).")
    text, criterion = _compile(item, "exclusion")
    lab = criterion.rule
    assert isinstance(lab, Lab)
    assert (lab.analyte, lab.comparator, lab.value, lab.unit) == ("direct_bilirubin", ">", 1.5, "mg/dL")
    assert _span_text(text, lab) == "Direct bilirubin > 1.5 mg/dl"
    claimed = [item[start:end] for f in _recognise(item, "exclusion") for start, end in f.claimed]
    assert "(25.6 μmol/L)" in claimed
    assert len(lab.exceptions) == 1
    assert lab.exceptions[0].text == "unless related to Gilbert's or Meulengracht disease"
    if not load_vocabulary().find("Meulengracht disease"):
        pytest.skip("gilbert_syndrome lacks the synonyms \"Gilbert's\" and \"Meulengracht disease\"")
    assert lab.exceptions[0].concepts == ("gilbert_syndrome",)
    assert lab.exceptions[0].complete
    assert criterion.computable


def test_seed_creatinine_above_uln_for_age_and_gender() -> None:
    text, criterion = _compile(
        "Serum creatinine above upper limit of normal, based on normal ranges for age and gender", "exclusion")
    assert criterion.computable and criterion.category == "lab"
    assert _summary(criterion.rule) == [("creatinine", ">", 1.0, None, "uln")]
    assert isinstance(criterion.rule, Lab)
    assert _span_text(text, criterion.rule).endswith("based on normal ranges for age and gender")


def test_seed_threshold_table_is_a_question() -> None:
    _, criterion = _compile(
        "Abnormal serum creatinine based on age/gender as described by Threshold Creatinine Values", "exclusion")
    assert not _labs(criterion.rule)
    assert not criterion.computable


def test_seed_mrd_with_assay_sensitivity() -> None:
    item = "Persistent or recurrent MRD ≥10^-4 in an assay with a minimum sensitivity of 10^-5"
    text, criterion = _compile(item)
    lab = criterion.rule
    assert isinstance(lab, Lab)
    assert (lab.analyte, lab.comparator, lab.value, lab.unit) == ("mrd", ">=", pytest.approx(1e-4), None)
    assert lab.assay_sensitivity == pytest.approx(1e-5)
    assert criterion.category == "disease_burden" and criterion.computable
    assert _span_text(text, lab) == "MRD ≥10^-4 in an assay with a minimum sensitivity of 10^-5"
    claimed = [item[start:end] for f in _recognise(item) for start, end in f.claimed]
    assert "Persistent or recurrent" in claimed


def test_seed_mrd_before_transplant_keeps_the_rest_as_a_question() -> None:
    _, criterion = _compile("Persistent or recurrent MRD ≥10^-4 in an assay with a minimum sensitivity of 10^-5 "
                            "before hematopoietic stem cell transplantation")
    assert _summary(criterion.rule)[0] == ("mrd", ">=", pytest.approx(1e-4), None, "absolute")


@pytest.mark.parametrize(("item", "comparator", "value"), [
    ("MRD ≥ 0.01%", ">=", 1e-4),              # a percentage of MRD is stored as a fraction
    ("MRD ≥ 10-4", ">=", 1e-4),               # a lost superscript
    ("MRD positive (≥ 10^-4)", ">=", 1e-4),
    ("MRD level of 10^-3 or higher", ">=", 1e-3),
    ("Patients with MRD ≥ 1 x 10-4 (sensitivity of at least 10-5)", ">=", 1e-4),
])
def test_mrd_forms(item: str, comparator: str, value: float) -> None:
    _, criterion = _compile(item)
    lab = criterion.rule
    assert isinstance(lab, Lab) and lab.analyte == "mrd" and lab.unit is None
    assert (lab.comparator, lab.value) == (comparator, pytest.approx(value))
    assert criterion.category == "disease_burden" and criterion.computable


def test_bare_mrd_fraction_is_not_guessed() -> None:
    assert not _recognise("MRD > 0.1")  # a fraction or a percentage?


@pytest.mark.parametrize(("item", "comparator", "value"), [
    ("Greater than or equal to 5% blasts in the Bone Marrow", ">=", 5.0),   # seed
    ("≥5% bone marrow blasts", ">=", 5.0),                                  # seed
    ("≥ 25% lymphoblasts in the bone marrow", ">=", 25.0),
    ("Bone marrow blasts ≤ 5%", "<=", 5.0),                                 # corpus
    ("Relapsed disease will be defined as 5% or more blasts in bone marrow seen after remission.", ">=", 5.0),
])
def test_bone_marrow_blasts(item: str, comparator: str, value: float) -> None:
    text, criterion = _compile(item)
    lab = _labs(criterion.rule)[0]
    assert (lab.analyte, lab.comparator, lab.value, lab.unit) == ("bone_marrow_blasts", comparator, value, "%")
    assert "blast" in _span_text(text, lab).lower()


@pytest.mark.parametrize(("item", "limits"), [
    ("M1 marrow", [("<", 5.0)]),
    ("M3 marrow", [(">", 25.0)]),
    ("M1 or M2 marrow", [("<=", 25.0)]),
    ("M1 or M2 bone marrow", [("<=", 25.0)]),
    ("M2 or M3 marrow", [(">=", 5.0)]),
    ("M2 marrow", [(">=", 5.0), ("<=", 25.0)]),
])
def test_marrow_classes(item: str, limits: list[tuple[str, float]]) -> None:
    text, criterion = _compile(item)
    assert [(lab.comparator, lab.value) for lab in _labs(criterion.rule)] == limits
    assert all(lab.analyte == "bone_marrow_blasts" and lab.unit == "%" for lab in _labs(criterion.rule))
    assert criterion.category == "disease_burden" and criterion.computable
    assert _span_text(text, _labs(criterion.rule)[0]) == item


def test_marrow_classes_with_a_gap_are_not_read() -> None:
    assert not _recognise("M1 or M3 marrow")


def test_seed_m1_or_m2_bone_marrow_in_a_longer_sentence() -> None:
    item = ("Infants with newly diagnosed B-cell precursor acute lymphoblastic leukemia (ALL) who are treated "
            "according to the Interfant-06 protocol, belong to the medium or high risk group, and who have M1 or M2 "
            "bone marrow at the end of induction therapy.")
    labs_found = [f for f in _recognise(item) if f.category == "disease_burden"]
    assert len(labs_found) == 1
    assert _summary(labs_found[0].rule) == [("bone_marrow_blasts", "<=", 25.0, "%", "absolute")]
    assert item[labs_found[0].start : labs_found[0].end] == "M1 or M2 bone marrow"


def test_seed_circulating_blasts() -> None:
    text, criterion = _compile("Presence of circulating blasts or current extramedullary involvement by ALL",
                               "exclusion")
    lab = _labs(criterion.rule)[0]
    assert (lab.analyte, lab.comparator, lab.value, lab.unit) == ("peripheral_blasts", ">", 0.0, "%")
    assert _span_text(text, lab) == "Presence of circulating blasts"
    assert isinstance(criterion.rule, AnyOf)


def test_no_circulating_blasts_is_negated_by_compose() -> None:
    text, criterion = _compile("No circulating blasts", "exclusion")
    assert isinstance(criterion.rule, Not)
    assert _summary(criterion.rule) == [("peripheral_blasts", ">", 0.0, "%", "absolute")]
    assert _span_text(text, _labs(criterion.rule)[0]) == "circulating blasts"


def test_csf_white_cells() -> None:
    item = "> 5 white blood cells per cubic millimeter in cerebrospinal fluid (CSF)"
    text, criterion = _compile(item, "exclusion")
    assert _summary(criterion.rule) == [("csf_wbc", ">", 5.0, "cells/uL", "absolute")]
    assert criterion.category == "disease_burden" and criterion.computable
    assert _span_text(text, _labs(criterion.rule)[0]) == item
    seed = ("Active ALL in the central nervous system (CNS). Presence of greater than 5 white blood cells per cubic "
            "millimeter in cerebrospinal fluid (CSF) with lymphoblasts present and/or clinical signs of CNS leukemia")
    found = [f for f in _recognise(seed, "exclusion")]
    assert [_summary(f.rule) for f in found] == [[("csf_wbc", ">", 5.0, "cells/uL", "absolute")]]


# --- common forms, as the brief lists them ----------------------------------------------------------------------


@pytest.mark.parametrize(("item", "expected", "span"), [
    ("ANC ≥ 1.5 x 10^9/L", [("anc", ">=", 1.5, "10**9/L", "absolute")], "ANC ≥ 1.5 x 10^9/L"),
    ("platelet count ≥ 100,000/mm3", [("platelets", ">=", 100000.0, "cells/uL", "absolute")], None),
    ("hemoglobin ≥ 9.0 g/dL", [("hemoglobin", ">=", 9.0, "g/dL", "absolute")], None),
    ("total bilirubin ≤ 1.5 times the upper limit of normal", [("total_bilirubin", "<=", 1.5, None, "uln")], None),
    ("bilirubin < 2 mg/dl", [("total_bilirubin", "<", 2.0, "mg/dL", "absolute")], None),
    ("SGOT and SGPT < 3 times institutional upper limit of normal",
     [("ast", "<", 3.0, None, "uln"), ("alt", "<", 3.0, None, "uln")], None),
    ("creatinine < 1.5 x institutional ULN", [("creatinine", "<", 1.5, None, "uln")], None),
    ("eGFR ≥ 30 mL/min/1.73m2", [("egfr", ">=", 30.0, "mL/min/(1.73*m**2)", "absolute")], None),
    ("LVEF ≥ 50%", [("lvef", ">=", 50.0, "%", "absolute")], None),
    ("ejection fraction ≥ 45% by echocardiogram or MUGA", [("lvef", ">=", 45.0, "%", "absolute")], None),
    ("shortening fraction ≥ 27%", [("shortening_fraction", ">=", 27.0, "%", "absolute")], None),
    ("QTc ≤ 470 ms", [("qtc", "<=", 470.0, "ms", "absolute")], None),
    ("oxygen saturation ≥ 92% on room air", [("oxygen_saturation", ">=", 92.0, "%", "absolute")], None),
    ("INR ≤ 1.5", [("inr", "<=", 1.5, None, "absolute")], None),
    ("WBC < 50,000/µL", [("wbc", "<", 50000.0, "cells/uL", "absolute")], None),
    ("albumin ≥ 3 g/dL", [("albumin", ">=", 3.0, "g/dL", "absolute")], None),
])
def test_common_forms(item: str, expected: list, span: str | None) -> None:
    text, criterion = _compile(item)
    assert _summary(criterion.rule) == expected
    assert criterion.computable and criterion.category == "lab"
    first = _labs(criterion.rule)[0]
    assert _span_text(text, first) == (span or item)


def test_creatinine_or_clearance_is_any_of() -> None:
    text, criterion = _compile("serum creatinine ≤ 1.5 mg/dL or creatinine clearance ≥ 60 mL/min")
    assert isinstance(criterion.rule, AnyOf) and criterion.computable
    assert _summary(criterion.rule) == [("creatinine", "<=", 1.5, "mg/dL", "absolute"),
                                        ("creatinine_clearance", ">=", 60.0, "mL/min", "absolute")]
    assert [_span_text(text, lab) for lab in _labs(criterion.rule)] == [
        "serum creatinine ≤ 1.5 mg/dL", "creatinine clearance ≥ 60 mL/min"]


def test_conditional_alternative_threshold_is_not_dropped() -> None:
    _, criterion = _compile("AST/ALT ≤ 2.5 × ULN (≤ 5 × ULN if liver metastases)")
    assert _summary(criterion.rule)[:2] == [("ast", "<=", 2.5, None, "uln"), ("alt", "<=", 2.5, None, "uln")]
    assert not criterion.computable
    assert all(f.confidence < CONFIDENT for f in _recognise("AST/ALT ≤ 2.5 × ULN (≤ 5 × ULN if liver metastases)"))


# --- real wordings from the corpora ----------------------------------------------------------------------------------


CORPUS = [
    # (section, item, expected labs, rule type)
    ("inclusion", "Platelet count ≥ 100,000/mm^3", [("platelets", ">=", 100000.0, "cells/uL", "absolute")], Lab),
    ("inclusion", "Serum creatinine level more than 1.5 times the upper limit of normal",
     [("creatinine", ">", 1.5, None, "uln")], Lab),
    ("exclusion", "Prolonged QTcF greater than 450 msec or shortened QTcF less than 340 msec",
     [("qtc", ">", 450.0, "ms", "absolute"), ("qtc", "<", 340.0, "ms", "absolute")], None),
    ("inclusion", "Serum amylase ≤ 1.5 ULN for age.", [("amylase", "<=", 1.5, None, "uln")], Lab),
    ("inclusion", "Platelets ≥100,000/mcL", [("platelets", ">=", 100000.0, "cells/uL", "absolute")], Lab),
    ("inclusion", "Leukocytes >= 3,000/mcL", [("wbc", ">=", 3000.0, "cells/uL", "absolute")], Lab),
    ("inclusion", "Estimated creatinine clearance ≥ 30 ml/min",
     [("creatinine_clearance", ">=", 30.0, "mL/min", "absolute")], Lab),
    ("inclusion", "Platelet count ≤ 100 x 10e9/L", [("platelets", "<=", 100.0, "10**9/L", "absolute")], Lab),
    ("inclusion", "Platelets ≥30 x 10^3/µL,", [("platelets", ">=", 30.0, "10**3/uL", "absolute")], Lab),
    ("inclusion", "Total bilirubin and serum creatinine ≤2 times the ULN.",
     [("total_bilirubin", "<=", 2.0, None, "uln"), ("creatinine", "<=", 2.0, None, "uln")], AllOf),
    ("inclusion", "Coagulation: aPTT and PT<=1.2 x the upper limit of normal",
     [("aptt", "<=", 1.2, None, "uln"), ("prothrombin_time", "<=", 1.2, None, "uln")], AllOf),
    ("inclusion", "Haemoglobin level of at least 7.0 g/dL", [("hemoglobin", ">=", 7.0, "g/dL", "absolute")], Lab),
    ("inclusion", "Hemoglobin at least 10.0 g/dL (6.2 mmol/L)", [("hemoglobin", ">=", 10.0, "g/dL", "absolute")], Lab),
    ("inclusion", "Hemoglobin > 9 g/dL (transfusion allowed)", [("hemoglobin", ">", 9.0, "g/dL", "absolute")], Lab),
    ("inclusion", "Adequate renal function: serum creatinine ≤ 1.5mg/dL",
     [("creatinine", "<=", 1.5, "mg/dL", "absolute")], Lab),
    ("inclusion", "Absolute neutrophil count greater than or equal to 1.5 x 109/L",
     [("anc", ">=", 1.5, "10**9/L", "absolute")], Lab),
    ("inclusion", "Absolute lymphocyte count <0.75 x 109/L (<750/mm3)",
     [("absolute_lymphocyte_count", "<", 0.75, "10**9/L", "absolute")], Lab),
    ("inclusion", "Serum total bilirubin level ≤1.5 X ULN", [("total_bilirubin", "<=", 1.5, None, "uln")], Lab),
    ("inclusion", "Alanine aminotransferase (ALT) and aspartate aminotransferase (AST) =< 2.5 x ULN",
     [("alt", "<=", 2.5, None, "uln"), ("ast", "<=", 2.5, None, "uln")], AllOf),
    ("inclusion", "AST(SGOT)/ALT(SGPT) <2.5 X institutional upper limit of normal",
     [("ast", "<", 2.5, None, "uln"), ("alt", "<", 2.5, None, "uln")], AllOf),
    ("inclusion", "ANC (absolute neutrophil count) ≥ 1,000/μL", [("anc", ">=", 1000.0, "cells/uL", "absolute")], Lab),
    ("inclusion", "Platelets ≥ 75K/mcL", [("platelets", ">=", 75.0, "10**3/uL", "absolute")], Lab),
    ("inclusion", "White blood cell count (WBC) ≥ 3.0 K/mm3", [("wbc", ">=", 3.0, "10**3/uL", "absolute")], Lab),
    ("inclusion", "White Blood Cell (WBC) >3,500/mm3 and < 12,000/mm3;",
     [("wbc", ">", 3500.0, "cells/uL", "absolute"), ("wbc", "<", 12000.0, "cells/uL", "absolute")], AllOf),
    ("inclusion", "Glycohemoglobin ≥7.0% and ≤10.0% at screening.",
     [("hba1c", ">=", 7.0, "%", "absolute"), ("hba1c", "<=", 10.0, "%", "absolute")], AllOf),
    ("inclusion", "Total bilirubin must be within normal limits.",
     [("total_bilirubin", ">=", 1.0, None, "lln"), ("total_bilirubin", "<=", 1.0, None, "uln")], AllOf),
    ("inclusion", "Bilirubin, SGOT, SGPT must be less than 1.5 times the upper limit of normal",
     [("total_bilirubin", "<", 1.5, None, "uln"), ("ast", "<", 1.5, None, "uln"), ("alt", "<", 1.5, None, "uln")],
     AllOf),
    ("inclusion", "Hematology: neutrophils >= 2.0 x10^9/l; platelets >= 100 x10^9/l; hemoglobin >= 10 g/dl.",
     [("anc", ">=", 2.0, "10**9/L", "absolute"), ("platelets", ">=", 100.0, "10**9/L", "absolute"),
      ("hemoglobin", ">=", 10.0, "g/dL", "absolute")], AllOf),
    ("inclusion", "Platelet count of <100x 10(9)/L within 14 days before enrollment.",
     [("platelets", "<", 100.0, "10**9/L", "absolute")], Lab),
    ("inclusion", "Fractional shortening at least 28% by echocardiogram",
     [("shortening_fraction", ">=", 28.0, "%", "absolute")], Lab),
    ("inclusion", "Left Ventricular Ejection Fraction (LVEF) < 50% measured by Multiple Gated Acquisition (MUGA) scan "
     "or echocardiogram (ECHO)", [("lvef", "<", 50.0, "%", "absolute")], Lab),
    ("inclusion", "Neutrophil count (ANC/AGC) ≥1500 per μL", [("anc", ">=", 1500.0, "cells/uL", "absolute")], Lab),
    ("inclusion", "CD4 count over 250 cell/mm3", [("cd4_count", ">", 250.0, "cells/uL", "absolute")], Lab),
    ("inclusion", "Serum creatinine greater than 1.5 mg/dl (>132 μmol/L, Système Internationale unit equivalent)",
     [("creatinine", ">", 1.5, "mg/dL", "absolute")], Lab),
    ("inclusion", "Fasting plasma glucose (FPG) ≤ 140mg/dL [7.8 mmol/L]",
     [("glucose", "<=", 140.0, "mg/dL", "absolute")], Lab),
    ("inclusion", "Estimated glomerular filtration rate [GFR] <40mL/min/1.73 m2",
     [("egfr", "<", 40.0, "mL/min/(1.73*m**2)", "absolute")], Lab),
    ("inclusion", "Hemoglobin ≥ 6.0 mmol/L", [("hemoglobin", ">=", 6.0, "mmol/L", "absolute")], Lab),
    ("inclusion", "Adequate hematologic function (absolute neutrophil count [ANC] ≥ 1,500 cells/μL; hemoglobin "
     "≥ 8 g/dL, platelets ≥ 100,000/μL).",
     [("anc", ">=", 1500.0, "cells/uL", "absolute"), ("hemoglobin", ">=", 8.0, "g/dL", "absolute"),
      ("platelets", ">=", 100000.0, "cells/uL", "absolute")], AllOf),
    ("inclusion", "AML according to world health organization (WHO) criteria (i.e. bone marrow blasts >20%)",
     [("bone_marrow_blasts", ">", 20.0, "%", "absolute")], None),
    ("exclusion", "Serum creatinine >ULN.", [("creatinine", ">", 1.0, None, "uln")], Lab),
    ("exclusion", "AST or ALT > 2.5 x Upper Limit of Normal.",
     [("ast", ">", 2.5, None, "uln"), ("alt", ">", 2.5, None, "uln")], AnyOf),
    ("exclusion", "Severe liver disease or ALT, AST, or bilirubin >2 times normal.",
     [("alt", ">", 2.0, None, "uln"), ("ast", ">", 2.0, None, "uln"), ("total_bilirubin", ">", 2.0, None, "uln")],
     None),
]


@pytest.mark.parametrize(("section", "item", "expected", "kind"), CORPUS, ids=[c[1][:40] for c in CORPUS])
def test_corpus_wordings(section: str, item: str, expected: list, kind: type | None) -> None:
    _, criterion = _compile(item, section)
    assert _summary(criterion.rule) == expected
    if kind is not None:
        assert isinstance(criterion.rule, kind)
        assert criterion.computable
        assert criterion.category == "lab"


@pytest.mark.parametrize(("item", "expected"), [
    ("Serum albumin >/= 2.5g/dL", [("albumin", ">=", 2.5, "g/dL", "absolute")]),                 # corpus
    ("ANC </= 1500/mm3", [("anc", "<=", 1500.0, "cells/uL", "absolute")]),
    ("Serum creatinine < or = 1.5 mg/dL", [("creatinine", "<=", 1.5, "mg/dL", "absolute")]),      # corpus
    ("Peripheral blood blast count of less than (<) 10%", [("peripheral_blasts", "<", 10.0, "%", "absolute")]),
    ("hemoglobin <11 gram/deciliter", [("hemoglobin", "<", 11.0, "g/dL", "absolute")]),
    ("Subjects with an estimated CrCl ≤ 30 mL/min by Cockroft-Gault",
     [("creatinine_clearance", "<=", 30.0, "mL/min", "absolute")]),
    ("Measured or calculated creatinine clearance of 50 mL/min or more",                          # corpus
     [("creatinine_clearance", ">=", 50.0, "mL/min", "absolute")]),
    ("eGFR between 30 and 60 mL/min/1.73 m2",
     [("egfr", ">=", 30.0, "mL/min/(1.73*m**2)", "absolute"), ("egfr", "<=", 60.0, "mL/min/(1.73*m**2)", "absolute")]),
    ("PTT or aPTT ≤ 1.5 x ULN", [("aptt", "<=", 1.5, None, "uln")]),                                # one test, twice
])
def test_written_variants(item: str, expected: list) -> None:
    _, criterion = _compile(item)
    assert _summary(criterion.rule) == expected
    assert criterion.computable


def test_corpus_conversion_and_note_are_claimed() -> None:
    item = "Hemoglobin at least 10.0 g/dL (6.2 mmol/L)"
    assert [item[s:e] for f in _recognise(item) for s, e in f.claimed] == ["(6.2 mmol/L)"]
    item = "Hemoglobin > 9 g/dL (transfusion allowed)"
    assert [item[s:e] for f in _recognise(item) for s, e in f.claimed] == ["(transfusion allowed)"]


def test_unitless_value_gets_the_plausible_unit() -> None:
    _, criterion = _compile("Adequate blood counts (Hemoglobin greater than/equal to 10, WBC greater than/equal to "
                            "3.0, platelets greater than/equal to 100).")
    assert _summary(criterion.rule) == [("hemoglobin", ">=", 10.0, "g/dL", "absolute"),
                                        ("wbc", ">=", 3.0, "10**9/L", "absolute"),
                                        ("platelets", ">=", 100.0, "10**9/L", "absolute")]
    assert [f.confidence for f in _recognise("ANC(Absolute Neutrophil Count) > 1500")] == [0.9]


# --- unsure: a threshold that holds only for some patients ----------------------------------------------------------


@pytest.mark.parametrize(("section", "item"), [
    ("inclusion", "Hemoglobin ≥12 g/dL for women and ≥13 g/dL for men"),
    ("inclusion", "Total bilirubin ≤ 1.5 times ULN (< 3.0 times ULN if Gilbert's disease is present)"),
    ("inclusion", "AST and ALT ≤ 2.5 times ULN (< 5 times ULN if liver metastases present)"),
    ("inclusion", "creatinine clearance >55 mL/min for patients with creatinine levels above institutional normal."),
    ("inclusion", "Platelet count >75,000 cells/mm3 (75 x 10^9/L), if thrombocytopenia is due to bone marrow "
                  "involvement platelet count must be ≥ 50,000 cells/mm3"),
    ("inclusion", "Aspartate aminotransferase (AST)/alanine aminotransferase (ALT) =< 1.5 ULN if without liver "
                  "metastases"),
    ("inclusion", "LVEF ≥ 50% or ≥ 45% if no anthracycline"),
    ("exclusion", "Known long QT syndrome or QTc > 450 milliseconds (ms) in males and > 470 ms in females"),
    ("inclusion", "AST or ALT ≤ 1.5 times upper limit of normal (ULN)"),  # "or" in an inclusion: either reading
    ("inclusion", "If creatinine > 1.5 mg/dL, creatinine clearance must be ≥ 60 mL/min"),
    ("inclusion", "Fasting plasma glucose within the normal range of 90 to 110 milligrams per deciliter (mg/dL) on the "
                  "morning of the glucose clamp."),
    ("inclusion", "Patients 18 years and older (Adult population): Serum creatinine <1.0 mg/dL; if serum creatinine "
                  ">1.0 mg/dL, then the estimated glomerular filtration rate (GFR) must be >60 mL/min/1.73 m2"),
])
def test_qualified_thresholds_are_unsure(section: str, item: str) -> None:
    _, criterion = _compile(item, section)
    assert _labs(criterion.rule)
    assert not criterion.computable
    assert min(f.confidence for f in _recognise(item, section)) < CONFIDENT


# --- not a rule of ours -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("section", "item"), [
    ("inclusion", "Adequate organ function"),
    ("exclusion", "Abnormal screening laboratory parameters"),
    ("exclusion", "Platelet transfusion within 7 days"),
    ("exclusion", "platelet transfusion"),
    ("inclusion", "Dose adjusted for creatinine clearance"),
    ("inclusion", "≥ 5% blasts"),                                         # no site: marrow or blood?
    ("exclusion", "circulating blasts > 1000/µL"),                        # an absolute count, not a percentage
    ("inclusion", "Serum creatinine ≤ 1.5 × mg/dL"),                      # corpus typo: no number before the unit
    ("inclusion", "Absolute neutrophil count (ANC) < 1,000cells/mL"),     # cells per mL: a misprint
    ("inclusion", "ANC ≥ 1,5 x 10^9/L"),                                  # decimal comma
    ("inclusion", "Platelets within 7 days of enrolment"),
    ("inclusion", "Creatinine: Men: less than or equal to 1.4 mg/dl; Women: less than or equal to 1.2"),
    ("exclusion", "Subject has pyuria (white blood cell [WBC] count > 10/µL (or >5/high-power field [HPF] in a "
                  "conventional urinalysis) in unspun clean-catch midstream urine (MSU) or catheter urine sample or >= "
                  "10 WBC/HPF in spun MSU or catheter urine)."),
    ("inclusion", "Age ≥ 18 years"),
    ("inclusion", "Life expectancy of at least 12 weeks"),
    ("inclusion", "Creatinine not above 1.5 mg/dL"),
])
def test_not_a_lab_rule(section: str, item: str) -> None:
    found = [f for f in _recognise(item, section) if f.confidence >= CONFIDENT]
    assert found == []


# --- restated abbreviations, "normal", UNL, "time" (corpus wordings) ------------------------------------------


@pytest.mark.parametrize(("item", "expected", "span"), [
    ("Platelets (plts) >= 100 x 10^9/L", [("platelets", ">=", 100.0, "10**9/L", "absolute")],
     "Platelets (plts) >= 100 x 10^9/L"),
    ("Hemoglobin (Hgb) >= 9 g/dL", [("hemoglobin", ">=", 9.0, "g/dL", "absolute")], "Hemoglobin (Hgb) >= 9 g/dL"),
    # corpus
    ("Serum bilirubin less than 1.5 times the upper normal limit (UNL)",
     [("total_bilirubin", "<", 1.5, None, "uln")], "Serum bilirubin less than 1.5 times the upper normal limit (UNL)"),
    ("Bilirubin < 2 x UNL", [("total_bilirubin", "<", 2.0, None, "uln")], "Bilirubin < 2 x UNL"),
    ("Serum creatinine =< 1.5 x upper normal levels (UNL)", [("creatinine", "<=", 1.5, None, "uln")],
     "Serum creatinine =< 1.5 x upper normal levels (UNL)"),
    ("ALT (Alanine aminotransferase) < 2 time upper limit of normal", [("alt", "<", 2.0, None, "uln")],
     "ALT (Alanine aminotransferase) < 2 time upper limit of normal"),
    ("An estimated creatinine clearance of ≥ 30 mL/min, calculated using the formula of Cockroft and Gault",
     [("creatinine_clearance", ">=", 30.0, "mL/min", "absolute")],
     "estimated creatinine clearance of ≥ 30 mL/min, calculated using the formula of Cockroft and Gault"),
])
def test_restatements_and_reference_spellings(item: str, expected: list, span: str) -> None:
    text, criterion = _compile(item)
    assert criterion.computable and criterion.category == "lab"
    assert _summary(criterion.rule) == expected
    assert _span_text(text, _labs(criterion.rule)[0]) == span


@pytest.mark.parametrize("item", ["Bilirubin normal", "Total bilirubin normal"])
def test_bare_normal_is_within_normal_limits(item: str) -> None:
    text, criterion = _compile(item)
    assert criterion.computable
    assert _summary(criterion.rule) == [("total_bilirubin", ">=", 1.0, None, "lln"),
                                        ("total_bilirubin", "<=", 1.0, None, "uln")]
    assert _span_text(text, _labs(criterion.rule)[0]) == item


@pytest.mark.parametrize("item", [
    "Hemoglobin (men) >= 13 g/dL",  # a subgroup in the parenthesis, not an abbreviation
    "Bilirubin normal range 0.3-1.2",
    "Bilirubin normal for age",
])
def test_not_read_as_a_plain_threshold(item: str) -> None:
    _, criterion = _compile(item)
    assert not criterion.computable


def test_text_without_number_or_limit_words_is_skipped_quickly() -> None:
    assert _recognise("History of hepatitis B infection") == []
    assert _recognise("Serum creatinine above the upper limit of normal")
