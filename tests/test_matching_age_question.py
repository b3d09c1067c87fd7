"""The record's age limits are one question, and an answer to it settles them exactly as a birth date would."""

from __future__ import annotations

import datetime as dt

import pytest

from trialmatch.matching.trial_plan import PlannedCriterion, build_plan
from trialmatch.matching.verdicts import CriterionVerdict
from trialmatch.patients.facts import PatientFacts
from trialmatch.prescreening import prescreen
from trialmatch.store.sqlite import TrialStore

AS_OF = dt.date(2026, 6, 1)
BLINA = "NCT06054113"  # the record says 1 Month to 204 Months; its text "> 1 month and < 18 years"
REDUCE = "NCT00056407"  # 50 Years to 75 Years, male only
UNDER_18 = "NCT04604691"  # record "17 years and younger"; text "Age <18 years at the time of informed consent"


def _age_criteria(store: TrialStore, trial_id: str) -> list[PlannedCriterion]:
    plan = build_plan(store.get(trial_id), store.compiled(trial_id))
    return [c for c in plan.criteria if c.structured and c.category == "age"]


@pytest.mark.parametrize(("trial_id", "question"), [
    (BLINA, "Are you between 1 month and 17 years old?"),
    (REDUCE, "Are you between 50 and 75 years old?"),
    (UNDER_18, "Are you 17 years or younger?"),
])
def test_record_age_limits_are_one_natural_question(demo_store: TrialStore, trial_id: str, question: str) -> None:
    limits = _age_criteria(demo_store, trial_id)
    assert [c.question for c in limits] == [question]
    assert not limits[0].answer_negates  # "Yes" means the limits are met


def test_equal_meaning_gets_equal_wording(demo_store: TrialStore) -> None:
    # The record's "17 years and younger" and the text's "<18 years" mean the same: one question, one answer.
    plan = build_plan(demo_store.get(UNDER_18), demo_store.compiled(UNDER_18))
    by_id = {c.id: c for c in plan.criteria}
    assert by_id["maximum-age"].question_id == by_id["inc-2"].question_id
    questions = prescreen(demo_store.get(UNDER_18), demo_store.compiled(UNDER_18), as_of=AS_OF).questions
    shared = next(q for q in questions if q.question_id == by_id["inc-2"].question_id)
    assert set(shared.criterion_ids) == {"maximum-age", "inc-2"}


@pytest.mark.parametrize(("born", "expected"), [
    (dt.date(2026, 5, 1), CriterionVerdict.MET),        # one month old today
    (dt.date(2026, 5, 2), CriterionVerdict.NOT_MET),    # one month old tomorrow
    (dt.date(2008, 6, 2), CriterionVerdict.MET),        # 17, turns 18 tomorrow
    (dt.date(2008, 6, 1), CriterionVerdict.NOT_MET),    # 18 today
    (dt.date(2009, 3, 1), CriterionVerdict.MET),        # 17 years 3 months: "204 Months" is read as 17 years
])
def test_birthdays_just_inside_and_outside_the_range(demo_store: TrialStore, born: dt.date,
                                                     expected: CriterionVerdict) -> None:
    screened = prescreen(demo_store.get(BLINA), demo_store.compiled(BLINA), facts=PatientFacts(birth_date=born),
                         as_of=AS_OF)
    assert next(c.verdict for c in screened.match.criteria if c.id == "age") == expected
    assert "age" not in {c for q in screened.questions for c in q.criterion_ids}  # the birth date settled it


@pytest.mark.parametrize(("answer", "verdict", "result"), [
    ("yes", CriterionVerdict.MET, None),
    ("no", CriterionVerdict.NOT_MET, "not_eligible"),
    ("not_sure", CriterionVerdict.UNKNOWN, None),
])
def test_an_answer_settles_the_age_range_like_a_birth_date(demo_store: TrialStore, answer: str,
                                                          verdict: CriterionVerdict, result: str | None) -> None:
    trial, compiled = demo_store.get(BLINA), demo_store.compiled(BLINA)
    qid = _age_criteria(demo_store, BLINA)[0].question_id
    screened = prescreen(trial, compiled, {qid: answer}, as_of=AS_OF)
    assert next(c.verdict for c in screened.match.criteria if c.id == "age") == verdict
    if result:
        assert screened.result == result and [c.id for c in screened.deciding] == ["age"]
    else:
        assert screened.result != "not_eligible"


def test_one_answer_settles_the_same_range_in_every_trial(demo_store: TrialStore) -> None:
    # Trials whose record limits are 18 to 65 years all ask the same question; "No" rules each out.
    ranged = [t for t in demo_store.iter_trials() if t.eligibility.minimum_age and t.eligibility.maximum_age
              and (str(t.eligibility.minimum_age), str(t.eligibility.maximum_age)) == ("18 Years", "65 Years")]
    assert len(ranged) >= 5
    questions = {c.question_id: c.question for t in ranged for c in _age_criteria(demo_store, t.id)}
    assert list(questions.values()) == ["Are you between 18 and 65 years old?"]
    for trial in ranged:
        screened = prescreen(trial, demo_store.compiled(trial.id), {next(iter(questions)): "no"}, as_of=AS_OF)
        assert screened.result == "not_eligible" and "age" in {c.id for c in screened.deciding}


def test_a_sixty_five_year_old_is_inside_an_18_to_65_range(demo_store: TrialStore) -> None:
    trial = next(t for t in demo_store.iter_trials() if t.eligibility.maximum_age
                 and str(t.eligibility.maximum_age) == "65 Years" and str(t.eligibility.minimum_age) == "18 Years")
    verdicts = {}
    for born in (dt.date(1960, 12, 1), dt.date(1960, 6, 1)):  # 65 and a half; 66 today
        screened = prescreen(trial, demo_store.compiled(trial.id), facts=PatientFacts(birth_date=born), as_of=AS_OF)
        verdicts[born] = next(c.verdict for c in screened.match.criteria if c.id == "age")
    assert list(verdicts.values()) == [CriterionVerdict.MET, CriterionVerdict.NOT_MET]
