"""The Yes / No / Not sure questions as people read them, on real trials from the demo store.

Checks that questions are plain (ages in whole units, performance status in words with the scale in
brackets), that a carer sees every question in the third person with the same id, and that a plain question
never asks the opposite of its rule without the plan knowing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.questions import quoted, shown, worded_for
from trialmatch.matching.trial_plan import TrialPlan, build_plan
from trialmatch.matching.verdicts import CriterionVerdict
from trialmatch.patients.facts import PatientFacts
from trialmatch.prescreening import prescreen
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import Eligibility, Provenance, Trial

AS_OF = dt.date(2026, 6, 1)
_YOU = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def plans(demo_store_path: Path) -> list[TrialPlan]:
    with TrialStore(demo_store_path) as store:
        return [build_plan(trial, store.compiled(trial.id)) for trial in store.iter_trials()]


@pytest.fixture(scope="module")
def frequent(plans: list[TrialPlan]) -> list[str]:
    """The 50 questions asked by the most trials."""
    counts = Counter(c.question for plan in plans for c in plan.criteria)
    return [question for question, _ in counts.most_common(50)]


def test_the_most_frequent_questions_are_plain(frequent: list[str]) -> None:
    for question in frequent:
        assert question.endswith("?") or question.startswith('Does this apply to you? "'), question
        assert not re.search(r"\b\d{3,} (months|weeks)\b", question), question  # ages in whole years
        assert not re.search(r"\bECOG performance status (at most|less than)\b", question), question
        assert "aminotransferase" not in question and "times the lower limit of normal and" not in question
        if question.startswith("Does this apply to you?"):
            assert len(question) < 200, question
    assert "Are you (or your parent or guardian) able and willing to give written consent to take part?" in frequent
    assert not any(q.startswith('Does this apply to you? "Ability to understand') for q in frequent)


def test_every_performance_question_is_in_words_with_its_scale_in_brackets(plans: list[TrialPlan]) -> None:
    asked = {c.question for plan in plans for c in plan.criteria if c.category == "performance"
             and not c.question.startswith("Does this apply")}
    assert len(asked) >= 5
    plain = [q for q in asked if re.search(r"\((ECOG performance status|Karnofsky score|Lansky play-performance "
                                           r"score)[^)]*\)\?$", q)]
    assert len(plain) / len(asked) >= 0.8, sorted(asked - set(plain))


def test_a_childrens_trial_asks_lansky_in_play_words() -> None:
    # COG wording, as in the demo store's paediatric leukaemia trials.
    compiled = compile_criteria("Inclusion Criteria:\n- Karnofsky >= 50% for patients > 16 years of age and "
                                "Lansky >= 50% for patients <= 16 years of age")
    question = compiled.criteria[0].question
    assert question.startswith("Are you able to get dressed and join in quiet play")
    assert "(Lansky play-performance score 50% or more if 16 years or younger; Karnofsky score 50% or more " \
           "otherwise)" in question
    assert "ECOG" not in question


@pytest.mark.parametrize(("born", "answer", "verdict"), [
    (dt.date(2016, 3, 2), None, CriterionVerdict.UNKNOWN),  # a 10-year-old: only the Lansky score counts
    (dt.date(2016, 3, 2), "yes", CriterionVerdict.MET),
    (dt.date(2016, 3, 2), "no", CriterionVerdict.NOT_MET),
])
def test_the_age_conditional_performance_question_maps_answers_to_the_rule(born: dt.date, answer: str | None,
                                                                           verdict: CriterionVerdict) -> None:
    text = ("Inclusion Criteria:\n- Karnofsky >= 50% for patients > 16 years of age and Lansky >= 50% for "
            "patients <= 16 years of age")
    trial = Trial(id="NCT09999999", brief_title="Children's trial", eligibility=Eligibility(criteria_text=text),
                  provenance=Provenance(source="test", location="tests"))
    compiled = compile_criteria(text)
    plan = build_plan(trial, compiled)
    criterion = plan.criteria[0]
    assert not criterion.answer_negates
    answers = {criterion.question_id: answer} if answer else {}
    screened = prescreen(trial, compiled, answers, PatientFacts(birth_date=born), AS_OF)
    assert screened.match.criteria[0].verdict == verdict


def test_a_carer_sees_every_demo_question_in_the_third_person(plans: list[TrialPlan]) -> None:
    questions = {c.question for plan in plans for c in plan.criteria}
    assert len(questions) > 1000
    for question in questions:
        carer = worded_for(question, "carer")
        assert not _YOU.search(re.sub(r'"[^"]*"', "", carer)), carer
        assert worded_for(question, "self") == question
        # The criterion's own words are never reworded.
        assert re.findall(r'"[^"]*"', carer) == re.findall(r'"[^"]*"', question)


@pytest.mark.parametrize(("question", "carer"), [
    ("Are you between 1 month and 17 years old?", "Is the patient between 1 month and 17 years old?"),
    ("Have you ever had a stem cell transplant from a donor?",
     "Has the patient ever had a stem cell transplant from a donor?"),
    ("Were you 1 year or younger when you were diagnosed?",
     "Was the patient 1 year or younger when they were diagnosed?"),
    ("Is your share of leukaemia cells (blasts) in your bone marrow at least 5%?",
     "Is the patient's share of leukaemia cells (blasts) in their bone marrow at least 5%?"),
    ("If you are female, are you willing to use effective contraception during the study and for the time after "
     "it that the study team advises?",
     "If the patient is female, is the patient willing to use effective contraception during the study and for "
     "the time after it that the study team advises?"),
    ("Do your doctors expect you to live more than 3 months?",
     "Do the patient's doctors expect them to live more than 3 months?"),
    ('Does this apply to you? "Your doctor must agree"', 'Does this apply to the patient? "Your doctor must agree"'),
])
def test_carer_wording(question: str, carer: str) -> None:
    assert worded_for(question, "carer") == carer


def test_long_criteria_are_shown_by_their_first_sentence(plans: list[TrialPlan]) -> None:
    long = [c for plan in plans for c in plan.criteria
            if c.question == quoted(c.text) and len(c.question) > 300]
    assert long, "the demo store has long criteria asked as written"
    for criterion in long:
        short = shown(criterion.question)
        assert len(short) < len(criterion.question) and short.endswith('…"')
        assert short.startswith('Does this apply to you? "')
        body = short.removeprefix('Does this apply to you? "').removesuffix(' …"')
        assert " ".join(criterion.text.split()).startswith(body)
