"""Readings added for coverage, round 2: counts of prior lines of therapy, recovery from the toxicity of prior
therapy or from surgery, measurable disease, solid tumours, therapy given for a condition, untreated disease,
more age, performance-status and comorbidity wordings, and how the matcher settles the new rules. Every
criterion sentence is from the criteria corpora in /work/shared/data/criteria-corpus."""

from __future__ import annotations

import datetime as dt

import pytest

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.describe import describe
from trialmatch.criteria.questions import ask_leaf
from trialmatch.criteria.rules import PriorLines, leaves
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import build_plan
from trialmatch.matching.verdicts import CriterionVerdict
from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.profile import profile_from_dict, read_profile_text
from trialmatch.trials.record import Eligibility, Provenance, Trial

AS_OF = dt.date(2026, 6, 1)


def _one(section: str, text: str):
    compiled = compile_criteria(f"{section.title()} Criteria:\n- {text}")
    assert len(compiled.criteria) == 1
    return compiled.criteria[0]


@pytest.mark.parametrize(("section", "text", "described"), [
    ("inclusion", "No more than 1 prior chemotherapy regimen", "prior lines of chemotherapy ≤ 1"),
    ("inclusion", "=< 2 prior systemic chemotherapy regimens", "prior lines of chemotherapy ≤ 2"),
    ("inclusion", "No more than 3 prior chemotherapy regimens in the metastatic setting",
     "prior lines of chemotherapy (metastatic setting) ≤ 3"),
    ("inclusion", "No more than 1 line of prior chemotherapy (including any combination of fluorouracil, "
                  "irinotecan, and/or oxaliplatin) for metastatic disease",
     "prior lines of chemotherapy (metastatic setting) ≤ 1"),
    ("inclusion", "Four or less prior lines of systemic therapy for multiple myeloma",
     "prior lines of therapy for Multiple myeloma ≤ 4"),
    ("inclusion", "Patient must not have more than one prior chemotherapy regimen.",
     "not prior lines of chemotherapy > 1"),
    ("inclusion", "Relapsed or refractory disease after at least one, but no more than 3 prior regimens.",
     "(the disease under study [relapse_number ≥ 1.0] or the disease under study [refractory = True]) and "
     "(prior lines of therapy ≥ 1 and prior lines of therapy ≤ 3)"),
    ("exclusion", "More than two prior cytotoxic chemotherapy regimens", "prior lines of chemotherapy > 2"),
    ("exclusion", "Patient has received 3 or more prior chemotherapeutic regimens for recurrent/metastatic disease.",
     "prior lines of chemotherapy (recurrent or metastatic setting) ≥ 3"),
    ("inclusion", "Recovered from prior therapy", "not active Unresolved toxicity of prior therapy"),
    ("inclusion", "Patients must have recovered from the acute toxic effects of all prior chemotherapy",
     "not active Unresolved toxicity of prior therapy"),
    ("exclusion", "Patients who have not recovered from adverse events due to agents administered more than 4 "
                  "weeks earlier", "active Unresolved toxicity of prior therapy"),
    ("inclusion", "Measurable disease by RECIST criteria", "Measurable disease"),
    ("inclusion", "At least 1 measurable lesion according to RECIST criteria", "Measurable disease"),
    ("inclusion", "Measurable or evaluable disease", "Evaluable disease"),
    ("inclusion", "Histologically or cytologically confirmed advanced solid tumors", "Solid tumor [extent = advanced]"),
    ("inclusion", "Histologically proven squamous cell carcinoma of the head and neck", "Head and neck cancer"),
    ("exclusion", "No prior radiotherapy for lymphoma", "Radiotherapy for Lymphoma (ever)"),
    ("inclusion", "No prior systemic therapy for NSCLC",
     "not Anticancer therapy for Lung cancer, non-small cell (ever)"),
    ("exclusion", "Prior treatment with azacitidine for MDS", "Azacitidine for Myelodysplastic syndrome (ever)"),
    ("exclusion", "Patient has had major surgery within 28 days prior to starting study drug or has not recovered "
                  "from major side effects of the surgery.",
     "Major surgery within 28 days or active Incomplete recovery from surgery"),
    ("inclusion", "Minimum Age: 18", "age ≥ 18 years"),
    ("inclusion", "Male and female participants greater than or equal to (>=) 18 years of age.", "age ≥ 18 years"),
    ("inclusion", "Patient must be 18 years old or over", "age ≥ 18 years"),
    ("inclusion", "Male or female over the age of 18", "age > 18 years"),
    ("inclusion", "Performance status 0-2 (Zubrod scale).", "ECOG ≤ 2"),
    ("inclusion", "Performance Status (ECOG) 0 or 1.", "ECOG ≤ 1"),
    ("exclusion", "Nursing and/or pregnant females", "breastfeeding or pregnant"),
    ("exclusion", "Alcohol or drug abuse.", "Substance use disorder"),
    ("exclusion", "Current smokers", "active Tobacco use (smoking)"),
    ("exclusion", "Known pre-existing interstitial lung disease.", "Interstitial lung disease"),
    ("exclusion", "Known or suspected hypersensitivity to azacitidine or mannitol;",
     "hypersensitivity to Azacitidine or hypersensitivity to Mannitol"),
    ("exclusion", "Patients with secondary MDS.", "Secondary myelodysplastic syndrome"),
    ("exclusion", "Decompensated cirrhosis, hepatocellular carcinoma or other malignancy;",
     "Decompensated liver disease or Hepatocellular carcinoma or Other malignancy"),
    ("inclusion", "Untreated metastatic colorectal carcinoma",
     "Colorectal cancer [untreated = True, extent = metastatic]"),
])
def test_corpus_sentences_compile_to_the_rule_they_state(section: str, text: str, described: str) -> None:
    criterion = _one(section, text)
    assert criterion.computable, criterion.rule
    assert describe(criterion.rule) == described


@pytest.mark.parametrize(("section", "text"), [
    # A count with no comparator may mean exactly or at least.
    ("inclusion", "Must have received 2 prior chemotherapy regimens for metastatic breast cancer"),
    # Lines of something else.
    ("exclusion", "Presence of substantial cataract, one that might decrease the vision by 3 or more lines of vision "
                  "at sometime during the study."),
    # A failure says more than a count.
    ("inclusion", "Subjects must have failed ≥ 2 prior therapies for CLL including a nucleoside analog"),
    # A requirement for some patients only: read alone, it would require radiotherapy of everyone.
    ("inclusion", "Subjects that received prior radiotherapy must have completed radiotherapy treatment at least 4 "
                  "weeks before enrolment and recovered from all treatment-related toxicities."),
    # "Systemic therapy" is cancer treatment only when given for a cancer.
    ("exclusion", "Systemic therapy for psoriasis within 4 weeks prior to randomization"),
    # A habit's window says when it was last kept up, not when it began.
    ("exclusion", "Smoking within the last year."),
    # "or over" is an age only with its unit.
    ("inclusion", "Over 18"),
    # "Child C" is a Child-Pugh class, not a child.
    ("exclusion", "Patients with child C Hepatocellular carcinoma."),
    # "Untreated" in a list of alternatives would be read as holding for all of them.
    ("exclusion", "Known untreated, symptomatic or uncontrolled brain metastases"),
    # Recovery from surgery is not the toxicity of prior therapy.
    ("exclusion", "Major thoracic or abdominal surgery from which the patient has not yet recovered."),
])
def test_what_is_not_a_count_or_recovery_stays_a_question(section: str, text: str) -> None:
    assert not _one(section, text).computable


def test_an_exclusion_that_says_no_more_than_never_decides_alone() -> None:
    # Read literally it would exclude the patients the trial wants.
    assert not _one("exclusion", "No more than 2 prior regimens").computable


def test_prior_lines_question_names_what_is_counted() -> None:
    criterion = _one("inclusion", "No more than 3 prior chemotherapy regimens in the metastatic setting")
    leaf = next(leaf for leaf in leaves(criterion.rule) if isinstance(leaf, PriorLines))
    question = ask_leaf(leaf)
    assert question.startswith("Before this study, have you had 3 or fewer lines of chemotherapy while the disease "
                               "was metastatic?")


def _verdict(criterion: str, profile: dict, section: str = "Inclusion") -> CriterionVerdict:
    trial = Trial(id="TEST-1", brief_title="test trial", conditions=["Multiple myeloma"],
                  eligibility=Eligibility(criteria_text=f"{section} Criteria:\n- {criterion}"),
                  provenance=Provenance(source="test", location="test"))
    plan = build_plan(trial, compile_criteria(trial.eligibility.criteria_text))
    match = match_trial(PatientView(profile_from_dict(profile), AS_OF), plan)
    return match.criteria[0].verdict


MYELOMA_LIMIT = "Four or less prior lines of systemic therapy for multiple myeloma"
CHEMO_LIMIT = "No more than 1 prior chemotherapy regimen"


@pytest.mark.parametrize(("criterion", "lines", "expected"), [
    # The same count settles the rule either way.
    (MYELOMA_LIMIT, {"value": 3, "condition": "multiple_myeloma"}, CriterionVerdict.MET),
    (MYELOMA_LIMIT, {"value": 5, "condition": "multiple_myeloma"}, CriterionVerdict.NOT_MET),
    # Every line counted: 3 in all means at most 3 for myeloma, 6 in all says nothing of how many were for it.
    (MYELOMA_LIMIT, {"value": 3}, CriterionVerdict.MET),
    (MYELOMA_LIMIT, {"value": 6}, CriterionVerdict.UNKNOWN),
    (CHEMO_LIMIT, {"value": 1}, CriterionVerdict.MET),
    (CHEMO_LIMIT, {"value": 2}, CriterionVerdict.UNKNOWN),
    (CHEMO_LIMIT, {"value": 2, "therapy": "chemotherapy"}, CriterionVerdict.NOT_MET),
    # A count of another kind of line says nothing.
    (CHEMO_LIMIT, {"value": 0, "therapy": "endocrine_therapy"}, CriterionVerdict.UNKNOWN),
    ("At least 2 prior lines of therapy", {"value": 1}, CriterionVerdict.NOT_MET),
    ("At least 2 prior lines of therapy", {"value": 2}, CriterionVerdict.MET),
])
def test_prior_lines_are_settled_by_a_count_of_the_same_or_more_lines(criterion: str, lines: dict,
                                                                       expected: CriterionVerdict) -> None:
    assert _verdict(criterion, {"prior_lines": [lines]}) == expected


def test_prior_lines_without_a_count_are_unknown() -> None:
    profile = {"therapies": [{"name": "bortezomib", "start": "2025-01-01", "end": "2025-06-01"}]}
    assert _verdict(MYELOMA_LIMIT, profile) == CriterionVerdict.UNKNOWN


def test_a_profile_may_give_the_count_of_every_line_as_a_number() -> None:
    facts = read_profile_text("age: 61\nprior_lines: 2\n")
    assert [(f.value, f.therapy) for f in facts.prior_lines] == [(2, None)]
    with pytest.raises(PatientReadError, match="prior_lines"):
        read_profile_text("prior_lines: [{value: -1}]\n")


PRIOR_AML_CHEMO = "Prior chemotherapy for AML"


@pytest.mark.parametrize(("therapy", "expected"), [
    # Given for the disease the rule names.
    ({"name": "cytarabine", "start": "2025-01-01", "indication": "aml"}, CriterionVerdict.MET),
    # Written as a name, as a profile may.
    ({"name": "cytarabine", "start": "2025-01-01", "indication": "acute myeloid leukaemia"}, CriterionVerdict.MET),
    # Given for another disease: it doesn't count.
    ({"name": "cytarabine", "start": "2025-01-01", "indication": "non_hodgkin_lymphoma"}, CriterionVerdict.NOT_MET),
    # What it treated is not known: it may or may not count.
    ({"name": "cytarabine", "start": "2025-01-01"}, CriterionVerdict.UNKNOWN),
    # Never had any chemotherapy: no chemotherapy for AML either.
    ({"name": "chemotherapy", "present": False}, CriterionVerdict.NOT_MET),
])
def test_a_therapy_for_a_condition_counts_only_when_given_for_it(therapy: dict, expected: CriterionVerdict) -> None:
    assert _verdict(PRIOR_AML_CHEMO, {"therapies": [therapy]}, section="Exclusion") == expected


def test_recovery_is_settled_by_the_patients_toxicity_grade() -> None:
    criterion = "Patients must have recovered from toxicities of prior therapy to grade 1 or less"
    neuropathy = {"conditions": [{"name": "unresolved toxicity of prior therapy", "grade": 2}]}
    mild = {"conditions": [{"name": "unresolved toxicity of prior therapy", "grade": 1}]}
    assert _verdict(criterion, neuropathy) == CriterionVerdict.NOT_MET
    assert _verdict(criterion, mild) == CriterionVerdict.MET
    assert _verdict(criterion, {}) == CriterionVerdict.UNKNOWN


@pytest.mark.parametrize(("profile", "expected"), [
    # Treated for it: the disease is not untreated.
    ({"conditions": [{"name": "chronic lymphocytic leukemia", "diagnosed": "2024-01-01"}],
      "therapies": [{"name": "ibrutinib", "start": "2024-03-01", "indication": "chronic lymphocytic leukemia"}]},
     CriterionVerdict.NOT_MET),
    # The fact says so.
    ({"conditions": [{"name": "chronic lymphocytic leukemia", "qualifiers": {"untreated": True}}]},
     CriterionVerdict.MET),
    # A therapy for something else says nothing about it.
    ({"conditions": [{"name": "chronic lymphocytic leukemia"}],
      "therapies": [{"name": "metformin", "start": "2020-01-01", "indication": "diabetes"}]}, CriterionVerdict.UNKNOWN),
])
def test_untreated_disease_is_settled_by_treatment_given_for_it(profile: dict, expected: CriterionVerdict) -> None:
    assert _verdict("Treatment-naive CLL", profile) == expected
