"""The next question and the verdict index give what their plain definitions give, on the demo corpus.

- ``rank_questions`` (counted with sets and ``Counter``, trials listed only when read) ranks exactly as the
  definition says: a question's score is the sum over the possibly-eligible trials where it is open of
  1 + 1/(the trial's open questions), ties by wording; its trials are those trials with the text of the
  first open criterion asking it; skipped questions are left out.
- A plan's stored verdict index is the one built from its criteria, and judging from the index gives the
  criterion-by-criterion loop's verdict, open criteria and deciding criteria (also after answers).
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from pathlib import Path

import yaml

from trialmatch.matching.judgement import index_rows, judge_trial, verdict_index
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.next_question import rank_questions
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.ranking import rank
from trialmatch.matching.stored_plan import decode_plan, encode_plan
from trialmatch.matching.trial_plan import PlanCache
from trialmatch.matching.verdicts import TrialVerdict
from trialmatch.patients.facts import AnswerFact
from trialmatch.patients.profile import profile_from_dict
from trialmatch.screening import plans_for
from trialmatch.store.candidates import candidates
from trialmatch.store.sqlite import TrialStore

AS_OF = dt.date(2026, 6, 1)
PATIENTS = sorted((Path(__file__).parent / "fixtures" / "patients" / "all").glob("*.yaml"))[:4]


def _patients() -> list:
    return [profile_from_dict(yaml.safe_load(path.read_text("utf-8"))["profile"]) for path in PATIENTS]


def _by_definition(matches, skip: set[str]) -> list[tuple[str, str, float, dict[str, str]]]:
    questions: dict[str, list] = {}
    for match in matches:
        if match.verdict != TrialVerdict.POSSIBLY_ELIGIBLE:
            continue
        seen: set[str] = set()
        for criterion in match.open:
            if criterion.question_id in skip:
                continue
            entry = questions.setdefault(criterion.question_id, [criterion.question, 0.0, {}])
            entry[2].setdefault(match.trial_id, criterion.text)
            if criterion.question_id not in seen:
                entry[1] += 1 + 1 / len(match.open)
                seen.add(criterion.question_id)
    ranked = sorted(questions.items(), key=lambda item: (-round(item[1][1], 9), item[1][0]))
    return [(qid, wording, round(score, 9), trials) for qid, (wording, score, trials) in ranked]


def _rounded(questions) -> list[tuple[str, str, float, dict[str, str]]]:
    ordered = sorted(questions, key=lambda q: (-round(q.score, 9), q.question))
    return [(q.question_id, q.question, round(q.score, 9), q.trials) for q in ordered]


def test_questions_rank_as_defined(demo_store: TrialStore) -> None:
    plans = plans_for(demo_store, candidates(demo_store), PlanCache())
    checked = 0
    for facts in _patients():
        view = PatientView(facts, AS_OF)
        ranked = rank([judge_trial(view, plan) for plan in plans])
        expected = _by_definition(ranked, set())
        assert len(expected) > 20
        got = rank_questions(ranked)
        # Most useful first, ties by wording (sums of the same weights may differ in the last bit, so the
        # order is checked on the scores as computed, the contents on rounded scores).
        assert all((-a.score, a.question) <= (-b.score, b.question) for a, b in pairwise(got))
        counted = [q.could_settle for q in got]
        assert _rounded(got) == expected
        assert counted == [len(q.trials) for q in got]
        skip = {expected[0][0], expected[3][0]}
        assert _rounded(rank_questions(ranked, skip)) == _by_definition(ranked, skip)
        checked += 1
    assert checked == len(PATIENTS)


def test_the_stored_verdict_index_is_the_built_one_and_judges_like_the_loop(demo_store: TrialStore) -> None:
    plans = plans_for(demo_store, candidates(demo_store), PlanCache())
    decoded = [decode_plan(encode_plan(plan)) for plan in plans]
    for plan, again in zip(plans, decoded, strict=True):
        assert index_rows(again) == index_rows(plan)
        assert verdict_index(again).question_at == tuple(c.question_id for c in plan.criteria)
    facts = _patients()[0]
    view = PatientView(facts, AS_OF)
    first = [judge_trial(view, plan) for plan in decoded]
    asked = [q.question_id for q in rank_questions(rank(first))[:6]]
    answered = facts.model_copy(update={"answers": [AnswerFact(question_id=qid, answer=reply)
                                                    for qid, reply in zip(asked, ["yes", "no"] * 3, strict=True)]})
    for patient in (facts, answered):
        view = PatientView(patient, AS_OF)
        for plan in decoded:
            full = match_trial(view, plan)
            for stop in (False, True):
                fast = judge_trial(view, plan, stop_when_excluded=stop)
                assert fast.verdict == full.verdict, plan.trial.id
                if not stop:
                    assert [c.id for c in fast.open] == [c.id for c in full.open], plan.trial.id
                    assert list(fast.deciding) == [c.id for c in full.deciding], plan.trial.id
                else:
                    assert list(fast.deciding) == [c.id for c in full.deciding][:1], plan.trial.id
