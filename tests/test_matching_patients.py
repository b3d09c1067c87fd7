"""Realistic ALL patients against the seed trials and demo leukaemia trials, judged by hand from the trial text.

Each file in tests/fixtures/patients/all/ holds a profile and, per trial, the verdict a careful research
coordinator reaches from the criteria text (see that folder's README). The matcher must never be less
safe than that judgement, and where it is less complete it must still ask the deciding question:

- a "not eligible" from the matcher needs a hand judgement of "not eligible";
- a hand "not eligible" is either found, or left "possibly eligible" with a deciding criterion still open;
- a hand "eligible" is never "not eligible"; a hand "possibly eligible" is neither ruled out nor overclaimed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import build_plan
from trialmatch.matching.verdicts import TrialVerdict
from trialmatch.patients.profile import profile_from_dict

FOLDER = Path(__file__).parent / "fixtures" / "patients" / "all"
FILES = sorted(FOLDER.glob("*.yaml"))
STRUCTURED = {"age", "minimum-age", "maximum-age", "sex"}


def _cases() -> list[tuple[str, str, dict, dict]]:
    cases = []
    for path in FILES:
        data = yaml.safe_load(path.read_text("utf-8"))
        for trial_id, expected in data["expect"]["trials"].items():
            cases.append((path.stem, trial_id, data, expected))
    return cases


CASES = _cases()


def _facts_for(data: dict, plan):
    """The profile, with answers written as "TRIAL:criterion-id" given the matcher's question ids."""
    facts = profile_from_dict(data["profile"])
    ids = {f"{plan.trial.id}:{c.id}": c.question_id for c in plan.criteria}
    for answer in list(facts.answers):
        if answer.question_id in ids:
            facts = facts.with_answer(ids[answer.question_id], answer.answer, answer.question)
    return facts


def test_the_set_covers_what_the_issue_asks() -> None:
    assert len(FILES) >= 25
    trials = {trial for _, trial, _, _ in CASES}
    assert {"CRUK-8795", "NCT04521231", "PAGE-58FD7325E66A", "NCT04604691", "NCT06054113"} <= trials
    verdicts = [expected["verdict"] for *_, expected in CASES]
    assert {"eligible", "not_eligible", "possibly_eligible"} <= set(verdicts)


@pytest.fixture(scope="module")
def plans(demo_store_path):
    from trialmatch.store.sqlite import TrialStore

    with TrialStore(demo_store_path) as store:
        return {trial_id: build_plan(store.get(trial_id), store.compiled(trial_id))
                for trial_id in {trial for _, trial, _, _ in CASES}}


@pytest.mark.parametrize(("patient", "trial_id", "data", "expected"), CASES,
                         ids=[f"{p}-{t}" for p, t, _, _ in CASES])
def test_matcher_is_never_less_safe_than_the_hand_judgement(plans, patient, trial_id, data, expected) -> None:
    facts = _facts_for(data, plans[trial_id])
    as_of = dt.date.fromisoformat(str(data["expect"]["as_of"]))
    match = match_trial(PatientView(facts, as_of), plans[trial_id])
    hand = expected["verdict"]
    hand_deciding = set(expected.get("deciding") or [])
    why = f"{patient} / {trial_id}: matcher says {match.summary()}; by hand {hand}: {expected.get('why')}"
    if match.verdict == TrialVerdict.NOT_ELIGIBLE:
        # Its reasons may differ from the hand judgement's (it may find more), but the verdict must be the same.
        assert hand == "not_eligible", why
    elif hand == "not_eligible":
        assert match.verdict == TrialVerdict.POSSIBLY_ELIGIBLE, why
        assert hand_deciding & {c.id for c in match.open}, why
    elif hand == "possibly_eligible":
        assert match.verdict == TrialVerdict.POSSIBLY_ELIGIBLE, why
    for criterion in match.criteria:
        if criterion.decides:
            assert criterion.evidence and criterion.text, why


def test_agreement_with_the_hand_judgement(plans) -> None:
    """How often the matcher reaches exactly the hand verdict (it may only fall short by asking)."""
    agree = 0
    for _, trial_id, data, expected in CASES:
        facts = _facts_for(data, plans[trial_id])
        as_of = dt.date.fromisoformat(str(data["expect"]["as_of"]))
        agree += match_trial(PatientView(facts, as_of), plans[trial_id]).verdict.value == expected["verdict"]
    share = agree / len(CASES)
    print(f"\nexact agreement with hand verdicts: {agree}/{len(CASES)} = {share:.0%}")
    assert share >= 0.5
