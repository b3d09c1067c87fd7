"""Matching: leaf semantics (ages, units, × ULN, scales, washouts, exceptions), trial verdicts, and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.criteria.compiler import compile_criteria
from trialmatch.matching.leaves import TrialContext, age_truth, evaluate_leaf, performance_range
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import build_plan
from trialmatch.matching.verdicts import CriterionVerdict, TrialVerdict
from trialmatch.patients.profile import profile_from_dict
from trialmatch.trials.record import Eligibility, Provenance, Trial

AS_OF = dt.date(2026, 6, 1)
B_ALL = TrialContext(frozenset({"b_all"}))


def _trial(criteria: str, conditions: tuple[str, ...] = ("B-cell acute lymphoblastic leukemia",), **limits) -> Trial:
    return Trial(id="TEST-1", brief_title="test trial", conditions=list(conditions),
                 eligibility=Eligibility(criteria_text=criteria, **limits),
                 provenance=Provenance(source="test", location="test"))


def _judge(criteria: str, profile: dict, **limits) -> dict[str, CriterionVerdict]:
    trial = _trial(criteria, **limits)
    match = match_trial(PatientView(profile_from_dict(profile), AS_OF), build_plan(trial, compile_criteria(criteria)))
    return {c.id: c.verdict for c in match.criteria}


def _one(criterion: str, profile: dict, section: str = "Exclusion") -> CriterionVerdict:
    verdicts = _judge(f"{section} Criteria:\n- {criterion}", profile)
    return verdicts[f"{section[:3].lower()}-1"]


# Ages ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("born", "comparator", "value", "unit", "expected"), [
    (dt.date(2008, 6, 1), ">=", 18, "years", True),     # 18th birthday today
    (dt.date(2008, 6, 2), ">=", 18, "years", False),    # tomorrow
    (dt.date(2008, 6, 2), "<", 18, "years", True),
    (dt.date(2008, 6, 1), "<", 18, "years", False),
    (dt.date(2026, 4, 15), ">", 1, "months", True),
    (dt.date(2026, 5, 1), ">", 1, "months", False),     # exactly one month old
    (dt.date(2025, 7, 1), "<=", 1, "years", True),      # 11 months
    (dt.date(2025, 1, 1), "<=", 1, "years", None),      # 17 months: "≤ 1 year" is read differently by trials
    (dt.date(2024, 1, 1), "<=", 1, "years", False),     # 2 years 5 months
])
def test_age_counts_whole_units_and_leaves_ambiguous_limits_open(born, comparator, value, unit, expected) -> None:
    assert age_truth((born, born), AS_OF, comparator, value, unit) is expected


def test_a_stated_age_is_a_range_of_birth_dates() -> None:
    view = PatientView(profile_from_dict({"age": {"value": 17, "as_of": "2026-01-01"}}), AS_OF)
    # 17 on 1 Jan: 18 on 1 June for some birth dates, not for others.
    assert age_truth(view.birth_interval, AS_OF, ">=", 18, "years") is None
    assert age_truth(view.birth_interval, AS_OF, ">=", 16, "years") is True
    assert age_truth(view.birth_interval, AS_OF, "<", 19, "years") is True


def test_age_at_diagnosis_uses_the_diagnosis_date() -> None:
    infant = {"birth_date": "2024-03-01", "conditions": [{"name": "B-ALL", "diagnosed": "2024-09-01"}]}
    verdicts = _judge("Inclusion Criteria:\n- Age: 0-1 year at diagnosis", infant)
    assert verdicts["inc-1"] == CriterionVerdict.MET  # 6 months old at diagnosis, 2 years old today


def test_record_age_limits_follow_ctgov_convention() -> None:
    from trialmatch.trials.record import AgeLimit

    limits = {"minimum_age": AgeLimit(value=1, unit="Months"), "maximum_age": AgeLimit(value=17, unit="Years")}
    seventeen = {"birth_date": "2008-06-02"}  # turns 18 tomorrow
    eighteen = {"birth_date": "2008-06-01"}
    assert _judge("Inclusion Criteria:\n- Consent", seventeen, **limits)["age"] == CriterionVerdict.MET
    assert _judge("Inclusion Criteria:\n- Consent", eighteen, **limits)["age"] == CriterionVerdict.NOT_MET


# Labs and units ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (1.2, "10^9/L", CriterionVerdict.MET),
    (1200, "/uL", CriterionVerdict.MET),
    (1200, "cells/mm3", CriterionVerdict.MET),
    (0.8, "x10^9/L", CriterionVerdict.NOT_MET),
    (999, "/µL", CriterionVerdict.NOT_MET),
])
def test_anc_in_any_unit(value: float, unit: str, expected: CriterionVerdict) -> None:
    profile = {"labs": [{"name": "absolute neutrophil count", "value": value, "unit": unit}]}
    assert _one("Absolute neutrophil count ≥1,000/μL", profile, "Inclusion") == expected


def test_bilirubin_in_micromoles_against_a_mg_per_dl_limit_with_its_exception() -> None:
    criterion = "Direct bilirubin > 1.5 mg/dl (25.6 μmol/L) (unless related to Gilbert's or Meulengracht disease)"
    high = {"labs": [{"name": "direct bilirubin", "value": 30, "unit": "umol/L"}]}
    low = {"labs": [{"name": "direct bilirubin", "value": 20, "unit": "µmol/L"}]}
    gilbert = {**high, "conditions": [{"name": "Gilbert syndrome"}]}
    no_gilbert = {**high, "conditions": [{"name": "Gilbert syndrome", "present": False}]}
    assert _one(criterion, low) == CriterionVerdict.NOT_MET
    assert _one(criterion, high) == CriterionVerdict.UNKNOWN  # it could be Gilbert's
    assert _one(criterion, gilbert) == CriterionVerdict.NOT_MET
    assert _one(criterion, no_gilbert) == CriterionVerdict.MET


def test_multiples_of_uln_use_the_patients_range_then_the_default() -> None:
    criterion = "Total bilirubin <1.5 x ULN"
    own_range = {"labs": [{"name": "total bilirubin", "value": 1.6, "unit": "mg/dL", "high": 1.2}]}
    assert _one(criterion, own_range, "Inclusion") == CriterionVerdict.MET  # 1.33 × ULN
    twice = {"labs": [{"name": "total bilirubin", "value": 2.5, "unit": "mg/dL", "high": 1.2}]}
    assert _one(criterion, twice, "Inclusion") == CriterionVerdict.NOT_MET
    default = {"labs": [{"name": "total bilirubin", "value": 0.6, "unit": "mg/dL"}]}
    assert _one(criterion, default, "Inclusion") == CriterionVerdict.MET


def test_mrd_needs_a_sensitive_enough_assay() -> None:
    criterion = "Persistent or recurrent MRD ≥10^-4 in an assay with a minimum sensitivity of 10^-5"
    sensitive = {"conditions": [{"name": "B-ALL", "mrd": 5e-4, "mrd_assay_sensitivity": 1e-5}]}
    coarse = {"conditions": [{"name": "B-ALL", "mrd": 5e-4, "mrd_assay_sensitivity": 1e-4}]}
    negative = {"conditions": [{"name": "B-ALL", "mrd": 0, "mrd_assay_sensitivity": 1e-5}]}
    assert _one(criterion, sensitive, "Inclusion") == CriterionVerdict.MET
    assert _one(criterion, coarse, "Inclusion") == CriterionVerdict.UNKNOWN
    assert _one(criterion, negative, "Inclusion") == CriterionVerdict.NOT_MET


# Performance scales -------------------------------------------------------------------------------------


def test_performance_scales_convert_by_data() -> None:
    assert performance_range("ecog", 1, "karnofsky") == (70.0, 80.0)
    assert performance_range("karnofsky", 60, "ecog") == (2.0, 2.0)
    assert performance_range("lansky", 70, "karnofsky") == (70.0, 70.0)
    ecog_two = {"performance": [{"scale": "ecog", "value": 2}]}
    karnofsky_90 = {"performance": [{"scale": "karnofsky", "value": 90}]}
    assert _one("ECOG performance status less than or equal to 2", karnofsky_90, "Inclusion") == CriterionVerdict.MET
    assert _one("Karnofsky ≥ 60%", ecog_two, "Inclusion") == CriterionVerdict.UNKNOWN  # ECOG 2 is Karnofsky 50-60
    assert _one("Karnofsky ≥ 50%", ecog_two, "Inclusion") == CriterionVerdict.MET


# Washouts and exceptions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("ended", "expected"), [
    ("2026-05-22", CriterionVerdict.MET),      # 10 days ago: inside the 2-week window
    ("2026-05-16", CriterionVerdict.NOT_MET),  # 16 days ago
])
def test_radiotherapy_washout(ended: str, expected: CriterionVerdict) -> None:
    profile = {"therapies": [{"name": "radiotherapy", "start": "2026-05-01", "end": ended}]}
    criterion = "Radiotherapy within 2 weeks prior to start of protocol-specified therapy"
    assert _one(criterion, profile) == expected


@pytest.mark.parametrize(("start", "expected"), [
    ("2026-04-01", CriterionVerdict.MET),      # 8.7 weeks ago
    ("2026-02-01", CriterionVerdict.NOT_MET),  # 17 weeks ago
])
def test_transplant_window(start: str, expected: CriterionVerdict) -> None:
    profile = {"therapies": [{"name": "allogeneic hematopoietic stem cell transplant", "start": start}]}
    assert _one("Allogeneic HSCT within 12 weeks prior to start of protocol-specified therapy", profile) == expected


IMMUNOTHERAPY = ("Immunotherapy (eg, rituximab) within 4 weeks prior to start of protocol-specified therapy. Prior "
                 "failed CD19 directed therapy such as prior blinatumomab or CAR T cells will be allowed if "
                 "treatment ended > 4 weeks prior to start of protocol-specified therapy")


@pytest.mark.parametrize(("drug", "ended", "expected"), [
    ("blinatumomab", "2026-04-01", CriterionVerdict.NOT_MET),   # CD19 therapy ended 8.7 weeks ago: allowed
    ("rituximab", "2026-05-18", CriterionVerdict.MET),          # 2 weeks ago
    ("rituximab", "2026-04-01", CriterionVerdict.NOT_MET),
])
def test_immunotherapy_washout_with_its_cd19_exception(drug: str, ended: str, expected: CriterionVerdict) -> None:
    profile = {"therapies": [{"name": drug, "start": "2026-03-01", "end": ended}]}
    verdicts = _judge(f"Exclusion Criteria:\n- {IMMUNOTHERAPY}", profile)
    assert verdicts["exc-1"] in (expected, CriterionVerdict.UNKNOWN)
    if verdicts["exc-1"] == CriterionVerdict.UNKNOWN:  # only when the compiler flagged its reading as unsure
        trial = _trial(f"Exclusion Criteria:\n- {IMMUNOTHERAPY}")
        assert build_plan(trial, compile_criteria(trial.eligibility.criteria_text)).criteria[0].computable is False


def test_ever_is_not_a_window() -> None:
    profile = {"therapies": [{"name": "allogeneic stem cell transplant", "start": "2015-01-01"}]}
    assert _one("Have had a stem cell transplant using donor cells in the past", profile) == CriterionVerdict.MET


# Reproduction, infections, other cancers -------------------------------------------------------------------


def test_pregnancy_and_contraception_by_sex_and_age() -> None:
    man = {"sex": "male", "birth_date": "1990-01-01"}
    infant = {"sex": "female", "birth_date": "2025-09-01"}
    woman = {"sex": "female", "birth_date": "1990-01-01"}
    pregnant = {**woman, "pregnant": {"value": True}}
    assert _one("Pregnant or breastfeeding", man) == CriterionVerdict.NOT_MET
    assert _one("Pregnant or breastfeeding", infant) == CriterionVerdict.NOT_MET
    assert _one("Pregnant or breastfeeding", woman) == CriterionVerdict.UNKNOWN
    assert _one("Pregnant or breastfeeding", pregnant) == CriterionVerdict.MET
    contraception = "Females of childbearing potential must agree to use effective contraception"
    assert _one(contraception, man, "Inclusion") == CriterionVerdict.NOT_APPLICABLE
    assert _one(contraception, woman, "Inclusion") == CriterionVerdict.UNKNOWN


def test_infections_settle_only_from_facts() -> None:
    criterion = ("Known infection with HIV or chronic infection with hepatitis B (HBsAg positive) or hepatitis C "
                 "(anti-HCV positive)")
    hiv = {"infections": [{"name": "HIV", "status": "chronic"}]}
    none = {"infections": [{"name": "HIV", "present": False}, {"name": "hepatitis B", "present": False},
                           {"name": "hepatitis C", "present": False}]}
    only_hiv_negative = {"infections": [{"name": "HIV", "present": False}]}
    assert _one(criterion, hiv) == CriterionVerdict.MET
    assert _one(criterion, none) == CriterionVerdict.NOT_MET
    assert _one(criterion, only_hiv_negative) == CriterionVerdict.UNKNOWN


def test_other_cancer_exceptions_and_the_trials_own_disease() -> None:
    criterion = "Any other cancer, apart from carcinoma in situ of the cervix or non melanoma skin cancer"
    own_disease = {"conditions": [{"name": "B-ALL"}]}
    cervix = {"conditions": [{"name": "B-ALL"}, {"name": "carcinoma in situ of the cervix"}]}
    breast = {"conditions": [{"name": "B-ALL"}, {"name": "breast cancer"}]}
    assert _one(criterion, own_disease) == CriterionVerdict.UNKNOWN  # B-ALL is not "another cancer"
    assert _one(criterion, cervix) in (CriterionVerdict.NOT_MET, CriterionVerdict.UNKNOWN)
    assert _one(criterion, breast) == CriterionVerdict.MET


def test_cns_status_settles_cns_leukaemia() -> None:
    criterion = "Active ALL in the CNS: > 5 white blood cells per mm³ in CSF with lymphoblasts"
    assert _one(criterion, {"conditions": [{"name": "B-ALL", "cns_status": "CNS1"}]}) == CriterionVerdict.NOT_MET
    assert _one(criterion, {"conditions": [{"name": "B-ALL", "cns_status": "CNS3"}]}) == CriterionVerdict.MET
    assert _one(criterion, {"conditions": [{"name": "B-ALL", "cns_status": "CNS2"}]}) == CriterionVerdict.UNKNOWN


# Answers and the trial verdict -------------------------------------------------------------------------------


def test_answers_settle_questions_and_not_sure_settles_nothing() -> None:
    text = "Inclusion Criteria:\n- Able to swallow tablets\nExclusion Criteria:\n- Pregnant"
    trial = _trial(text)
    plan = build_plan(trial, compile_criteria(text))
    woman = profile_from_dict({"sex": "female", "birth_date": "1990-01-01"})
    first = match_trial(PatientView(woman, AS_OF), plan)
    assert first.verdict == TrialVerdict.POSSIBLY_ELIGIBLE
    questions = {c.id: c.question_id for c in first.open}
    unsure = woman
    for question in questions.values():
        unsure = unsure.with_answer(question, "not_sure")
    assert match_trial(PatientView(unsure, AS_OF), plan).verdict == TrialVerdict.POSSIBLY_ELIGIBLE
    answered = woman.with_answer(questions["inc-1"], "yes").with_answer(questions["exc-1"], "no")
    result = match_trial(PatientView(answered, AS_OF), plan)
    assert result.verdict == TrialVerdict.ELIGIBLE
    assert all(any("answered" in e.statement for e in c.evidence) for c in result.criteria if not c.id.endswith("age"))
    refused = woman.with_answer(questions["inc-1"], "no")
    excluded = match_trial(PatientView(refused, AS_OF), plan)
    assert excluded.verdict == TrialVerdict.NOT_ELIGIBLE
    assert [c.id for c in excluded.deciding] == ["inc-1"]


def test_a_trial_without_criteria_text_is_never_eligible_unasked() -> None:
    trial = _trial("")
    plan = build_plan(trial, None)
    match = match_trial(PatientView(profile_from_dict({"age": 30}), AS_OF), plan)
    assert match.verdict == TrialVerdict.POSSIBLY_ELIGIBLE
    assert match.open[0].id == "criteria-text"


def test_low_confidence_rules_never_decide(demo_store) -> None:
    """The criterion with a likely double negative stays a question whatever the facts say."""
    text = "Exclusion Criteria:\n- No history of seizures is not required"
    plan = build_plan(_trial(text), compile_criteria(text))
    for criterion in plan.criteria:
        if not criterion.computable:
            for present in (True, False):
                facts = profile_from_dict({"conditions": [{"name": "seizures", "present": present}]})
                result = match_trial(PatientView(facts, AS_OF), plan)
                assert not any(c.decides for c in result.criteria if c.id == criterion.id)


def test_leaf_evaluators_cover_every_leaf_kind() -> None:
    from trialmatch.criteria.rules import Leaf
    from trialmatch.matching.leaves import EVALUATORS

    kinds = {model.model_fields["kind"].default for model in Leaf.__args__}
    assert kinds == set(EVALUATORS)
    from trialmatch.criteria.rules import Sex

    assert evaluate_leaf(Sex(sex="female"), PatientView(profile_from_dict({}), AS_OF), B_ALL).truth is None


# CLI -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def relapsed_child(tmp_path: Path) -> Path:
    path = tmp_path / "child.yaml"
    path.write_text(
        "birth_date: 2016-03-02\nsex: male\n"
        "conditions:\n  - {name: B-cell acute lymphoblastic leukaemia, relapse_number: 1, cd19: positive,"
        " cns_status: CNS1, diagnosed: 2023-01-10, marrow_blasts_percent: 40}\n"
        "therapies:\n  - {name: allogeneic HSCT, start: 2025-06-01}\n", "utf-8")
    return path


def test_cli_match_ranks_and_explains(demo_store_path: Path, relapsed_child: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["match", str(relapsed_child), "--db", str(demo_store_path), "--json",
                                 "--status", "any", "--as-of", "2026-06-01", "--limit", "50"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["considered"] > 20
    verdicts = [m["verdict"] for m in data["matches"]]
    assert "not_eligible" not in verdicts
    assert verdicts == sorted(verdicts, key=["eligible", "possibly_eligible"].index)
    ids = [m["trial_id"] for m in data["matches"]]
    assert "NCT06054113" in ids  # the paediatric R/R B-ALL seed trial
    assert "NCT04521231" not in ids  # adults only
    assert data["next_questions"][0]["could_settle"] >= data["next_questions"][-1]["could_settle"]
    explained = runner.invoke(app, ["explain", str(relapsed_child), "NCT04521231", "--db", str(demo_store_path),
                                    "--json", "--as-of", "2026-06-01"])
    assert explained.exit_code == 0, explained.output
    match = json.loads(explained.stdout)
    assert match["verdict"] == "not_eligible"
    deciding = [c for c in match["criteria"] if c["decides"]]
    assert {c["category"] for c in deciding} == {"age"}
    assert all(c["evidence"] and c["text"] for c in deciding)


def test_cli_ask_answers_and_saves(demo_store_path: Path, relapsed_child: Path, tmp_path: Path) -> None:
    saved = tmp_path / "answers.json"
    result = CliRunner().invoke(app, ["match", str(relapsed_child), "--db", str(demo_store_path), "--ask",
                                      "--as-of", "2026-06-01", "--status", "any", "--save-answers", str(saved)],
                                input="?\nn\nq\n")
    assert result.exit_code == 0, result.output
    answers = json.loads(saved.read_text("utf-8"))["answers"]
    assert [a["answer"] for a in answers] == ["not_sure", "no"]


def test_cli_explain_a_note_against_criteria_text(tmp_path: Path) -> None:
    criteria = tmp_path / "criteria.txt"
    criteria.write_text("Inclusion Criteria:\n- Age 18 years or older\nExclusion Criteria:\n- Pregnant", "utf-8")
    profile = tmp_path / "patient.yaml"
    profile.write_text("age: 45\nsex: male\n", "utf-8")
    result = CliRunner().invoke(app, ["explain", str(profile), "--criteria", str(criteria), "--json"])
    assert result.exit_code == 0, result.output
    verdicts = {c["id"]: c["verdict"] for c in json.loads(result.stdout)["criteria"]}
    assert verdicts == {"inc-1": "met", "exc-1": "not_met"}


def test_cli_reports_a_bad_patient_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"age": "old", "sex": "unknown"', "utf-8")
    result = CliRunner().invoke(app, ["explain", str(bad), "--criteria", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("criterion", "section", "truthful", "expected"), [
    # The question asks "Do you have HIV …?": a patient without HIV meets "Negative HIV test".
    ("Negative HIV test, negative hepatitis B (HBsAg) and hepatitis C virus (anti-HCV) test", "Inclusion", "no",
     TrialVerdict.ELIGIBLE),
    ("Negative HIV test, negative hepatitis B (HBsAg) and hepatitis C virus (anti-HCV) test", "Inclusion", "yes",
     TrialVerdict.NOT_ELIGIBLE),
    # "Unwilling to use contraception" asks about willingness: "Yes, I am willing" must not exclude.
    ("Female participants of childbearing potential unwilling to use protocol-specified method of contraception "
     "during treatment", "Exclusion", "yes", TrialVerdict.ELIGIBLE),
    ("Female participants of childbearing potential unwilling to use protocol-specified method of contraception "
     "during treatment", "Exclusion", "no", TrialVerdict.NOT_ELIGIBLE),
])
def test_an_answer_to_a_question_about_a_negated_rule_is_turned_round(criterion, section, truthful, expected) -> None:
    text = f"{section} Criteria:\n- {criterion}"
    plan = build_plan(_trial(text), compile_criteria(text))
    [planned] = [c for c in plan.criteria if not c.structured]
    assert planned.answer_negates, planned.question
    woman = profile_from_dict({"sex": "female", "birth_date": "1990-01-01"})
    assert match_trial(PatientView(woman.with_answer(planned.question_id, truthful), AS_OF), plan).verdict == expected
    unsure = woman.with_answer(planned.question_id, "not_sure")
    assert match_trial(PatientView(unsure, AS_OF), plan).verdict == TrialVerdict.POSSIBLY_ELIGIBLE
