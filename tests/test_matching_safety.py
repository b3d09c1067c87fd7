"""The safety rule, as properties: never "not eligible" on a guess.

- Kleene logic is monotone: settling an unknown leaf never flips a known result.
- Answering a question (or adding a fact about something the record was silent on) only settles unknowns:
  it never turns a known verdict into another, and "Not sure" changes nothing.
- Every criterion that decides "not eligible" shows evidence: a fact or an answer.
- A patient known only by age and sex is ruled out only by age or sex limits read with confidence.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import build_plan
from trialmatch.matching.truth import NA, kleene_all, kleene_any, kleene_not
from trialmatch.matching.verdicts import CriterionVerdict, TrialVerdict
from trialmatch.patients.profile import profile_from_dict

AS_OF = dt.date(2026, 6, 1)
SEEDS = ["CRUK-8795", "NCT04521231", "PAGE-58FD7325E66A", "NCT04604691", "NCT06054113"]

# A tree is a leaf index or (op, children).
trees = st.recursive(
    st.integers(0, 5),
    lambda children: st.tuples(st.sampled_from(["all", "any", "not"]), st.lists(children, min_size=1, max_size=3)),
    max_leaves=12,
)
values = st.lists(st.sampled_from([True, False, None, NA]), min_size=6, max_size=6)


def _evaluate(tree: object, assignment: list) -> object:
    if isinstance(tree, int):
        return assignment[tree]
    op, children = tree  # type: ignore[misc]
    results = [_evaluate(child, assignment) for child in children]
    if op == "not":
        return kleene_not(results[0])
    return kleene_all(results) if op == "all" else kleene_any(results)


@given(trees, values, st.data())
def test_settling_an_unknown_never_flips_a_known_result(tree, assignment, data) -> None:
    before = _evaluate(tree, assignment)
    refined = [data.draw(st.sampled_from([True, False])) if v is None else v for v in assignment]
    after = _evaluate(tree, refined)
    if before is not None:
        assert after == before


@pytest.fixture(scope="module")
def seed_plans(demo_store_path):
    from trialmatch.store.sqlite import TrialStore

    with TrialStore(demo_store_path) as store:
        return [build_plan(store.get(i), store.compiled(i)) for i in SEEDS]


@pytest.fixture(scope="module")
def leukaemia_plans(demo_store_path):
    from trialmatch.store.candidates import candidates
    from trialmatch.store.sqlite import TrialStore

    with TrialStore(demo_store_path) as store:
        found = candidates(store, conditions=frozenset({"leukemia", "all", "b_all", "acute_leukemia"}))
        trials, compiled = store.get_many(c.rowid for c in found), store.compiled_many(c.rowid for c in found)
        return [build_plan(trials[c.rowid], compiled.get(c.rowid)) for c in found]


conditions = st.fixed_dictionaries({
    "name": st.sampled_from(["B-ALL", "Philadelphia positive ALL", "breast cancer", "HIV", "hepatitis B",
                             "diabetes", "epilepsy", "graft versus host disease", "Down syndrome"]),
    "present": st.booleans(),
    "status": st.sampled_from(["active", "history"]),
}, optional={
    "relapse_number": st.integers(0, 3),
    "refractory": st.booleans(),
    "cns_status": st.sampled_from(["CNS1", "CNS2", "CNS3"]),
    "mrd": st.sampled_from([0.0, 1e-5, 1e-3]),
    "marrow_blasts_percent": st.floats(0, 95),
    "diagnosed": st.dates(dt.date(2015, 1, 1), dt.date(2026, 5, 1)).map(str),
})
therapies = st.fixed_dictionaries({
    "name": st.sampled_from(["blinatumomab", "rituximab", "radiotherapy", "allogeneic HSCT", "methotrexate",
                             "CAR T-cell therapy", "imatinib", "intrathecal chemotherapy"]),
    "start": st.dates(dt.date(2020, 1, 1), dt.date(2026, 5, 31)).map(str),
}, optional={"ongoing": st.booleans()})
labs = st.fixed_dictionaries({
    "name": st.sampled_from(["ANC", "platelets", "hemoglobin", "total bilirubin", "creatinine", "ALT"]),
    "value": st.floats(0.1, 500),
    "unit": st.sampled_from(["10^9/L", "/uL", "g/dL", "mg/dL", "umol/L", "U/L"]),
})
patients = st.fixed_dictionaries({}, optional={
    "birth_date": st.dates(dt.date(1940, 1, 1), dt.date(2026, 5, 1)).map(str),
    "sex": st.sampled_from(["female", "male"]),
    "conditions": st.lists(conditions, max_size=3),
    "therapies": st.lists(therapies, max_size=3),
    "labs": st.lists(labs, max_size=3),
    "performance": st.lists(st.fixed_dictionaries({"scale": st.sampled_from(["ecog", "karnofsky", "lansky"]),
                                                   "value": st.sampled_from([0, 1, 2, 3, 50, 70, 90])}),
                            max_size=1),
    "pregnant": st.fixed_dictionaries({"value": st.booleans()}),
})

_settings = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings
@given(patients, st.data())
def test_answers_only_settle_unknowns(seed_plans, profile, data) -> None:
    facts = profile_from_dict(profile)
    for plan in seed_plans:
        before = match_trial(PatientView(facts, AS_OF), plan)
        for criterion in before.criteria:
            if criterion.verdict != CriterionVerdict.UNKNOWN:
                assert criterion.evidence, (plan.trial.id, criterion.id, "a settled verdict shows its evidence")
        if not before.open:
            continue
        opened = data.draw(st.sampled_from(before.open))
        answer = data.draw(st.sampled_from(["yes", "no", "not_sure"]))
        after = match_trial(PatientView(facts.with_answer(opened.question_id, answer), AS_OF), plan)
        for old, new in zip(before.criteria, after.criteria, strict=True):
            if old.verdict != CriterionVerdict.UNKNOWN:
                assert new.verdict == old.verdict, (plan.trial.id, old.id)
            elif old.question_id != opened.question_id or answer == "not_sure":
                assert new.verdict == CriterionVerdict.UNKNOWN, (plan.trial.id, old.id)
        if answer == "not_sure":
            assert after.verdict == before.verdict
        if before.verdict == TrialVerdict.NOT_ELIGIBLE:
            assert after.verdict == TrialVerdict.NOT_ELIGIBLE


@_settings
@given(patients, therapies)
def test_a_fact_about_something_new_only_settles_unknowns(seed_plans, profile, therapy) -> None:
    facts = profile_from_dict(profile)
    if any(t.name == therapy["name"] for t in facts.therapies):
        return
    added = profile_from_dict({**profile, "therapies": [*profile.get("therapies", []), therapy]})
    view = PatientView(added, AS_OF)
    concept = added.therapies[-1].concept
    related = {concept, *view.vocabulary.ancestors(concept)} if concept else set()
    for plan in seed_plans:
        before = match_trial(PatientView(facts, AS_OF), plan)
        after = match_trial(PatientView(added, AS_OF), plan)
        for planned, old, new in zip(plan.criteria, before.criteria, after.criteria, strict=True):
            # A course of a therapy the rule is about is not "something new" to that rule.
            if any(getattr(leaf, "concept", None) in related for leaf in _leaves(planned.rule)):
                continue
            if old.verdict in (CriterionVerdict.MET, CriterionVerdict.NOT_MET):
                assert new.verdict == old.verdict, (plan.trial.id, old.id, old.text)


@_settings
@given(st.dates(dt.date(1930, 1, 1), dt.date(2026, 5, 1)), st.sampled_from(["female", "male"]))
def test_age_and_sex_alone_exclude_only_by_age_or_sex(leukaemia_plans, born, sex) -> None:
    facts = profile_from_dict({"birth_date": str(born), "sex": sex})
    view = PatientView(facts, AS_OF)
    for plan in leukaemia_plans:
        match = match_trial(view, plan)
        for criterion in match.deciding:
            planned = next(p for p in plan.criteria if p.id == criterion.id)
            assert planned.computable, (plan.trial.id, criterion.id)
            # Pregnancy or contraception rules may be settled by sex or age ("a man is not pregnant"), and only so.
            assert criterion.evidence
            assert all(e.statement.startswith(("born", "aged", "sex")) for e in criterion.evidence), (
                plan.trial.id, criterion.id, criterion.text)


@_settings
@given(patients)
def test_the_fast_verdict_agrees_with_the_full_explanation(leukaemia_plans, profile) -> None:
    from trialmatch.matching.judgement import judge_trial

    facts = profile_from_dict(profile)
    view = PatientView(facts, AS_OF)
    for plan in leukaemia_plans:
        full = match_trial(view, plan)
        fast = judge_trial(view, plan, stop_when_excluded=False)
        assert fast.verdict == full.verdict, plan.trial.id
        assert [c.id for c in fast.open] == [c.id for c in full.open], plan.trial.id
        assert list(fast.deciding) == [c.id for c in full.deciding], plan.trial.id


def _leaves(rule):
    from trialmatch.criteria.rules import leaves

    return list(leaves(rule))
