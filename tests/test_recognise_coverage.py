"""Readings added for coverage: life expectancy, body size, age ranges written with "to" / "or", haematology
drugs and lymphoma subtypes, therapy windows anchored on a drug's first dose, and pointers that ask nothing.
Every sentence is from the criteria corpora in /work/shared/data/criteria-corpus."""

from __future__ import annotations

import datetime as dt

import pytest

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.describe import describe
from trialmatch.criteria.phrases import parse_number
from trialmatch.criteria.rules import Lab
from trialmatch.matching.leaves import TrialContext, evaluate_lab
from trialmatch.matching.patient_view import PatientView
from trialmatch.patients.facts import LabFact, PatientFacts


def _one(section: str, text: str):
    compiled = compile_criteria(f"{section.title()} Criteria:\n- {text}")
    assert len(compiled.criteria) == 1
    return compiled.criteria[0]


@pytest.mark.parametrize(("section", "text", "described"), [
    ("inclusion", "Patients with a life expectancy of at least 3 months.", "Life expectancy ≥ 3 months"),
    ("inclusion", "Greater than 12 weeks life expectancy.", "Life expectancy > 12 weeks"),
    ("inclusion", "Expected survival > 12 weeks", "Life expectancy > 12 weeks"),
    ("inclusion", "Life expectancy of ≥ 12 weeks as determined by treating investigator", "Life expectancy ≥ 12 weeks"),
    ("inclusion", "Life expectancy of > 100 days", "Life expectancy > 100 days"),
    ("exclusion", "Life expectancy < 1 year", "Life expectancy < 1 year"),
    ("inclusion", "Body mass index (BMI) ≤40 kg/m2", "Body mass index ≤ 40 kg/m²"),
    ("exclusion", "Patient weighs > 120 kg", "Body weight > 120 kg"),
    ("inclusion", "Weighs at least 45 kg and has a BMI between 18 and 28 kg/m^2 inclusive at Screening.",
     "Body weight ≥ 45 kg and (Body mass index ≥ 18 kg/m² and Body mass index ≤ 28 kg/m²)"),
    ("inclusion", "Age ≥ 18 to < 70 years", "age ≥ 18 years and age < 70 years"),
    ("exclusion", "Age below 18 or above 65", "age < 18 years or age > 65 years"),
    ("exclusion", "Patients aged below 18 or older than 65 would be excluded", "age < 18 years or age > 65 years"),
    ("inclusion", "Male and female patients of any race between 18 to 65 years old (inclusive)",
     "age ≥ 18 years and age ≤ 65 years"),
    ("inclusion", "Age ≥ 18 years at the time of signing the informed consent form.", "age ≥ 18 years"),
    ("inclusion", "ECOG performance status 0 or 1 (See Appendix B).", "ECOG ≤ 1"),
    ("exclusion", "Prior Bruton's tyrosine kinase inhibitor or lenalidomide",
     "BTK inhibitor (ever) or Lenalidomide (ever)"),
    ("exclusion", "Receipt of any investigational agents within 14 days before the first dose of ibrutinib",
     "Investigational agent within 14 days"),
    ("exclusion", "Autologous bone marrow or stem cell transplant within 3 months of study entry.",
     "Autologous hematopoietic stem cell transplantation within 3 months"),
    ("exclusion", "Known hypersensitivity to lenalidomide or ATRA.",
     "hypersensitivity to Lenalidomide or hypersensitivity to Tretinoin (all-trans retinoic acid)"),
    ("inclusion", "Enteropathy-associated T-cell lymphoma (EATL)", "Enteropathy-associated T-cell lymphoma"),
    ("inclusion", "No prior history of intestinal malabsorption", "not history of Malabsorption"),
    ("exclusion", "Allogeneic stem cell transplant within 100 days",
     "Allogeneic hematopoietic stem cell transplantation within 100 days"),
])
def test_corpus_sentences_compile_to_the_rule_they_state(section: str, text: str, described: str) -> None:
    criterion = _one(section, text)
    assert criterion.computable, criterion.rule
    assert describe(criterion.rule) == described


@pytest.mark.parametrize(("section", "text"), [
    # Whose survival? The disease's, not read as the patient's own estimate.
    ("exclusion", "Relevant cancer or other serious disease with expected survival < 5 years"),
    # Progression-free survival is no life expectancy.
    ("inclusion", "Progression-free survival of at least 6 months on prior therapy"),
    # "Immunomodulatory agents" may be any immune modulator, not the thalidomide class.
    ("exclusion", "Patients receiving immunomodulatory agents"),
    # An age with a second, conditional limit is not a range.
    ("inclusion", "Age ≥ 18 years or ≥ 16 years with parental consent"),
])
def test_unsure_readings_stay_questions(section: str, text: str) -> None:
    assert not _one(section, text).computable


def test_a_bare_hundred_is_a_hundred_and_a_written_power_still_a_power() -> None:
    assert parse_number("100") == 100
    assert parse_number("1000") == 1000
    assert parse_number("10^9") == 1e9
    assert parse_number("10⁻⁴") == pytest.approx(1e-4)
    assert parse_number("10-4") == pytest.approx(1e-4)


@pytest.mark.parametrize(("value", "unit", "truth"), [(6, "months", True), (8, "weeks", False), (1, "year", True)])
def test_life_expectancy_compares_across_time_units(value: float, unit: str, truth: bool) -> None:
    leaf = _one("inclusion", "Life expectancy ≥ 12 weeks").rule
    assert isinstance(leaf, Lab)
    facts = PatientFacts(labs=[LabFact(analyte="life_expectancy", name="Life expectancy", value=value, unit=unit)])
    view = PatientView(facts, as_of=dt.date(2025, 1, 1))
    assert evaluate_lab(leaf, view, TrialContext(disease_concepts=frozenset())).truth is truth
