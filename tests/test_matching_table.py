"""Screening judges every candidate at once (``matching.verdict_table``): the same verdicts, ranking and
questions as judging each trial on its own (``judge_trial``, ``rank``, ``rank_questions``)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml

import trialmatch.screening as screening
from trialmatch.matching.judgement import judge_trial, uncompiled_question_id
from trialmatch.matching.next_question import rank_questions
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.ranking import rank
from trialmatch.matching.trial_plan import PlanCache
from trialmatch.matching.verdicts import TrialVerdict
from trialmatch.patients.facts import AnswerFact, PatientFacts
from trialmatch.patients.profile import profile_from_dict
from trialmatch.places import parse_place
from trialmatch.screening import ScreeningQuery, _age_days, nearest_sites, patient_concepts, plans_for, screen
from trialmatch.store.candidates import candidates
from trialmatch.store.sqlite import TrialStore

AS_OF = dt.date(2026, 6, 1)
PATIENTS = sorted((Path(__file__).parent / "fixtures" / "patients" / "all").glob("*.yaml"))


def _patient(path: Path) -> PatientFacts:
    return profile_from_dict(yaml.safe_load(path.read_text("utf-8"))["profile"])


def _one_by_one(store: TrialStore, facts: PatientFacts, query: ScreeningQuery) -> tuple:
    """The screening, judging each trial on its own."""
    view = PatientView(facts, query.as_of)
    found = candidates(store, statuses=query.statuses, age_days=_age_days(view), sex=facts.sex,
                       conditions=patient_concepts(view) or None)
    judged = [judge_trial(view, plan) for plan in plans_for(store, found)]
    counts = {verdict.value: sum(j.verdict == verdict for j in judged) for verdict in TrialVerdict}
    shown = [j for j in judged if query.include_not_eligible or j.verdict != TrialVerdict.NOT_ELIGIBLE]
    if query.near is not None:
        rowids = {c.id: c.rowid for c in found}
        nearest = nearest_sites(store, [rowids[j.trial_id] for j in shown], query.near)
        for judgement in shown:
            if judgement.trial_id in nearest:
                judgement.distance_km = nearest[judgement.trial_id][1]
    ranked = rank(shown)
    return ([j.trial_id for j in ranked[: query.limit]], [j.verdict.value for j in ranked[: query.limit]], counts,
            _questions(rank_questions(ranked)))


def _questions(questions: list) -> tuple:
    ids = [q.trial_ids for q in questions[:8]]  # read before the listing below, as the API reads them
    listed = [list(q.trials.items()) for q in questions[:8]]
    assert ids == [sorted(dict(items)) for items in listed]
    return ([(q.question_id, q.question, q.score, q.could_settle) for q in questions], listed, ids)


def _at_once(store: TrialStore, facts: PatientFacts, query: ScreeningQuery) -> tuple:
    result = screen(store, facts, query)
    return ([m.trial_id for m in result.matches], [m.verdict.value for m in result.matches], result.counts,
            _questions(result.questions))


@pytest.mark.parametrize("path", PATIENTS, ids=[p.stem for p in PATIENTS])
def test_every_patient_screens_as_judged_trial_by_trial(demo_store: TrialStore, path: Path) -> None:
    facts = _patient(path)
    screening.PLANS = PlanCache()
    judged = 0
    for query in (ScreeningQuery(as_of=AS_OF, statuses=[], limit=400),
                  ScreeningQuery(as_of=AS_OF, limit=50, include_not_eligible=True)):
        expected = _one_by_one(demo_store, facts, query)
        assert _at_once(demo_store, facts, query) == expected
        judged += sum(expected[2].values())
    assert judged > 0


def test_answers_and_distances_rank_alike(demo_store_path: Path, tmp_path: Path) -> None:
    """Answers to the most useful questions (Yes, No, Not sure, and a trial's uncompiled text), and a place."""
    facts = _patient(PATIENTS[0])
    screening.PLANS = PlanCache()
    query = ScreeningQuery(as_of=AS_OF, statuses=[], limit=400, include_not_eligible=True,
                           near=parse_place("London, UK"))
    shutil.copy(demo_store_path, tmp_path / "trials.db")
    demo_store = TrialStore(tmp_path / "trials.db")
    # Three trials whose criteria text was never compiled: each asks the study team's confirmation instead.
    some = [m.trial_id for m in screen(demo_store, facts, query).matches[:3]]
    demo_store.db.execute("DELETE FROM compiled_criteria WHERE rowid IN (SELECT rowid FROM trials WHERE id IN "
                          "(SELECT value FROM json_each(?)))", (json.dumps(some),))
    demo_store.db.commit()
    first = screen(demo_store, facts, query)
    uncompiled = next(q for q in first.questions if q.question_id.endswith("-criteria"))
    answers = [AnswerFact(question_id=q.question_id, answer=answer)
               for q, answer in zip(first.questions[:9], ["yes", "no", "not_sure"] * 3, strict=True)]
    answers.append(AnswerFact(question_id=uncompiled.question_id, answer="no"))
    answered = facts.model_copy(update={"answers": answers})
    expected = _one_by_one(demo_store, answered, query)
    assert _at_once(demo_store, answered, query) == expected
    # The answers changed something: the "No" to a trial's uncompiled text rules that trial out.
    assert expected != _one_by_one(demo_store, facts, query)
    ruled_out = uncompiled.question_id.removeprefix("q-").removesuffix("-criteria")
    assert uncompiled_question_id(ruled_out) == uncompiled.question_id
    verdicts = dict(zip(expected[0], expected[1], strict=True))
    assert verdicts[ruled_out] == "not_eligible"
    demo_store.close()


def test_codes_stay_one_per_name_when_a_server_s_threads_add_them_at_once() -> None:
    import threading

    from trialmatch.matching.verdict_table import Codebook

    book = Codebook()

    def add(offset: int) -> None:
        for i in range(20_000):
            book(f"rule-{(i * 7 + offset) % 5_000}")

    threads = [threading.Thread(target=add, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(book) == 5_001
    assert all(book.names[code] == name for name, code in book.code.items())


@pytest.mark.parametrize("stored", [False, True], ids=["built plans", "stored plans"])
def test_rule_trees_at_once_give_each_rule_s_own_truth(demo_store: TrialStore, stored: bool) -> None:
    """Every rule-bearing criterion of every demo trial, for every ALL test patient: ``rule_table`` against
    ``evaluate.rule_truth`` walking the tree."""
    from trialmatch.matching.evaluate import rule_truth
    from trialmatch.matching.rule_table import rule_truths
    from trialmatch.matching.stored_plan import decode_plan, encode_plan
    from trialmatch.matching.trial_plan import build_plan
    from trialmatch.matching.truth import TRUTH_CODE as _CODE_OF

    found = candidates(demo_store)
    trials, compiled = demo_store.get_many(c.rowid for c in found), demo_store.compiled_many(c.rowid for c in found)
    plans = [build_plan(trials[c.rowid], compiled.get(c.rowid)) for c in found]
    if stored:
        plans = [decode_plan(encode_plan(plan)) for plan in plans]
    seen: set[int] = set()
    for path in PATIENTS:
        view = PatientView(_patient(path), AS_OF)
        at_once = rule_truths(view, plans).tolist()
        one_by_one = [_CODE_OF[rule_truth(c.rule, PatientView(view.facts, AS_OF), p.context, p.leaf_keys)]
                      for p in plans for c in p.criteria if c.computable or c.may_not_apply]
        assert at_once == one_by_one, path.stem
        seen.update(at_once)
    assert seen == {0, 1, 2, 3}  # False, True, unknown and "does not apply" all occur
