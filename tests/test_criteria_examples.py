# ruff: noqa: E501 - the tables quote source text and expected rules on one line each
"""The criteria the issue lists, and every item of the five seed trials, compile as checked by hand.

Each expected rule below was read against its source text. Items whose expected rule is None must stay
questions (not computable): a wrong rule is worse than a question.
"""

from __future__ import annotations

import pytest

from trialmatch.criteria.compiler import CompiledCriterion, compile_criteria
from trialmatch.criteria.describe import describe
from trialmatch.criteria.rules import leaves

LISTED_EXAMPLES = [
    ('inclusion',
     'Age > 28 days and < 18 years at the time of informed consent',
     'age > 28 days and age < 18 years'),
    ('inclusion',
     'Are at least 18 years old',
     'age ≥ 18 years'),
    ('inclusion',
     'Age: 0-1 year at diagnosis',
     'age ≤ 1 years at diagnosis'),
    ('inclusion',
     'Pediatric participants aged > 1 month and < 18 years',
     'age > 1 months and age < 18 years'),
    ('inclusion',
     'Absolute neutrophil count ≥1,000/μL, Platelets ≥50,000/μL (transfusion permitted), Hemoglobin level ≥9 g/dL',
     'Absolute neutrophil count ≥ 1,000 cells/uL and Platelet count ≥ 50,000 cells/uL and Hemoglobin ≥ 9 g/dL'),
    ('inclusion',
     'AST, ALT, and AP < 2 x ULN',
     'Aspartate aminotransferase < 2 × ULN and Alanine aminotransferase < 2 × ULN and Alkaline phosphatase < 2 × ULN'),
    ('inclusion',
     'Total bilirubin <1.5 x ULN',
     'Total bilirubin < 1.5 × ULN'),
    ('inclusion',
     'Creatinine clearance ≥ 50 mL/min',
     'Creatinine clearance ≥ 50 mL/min'),
    ('exclusion',
     "Direct bilirubin > 1.5 mg/dl (25.6 μmol/L) (unless related to Gilbert's or Meulengracht disease)",
     'Direct bilirubin > 1.5 mg/dL except gilbert_syndrome'),
    ('exclusion',
     'Serum creatinine above upper limit of normal, based on normal ranges for age and gender',
     'Creatinine > 1 × ULN'),
    ('inclusion',
     'Persistent or recurrent MRD ≥10^-4 in an assay with a minimum sensitivity of 10^-5',
     'Minimal residual disease level ≥ 0.0001 (assay sensitivity ≤ 1e-05)'),
    ('inclusion',
     'Greater than or equal to 5% blasts in the Bone Marrow',
     'Bone marrow blasts ≥ 5 %'),
    ('inclusion',
     'M1 or M2 marrow',
     'Bone marrow blasts ≤ 25 %'),
    ('inclusion',
     'B-ALL in first relapse',
     'B-cell acute lymphoblastic leukemia [relapse_number = 1.0]'),
    ('inclusion',
     'B-ALL in second or later relapse',
     'B-cell acute lymphoblastic leukemia [relapse_number ≥ 2.0]'),
    ('inclusion',
     'Refractory B-ALL',
     'B-cell acute lymphoblastic leukemia [refractory = True]'),
    ('inclusion',
     'B-ALL in complete remission',
     'B-cell acute lymphoblastic leukemia [remission = complete]'),
    ('inclusion',
     'Relapse after allogeneic HSCT',
     'the disease under study [after_transplant = allogeneic_hsct, relapse_number ≥ 1.0]'),
    ('inclusion',
     'Philadelphia chromosome-positive B-ALL',
     'B-cell acute lymphoblastic leukemia [philadelphia = positive]'),
    ('inclusion',
     'Philadelphia chromosome-negative B-ALL',
     'B-cell acute lymphoblastic leukemia [philadelphia = negative]'),
    ('inclusion',
     'CD19-positive B-ALL',
     'B-cell acute lymphoblastic leukemia [cd19 = positive]'),
    ('inclusion',
     'KMT2A/MLL-rearranged ALL',
     'Acute lymphoblastic leukemia [kmt2a = rearranged]'),
    ('inclusion',
     'ECOG performance status less than or equal to 2',
     'ECOG ≤ 2'),
    ('inclusion',
     'Karnofsky ≥ 50% for participants ≥ 16 years, Lansky ≥ 50% for participants < 16 years',
     '(not age ≥ 16 years or Karnofsky ≥ 50%) and (not age < 16 years or Lansky ≥ 50%)'),
    ('exclusion',
     'Radiotherapy within 2 weeks prior to start of protocol-specified therapy',
     'Radiotherapy within 2 weeks'),
    ('exclusion',
     'Allogeneic HSCT within 12 weeks',
     'Allogeneic hematopoietic stem cell transplantation within 12 weeks'),
    ('exclusion',
     'Autologous HSCT within six weeks',
     'Autologous hematopoietic stem cell transplantation within 6 weeks'),
    ('exclusion',
     'Immunotherapy (eg, rituximab) within 4 weeks prior to start of protocol-specified therapy. Prior failed CD19 directed therapy such as prior blinatumomab or CAR T cells will be allowed if treatment ended > 4 weeks prior',
     'Immunotherapy within 4 weeks except cd19_directed_therapy, blinatumomab, car_t_cell_therapy if ended > 4 weeks before'),
    ('exclusion',
     'Cancer chemotherapy within 2 weeks before the start of protocol-specified therapy. With the exception of intrathecal chemotherapy and/or low dose maintenance therapy',
     'Chemotherapy within 2 weeks except intrathecal_chemotherapy, maintenance_chemotherapy'),
    ('exclusion',
     'Have had a stem cell transplant using donor cells in the past',
     'Allogeneic hematopoietic stem cell transplantation (ever)'),
    ('exclusion',
     'Known infection with HIV or chronic infection with hepatitis B (HBsAg positive) or hepatitis C (anti-HCV positive)',
     'Human immunodeficiency virus infection or chronic Hepatitis B infection or Hepatitis C infection'),
    ('exclusion',
     'Pregnant or breastfeeding',
     'pregnant or breastfeeding'),
    ('exclusion',
     'Female participants of childbearing potential unwilling to use protocol-specified method of contraception',
     'not uses effective contraception (childbearing potential)'),
    ('inclusion',
     'Male participants must agree to use contraception',
     'uses effective contraception (male)'),
    ('exclusion',
     'Known hypersensitivity to blinatumomab or any of the components of the blinatumomab formulation',
     'hypersensitivity to Blinatumomab or its components'),
    ('exclusion',
     'Treatment with another investigational drug within 4 weeks',
     'Investigational agent within 4 weeks'),
    ('exclusion',
     'Participation in another investigational study within 30 days',
     'in another interventional study now or within 30 days'),
    ('exclusion',
     'Active ALL in the CNS: > 5 white blood cells per mm³ in CSF with lymphoblasts',
     'active CNS leukemia'),
    ('exclusion',
     'Clinically relevant CNS pathology requiring treatment (eg, unstable epilepsy)',
     'Central nervous system disorder [requires_treatment = True]'),
    ('exclusion',
     'Any other cancer, apart from carcinoma in situ of the cervix or non melanoma skin cancer',
     'Other malignancy except cervical_carcinoma_in_situ, non_melanoma_skin_cancer'),
]

SEED_ITEMS = {
    'CRUK-8795': [
        ('inc-1', 'disease', None),
        ('inc-2', 'other', None),
        ('inc-3', 'performance', 'ECOG ≤ 1'),
        ('inc-4', 'reproduction', 'uses effective contraception (childbearing potential)'),
        ('inc-5', 'age', 'age ≥ 18 years'),
        ('exc-1', 'other_cancer', 'Other malignancy except cervical_carcinoma_in_situ, non_melanoma_skin_cancer'),
        ('exc-2', 'comorbidity', None),
        ('exc-3', 'comorbidity', 'history of Autoimmune disease'),
        ('exc-4', 'prior_therapy', 'Allogeneic hematopoietic stem cell transplantation (ever)'),
        ('exc-5', 'washout', 'Autologous hematopoietic stem cell transplantation within 6 weeks'),
        ('exc-6', 'washout', 'Monoclonal antibody within 4 weeks'),
        ('exc-7', 'other_study', 'in another interventional study now or within 4 weeks'),
        ('exc-8', 'hypersensitivity', 'hypersensitivity to Blinatumomab or hypersensitivity to Immunoglobulin (immune globulin)'),
        ('exc-9', 'washout', 'Chemotherapy within 2 weeks'),
        ('exc-10', 'washout', 'Radiotherapy within 4 weeks'),
        ('exc-11', 'infection', 'Human immunodeficiency virus infection or Hepatitis B infection or Hepatitis C infection'),
        ('exc-12', 'reproduction', 'pregnant or breastfeeding'),
    ],
    'NCT04521231': [
        ('inc-1', 'age', 'age ≥ 18 years'),
        ('inc-2', 'disease', None),
        ('inc-2.1', 'disease_state', 'the disease under study [refractory = True, refractory_to = induction] or the disease under study [refractory = True, refractory_to = salvage]'),
        ('inc-2.2', 'disease_state', None),
        ('inc-3', 'performance', 'ECOG ≤ 2'),
        ('inc-4', 'disease_state', None),
        # After the flattened "any of the following" list of inc-2 it may be one more alternative: unsure.
        ('inc-5', 'disease_state', None),
        ('inc-6', 'disease_burden', 'Bone marrow blasts ≥ 5 %'),
        ('exc-1', 'cns', 'history of Central nervous system disorder or history of Psychotic disorder'),
        ('exc-2', 'other_cancer', 'history of Other malignancy within 3 years except all; "with certain exceptions"; not fully read'),
        ('exc-3', 'washout', 'Allogeneic hematopoietic stem cell transplantation within 12 weeks'),
        ('exc-4', 'washout', 'Immunotherapy within 4 weeks except cd19_directed_therapy, blinatumomab, car_t_cell_therapy if ended > 4 weeks before'),
        ('exc-5', 'other_study', 'in another interventional study now or within 30 days'),
        ('exc-6', 'lab', None),
        ('exc-7', 'cns', 'active CNS leukemia'),
        ('exc-8', 'reproduction', 'breastfeeding or planning to'),
        ('exc-9', 'consent', None),
        ('exc-10', 'washout', 'Chemotherapy within 2 weeks except "with certain exceptions"; not fully read'),
    ],
    'PAGE-58FD7325E66A': [
        ('inc-1', 'disease_state', None),
        ('inc-2', 'age', 'age ≤ 1 years at diagnosis'),
    ],
    'NCT04604691': [
        ('inc-1', 'disease_state', 'B-cell acute lymphoblastic leukemia [cd19 = positive]'),
        ('inc-2', 'age', 'age < 18 years'),
        ('inc-3', 'disease_state', None),
        ('inc-4', 'disease_burden', None),
        ('inc-5', 'lab', 'Absolute neutrophil count ≥ 1,000 cells/uL and Platelet count ≥ 50,000 cells/uL and Hemoglobin ≥ 9 g/dL'),
        ('inc-6', 'lab', '(Aspartate aminotransferase < 2 × ULN and Alanine aminotransferase < 2 × ULN and Alkaline phosphatase < 2 × ULN) and Total bilirubin < 1.5 × ULN and Creatinine clearance ≥ 50 mL/min'),
        ('inc-7', 'infection', 'not Human immunodeficiency virus infection and not (Hepatitis B infection or Hepatitis C infection)'),
        ('inc-8', 'reproduction', 'not pregnant'),
        ('exc-1', 'disease_state', 'Peripheral blood blasts > 0 % or active Extramedullary disease'),
        ('exc-2', 'cns', None),
        ('exc-3', 'cns', 'active CNS leukemia'),
        ('exc-4', 'comorbidity', 'history of Autoimmune disease [judgement = clinically_relevant]'),
        ('exc-5', 'washout', 'Chemotherapy within 2 weeks except intrathecal_chemotherapy'),
        ('exc-6', 'washout', 'Radiotherapy within 4 weeks'),
        ('exc-7', 'washout', 'Autologous hematopoietic stem cell transplantation within 6 weeks'),
        ('exc-8', 'washout', 'Monoclonal antibody within 4 weeks'),
        ('exc-9', 'other_study', 'Investigational agent within 4 weeks'),
        ('exc-10', 'hypersensitivity', None),
        ('exc-11', 'other_cancer', 'active Other malignancy except all; basal_or_squamous_cell_skin_carcinoma, cervical_carcinoma_in_situ'),
        ('exc-12', 'infection', None),
    ],
    'NCT06054113': [
        ('inc-1', 'age', 'age > 1 months and age < 18 years'),
        ('inc-2', 'disease_state', None),
        ('inc-2.1', 'disease_state', 'the disease under study [relapse_number ≥ 2.0, relapse_site = bone_marrow]'),
        ('inc-2.2', 'disease_state', 'the disease under study [after_transplant = allogeneic_hsct, relapse_number ≥ 1.0, relapse_site = bone_marrow]'),
        ('inc-2.3', 'disease_state', None),
        ('inc-2.3.1', 'disease_state', None),
        ('inc-2.3.2', 'prior_therapy', None),
        ('inc-3', 'performance', 'not age ≥ 16 years or Karnofsky ≥ 50%'),
        ('inc-4', 'performance', 'not age < 16 years or Lansky ≥ 50%'),
        ('exc-1', 'cns', 'Central nervous system disorder [requires_treatment = True]'),
        ('exc-2', 'disease_state', 'Isolated extramedullary relapse'),
        ('exc-3', 'other_cancer', 'active Other malignancy except all'),
        ('exc-4', 'disease', 'Burkitt lymphoma/leukemia'),
        ('exc-5', 'lab', None),  # a group of creatinine limits
        ('exc-5.1', 'lab', None),
        ('exc-6', 'lab', 'Direct bilirubin > 1.5 mg/dL except gilbert_syndrome'),
        ('exc-7', 'consent', None),
        ('exc-8', 'infection', 'Human immunodeficiency virus infection or chronic Hepatitis B infection or Hepatitis C infection'),
        ('exc-9', 'hypersensitivity', 'hypersensitivity to Blinatumomab or its components'),
        ('exc-10', 'washout', 'Allogeneic hematopoietic stem cell transplantation within 12 weeks'),
        ('exc-11', 'comorbidity', 'active Graft-versus-host disease [requires_systemic_treatment = True]'),
        ('exc-12', 'washout', 'Radiotherapy within 2 weeks'),
        ('exc-13', 'washout', None),
        ('exc-14', 'washout', None),
        ('exc-15', 'other_study', None),
        ('exc-16', 'reproduction', 'pregnant'),
        ('exc-17', 'reproduction', 'breastfeeding or breastfeeding or planning to'),
        ('exc-18', 'reproduction', 'not uses effective contraception (childbearing potential)'),
        ('exc-19', 'reproduction', 'not uses effective contraception (male)'),
        ('exc-20', 'consent', None),
        ('exc-21', 'reproduction', 'pregnant or planning pregnancy'),
        ('exc-22', 'reproduction', None),
    ],
}


@pytest.mark.parametrize(("section", "text", "expected"), LISTED_EXAMPLES, ids=[t[:40] for _, t, _ in LISTED_EXAMPLES])
def test_listed_example_compiles_to_its_rule(section: str, text: str, expected: str) -> None:
    header = "Inclusion Criteria:" if section == "inclusion" else "Exclusion Criteria:"
    criteria_text = f"{header}\n- {text}"
    (criterion,) = compile_criteria(criteria_text).criteria
    assert describe(criterion.rule) == expected
    assert criterion.computable, criterion
    assert criterion.text == text
    for leaf in leaves(criterion.rule):
        start, end = leaf.span
        assert criteria_text[start:end] and text.find(criteria_text[start:end].split()[0]) >= 0


def _walk(criteria: tuple[CompiledCriterion, ...]) -> list[CompiledCriterion]:
    out = []
    for criterion in criteria:
        out.append(criterion)
        out.extend(_walk(criterion.children))
    return out


@pytest.mark.parametrize("trial_id", list(SEED_ITEMS))
def test_every_seed_item_is_a_checked_rule_or_a_question(demo_store, trial_id: str) -> None:
    text = demo_store.get(trial_id).eligibility.criteria_text
    compiled = _walk(compile_criteria(text).criteria)
    assert [(c.id, c.category) for c in compiled] == [(i, cat) for i, cat, _ in SEED_ITEMS[trial_id]]
    for criterion, (item_id, _, expected) in zip(compiled, SEED_ITEMS[trial_id], strict=True):
        start, end = criterion.span
        assert criterion.text == " ".join(text[start:end].split()), item_id
        if expected is None:
            assert not criterion.computable, (item_id, describe(criterion.rule))
            assert criterion.question
        else:
            assert criterion.computable, (item_id, criterion.text)
            assert describe(criterion.rule) == expected, item_id


def test_seed_questions_are_plain_language(demo_store) -> None:
    compiled = compile_criteria(demo_store.get("NCT06054113").eligibility.criteria_text)
    by_id = {c.id: c for c in _walk(compiled.criteria)}
    assert by_id["exc-10"].question == "Have you had a stem cell transplant from a donor in the last 12 weeks?"
    assert by_id["exc-12"].question == "Have you had radiotherapy in the last 2 weeks?"
    assert by_id["exc-9"].question == "Are you allergic to blinatumomab or any of its ingredients?"
    assert by_id["exc-21"].question.startswith("Are you pregnant, or planning to become pregnant")
    assert by_id["exc-7"].question.startswith('Does this apply to you? "Symptoms and/or clinical signs')
