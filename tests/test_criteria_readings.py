"""Readings fixed after the precision sample: each item from the corpora, compiled whole, checked by hand."""

from __future__ import annotations

import pytest
from test_recognise_conditions import brief, compiled

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.describe import describe


@pytest.mark.parametrize(("item", "section", "expected"), [
    # An ordinal after "greater than" is passed, not met.
    ("Have greater than second relapse", "exclusion", "the disease under study [relapse_number > 2.0]"),
    # A condition named twice in the same words is two alternatives, each with its own status and window.
    ("Concurrent malignancy or malignancy in the last 3 years prior to enrollment", "exclusion",
     "active Other malignancy or Other malignancy within 3 years"),
    # Synonyms listed together still share the window.
    ("Known history of stroke or cerebrovascular accident within 6 months prior to enrollment", "exclusion",
     "history of Stroke within 6 months"),
    # "had concurrent treatment": the having is now.
    ("Had concurrent treatment with other experimental drugs", "exclusion", "Investigational agent (current)"),
    ("Prior or concurrent chemotherapy", "exclusion", "Chemotherapy (ever)"),
    # The donor-source adjective shares the noun of the name after it.
    ("Prior allogeneic or autologous HSCT", "exclusion",
     "Allogeneic hematopoietic stem cell transplantation (ever) or Autologous hematopoietic stem cell "
     "transplantation (ever)"),
    # Psychosis is psychiatric, not a CNS disorder.
    ("Current or past psychosis", "exclusion", "history of Psychotic disorder"),
    ("Any inherited bleeding disorder", "exclusion", "Inherited bleeding disorder"),
    # "or women unwilling …" keeps its "or" though a recogniser read "women or women".
    ("Pregnant and lactating women or women unwilling to use contraception.", "exclusion",
     "(pregnant or breastfeeding) or not uses effective contraception (female)"),
    # A prohibition opening an exclusion is a double negative: the thing itself excludes.
    ("Must not have known HIV.", "exclusion", "Human immunodeficiency virus infection"),
    ("Patients may not be receiving any other investigational agents.", "exclusion",
     "Investigational agent (current)"),
    ("No prior treatment with temozolomide or imatinib mesylate", "exclusion",
     "Temozolomide (ever) or Imatinib (ever)"),
])
def test_readings(item: str, section: str, expected: str) -> None:
    _, criterion = compiled(item, section)
    assert describe(criterion.rule) == expected
    assert criterion.computable


@pytest.mark.parametrize(("item", "section"), [
    ("First stroke", "inclusion"),  # no stroke before: "first" is not filler here
    ("No acute myeloid leukemia (≥ 20% bone marrow blasts)", "inclusion"),  # a definition under a negation
    ("Previously diagnosed brain metastases (includes active brain metastases)", "exclusion"),
    ("Known diagnosis of HIV infection or chronic active hepatitis B or C", "exclusion"),  # chronic and active
    ("Subjects with acute virus infection", "exclusion"),  # "active" would take in chronic infections
    ("chronic infectious disease like HIV or tuberculosis, and", "exclusion"),
    ("Known hypersensitivity or intolerance to Metformin", "exclusion"),  # an intolerance is no allergy
    ("Concurrent, active second malignancy for which the patient is receiving therapy", "exclusion"),
    ("History of cancer within the past 5 years, excluding treated basal cell carcinoma", "exclusion"),
    # A negation that may be meant: exclude those without circulating blasts.
    ("No circulating blasts", "exclusion"),
])
def test_readings_that_stay_questions(item: str, section: str) -> None:
    _, criterion = compiled(item, section)
    assert not criterion.computable, brief(criterion.rule)


def test_exclusion_header_glued_to_the_last_inclusion_line() -> None:
    text = ("Inclusion Criteria:\n\n  -  Ability to understand study procedures\n\n"
            "  -  Have signed a written informed consent prior to entering the study Exclusion\n"
            "     Criteria:Patients may not participate if they have any of the following:\n\n"
            "  -  Seizure disorders\n\n  -  Pregnancy within the past six months\n")
    compiled_criteria = compile_criteria(text)
    by_text = {c.text: c for c in compiled_criteria.criteria}
    assert by_text["Have signed a written informed consent prior to entering the study"].section == "inclusion"
    seizures = next(c for c in compiled_criteria.criteria if "Seizure" in c.text or any(
        "Seizure" in child.text for child in c.children))
    assert seizures.section == "exclusion"


def test_a_reference_to_the_exclusion_criteria_is_no_header() -> None:
    text = "Inclusion Criteria:\n- No condition listed in the Exclusion\n  Criteria: see below\n- Age ≥ 18 years\n"
    compiled_criteria = compile_criteria(text)
    assert all(c.section == "inclusion" for c in compiled_criteria.criteria)
