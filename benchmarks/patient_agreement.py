"""How often the matcher reaches the hand-judged verdict for the ALL patients, and why it does not.

    python benchmarks/patient_agreement.py [--db demo.db] [--verbose]

Reads every patient of tests/fixtures/patients/all/ (36 patients x 9 trials), compiles each trial's
criteria with the compiler in this tree (never the rules stored by an older one), matches, and prints:

- exact agreement (the matcher's verdict equals the hand verdict);
- false "not eligible" (the matcher excludes where the hand judgement does not): must be 0;
- every disagreement grouped by cause: which criterion the matcher left open, settled too eagerly, or
  decided on, so the commonest causes come first.

Without --db the bundled demo corpus is imported into a temporary store first (about 20 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from trialmatch.criteria.compiler import compile_criteria
from trialmatch.importing import load_demo
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import TrialPlan, build_plan
from trialmatch.matching.verdicts import TrialMatch, TrialVerdict
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.profile import profile_from_dict
from trialmatch.store.sqlite import TrialStore

FOLDER = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "patients" / "all"


def _plans(db: Path, trial_ids: set[str]) -> dict[str, TrialPlan]:
    with TrialStore(db) as store:
        plans = {}
        for trial_id in sorted(trial_ids):
            trial = store.get(trial_id)
            if trial is None:
                sys.exit(f"{trial_id} is not in {db}: build the store with `trialmatch load-demo` or drop --db")
            plans[trial_id] = build_plan(trial, compile_criteria(trial.eligibility.criteria_text))
        return plans


def _facts(profile: dict, plan: TrialPlan) -> PatientFacts:
    """The profile, its answers ("TRIAL:criterion-id") renamed to the matcher's question ids."""
    facts = profile_from_dict(profile)
    ids = {f"{plan.trial.id}:{c.id}": c.question_id for c in plan.criteria}
    for answer in list(facts.answers):
        if answer.question_id in ids:
            facts = facts.with_answer(ids[answer.question_id], answer.answer, answer.question)
    return facts


def _causes(match: TrialMatch, hand: str, expected: dict) -> list[str]:
    """One line per criterion that explains why the matcher's verdict differs from the hand verdict."""
    trial = match.trial_id
    if match.verdict == TrialVerdict.NOT_ELIGIBLE:
        return [f"false not-eligible: {trial} {c.id} decides ({c.rule})" for c in match.deciding]
    if hand == "not_eligible":
        deciding = set(expected.get("deciding") or [])
        open_ids = {c.id for c in match.open}
        left = sorted(deciding & open_ids) or sorted(deciding)
        return [f"left open, decides by hand: {trial} {cid}" for cid in left]
    if hand == "eligible":
        return [f"left open, met by hand: {trial} {c.id}" for c in match.open]
    # The hand judgement is "possibly eligible": the matcher settled what the hand left open.
    hand_open = set(expected.get("open") or [])
    settled = [c for c in match.criteria if c.id in hand_open and not c.is_open]
    return [f"settled, open by hand: {trial} {c.id} ({c.verdict.value})" for c in settled] or [
        f"settled, open by hand: {trial} (no listed criterion)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a store already holding the demo corpus")
    parser.add_argument("--verbose", action="store_true", help="list each disagreeing pair")
    args = parser.parse_args()
    cases = []
    for path in sorted(FOLDER.glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        as_of = dt.date.fromisoformat(str(data["expect"]["as_of"]))
        cases += [(path.stem, trial_id, data["profile"], as_of, expected)
                  for trial_id, expected in data["expect"]["trials"].items()]
    trial_ids = {trial_id for _, trial_id, *_ in cases}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "demo.db"
            with TrialStore(db) as store:
                load_demo(store)
        plans = _plans(db, trial_ids)

    agree = false_not_eligible = 0
    by_cause: dict[str, list[str]] = defaultdict(list)
    confusion: Counter[tuple[str, str]] = Counter()
    other_reason: dict[str, list[str]] = defaultdict(list)
    for patient, trial_id, profile, as_of, expected in cases:
        plan = plans[trial_id]
        match = match_trial(PatientView(_facts(profile, plan), as_of), plan)
        hand, got = expected["verdict"], match.verdict.value
        confusion[(hand, got)] += 1
        if got == hand:
            agree += 1
            if got == "not_eligible":
                # Same verdict, but a deciding criterion the hand judgement doesn't name may be a wrong rule.
                hand_deciding = set(expected.get("deciding") or [])
                for c in match.deciding:
                    if c.id not in hand_deciding:
                        other_reason[f"{trial_id} {c.id} ({c.rule})"].append(patient)
            continue
        false_not_eligible += got == "not_eligible"
        for cause in _causes(match, hand, expected):
            by_cause[cause].append(patient)
        if args.verbose:
            print(f"{patient} / {trial_id}: hand {hand}, matcher {got}")

    total = len(cases)
    patients = len({patient for patient, *_ in cases})
    print(f"pairs: {total} ({patients} patients x {len(trial_ids)} trials)")
    print(f"exact agreement: {agree}/{total} = {agree / total:.0%}")
    print(f"false not-eligible: {false_not_eligible}")
    print("\nhand verdict -> matcher verdict:")
    for (hand, got), count in sorted(confusion.items()):
        print(f"  {hand:>17} -> {got:<17} {count}")
    print("\ndisagreements by cause (pairs):")
    for cause, patients in sorted(by_cause.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"  {len(patients):3d}  {cause}")
    print("\nagreed \"not eligible\", but also decided by a criterion the hand judgement doesn't name:")
    for cause, patients in sorted(other_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"  {len(patients):3d}  {cause}" + (f"  [{', '.join(p[:6] for p in patients)}]" if args.verbose else ""))


if __name__ == "__main__":
    main()
