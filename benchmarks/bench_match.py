"""Matching speed and memory: one patient against a 100,000-trial store, and batch throughput.

    python benchmarks/bench_match.py [--trials 100000] [--patients 1000] [--repeat 40]

1. Store: the 3,722 real trials of hint-trials.jsonl plus the bundled demo corpus, imported (and compiled)
   once, then copied under new ids up to --trials (about 5 % are leukaemia trials, as on ClinicalTrials.gov).
   Kept in benchmarks/out/ for the next run.
   Every trial's matching plan is then stored ready-made, as importing does.
2. One patient end to end (``screening.screen``: prefilter, plans, judging every candidate, ranking,
   next question), p50 and p95. Cold: --cold fresh processes, each importing trialmatch, opening the
   store and timing its first screening (every plan read from the store). Warm: --repeat patients in one
   process with every plan already in memory (a running server's case). Status any, then open trials.
   Then warm again, status any, with no rule or leaf shared between the copies of a real trial (each
   copy's keys made its own): the copies otherwise let one evaluation of a rule serve up to 27 trials,
   which a real registry's trials share far less (``bench_unshared``).
   Targets: p50 <= 150 ms, p95 <= 400 ms.
3. Batch: --patients synthetic patients x every trial of the demo corpus (no prefilter), on one core:
   verdicts with every criterion judged, verdicts stopping at the first deciding criterion, and full
   explanations. Target: >= 20,000 pairs/s.
4. Peak memory (max RSS) after each part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import trialmatch.plan_store as plan_store
import trialmatch.screening as screening
from trialmatch.importing import import_paths, load_demo
from trialmatch.matching.judgement import judge_trial
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.stored_plan import decode_plan
from trialmatch.matching.trial_plan import PlanCache, TrialPlan
from trialmatch.patients.profile import profile_from_dict
from trialmatch.plan_store import refresh_plans
from trialmatch.screening import ScreeningQuery, plans_for, screen
from trialmatch.store.candidates import candidates
from trialmatch.store.sqlite import TrialStore

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
HINT = ROOT.parent / "shared" / "data" / "criteria-corpus" / "hint-trials.jsonl"
AS_OF = dt.date(2026, 6, 1)

DIAGNOSES = [
    ("B-cell acute lymphoblastic leukaemia", 0.35), ("acute myeloid leukemia", 0.1), ("breast cancer", 0.15),
    ("non-small cell lung cancer", 0.1), ("diffuse large B-cell lymphoma", 0.1), ("multiple myeloma", 0.05),
    ("type 2 diabetes", 0.05), ("heart failure", 0.05), ("prostate cancer", 0.05),
]
DRUGS = ["blinatumomab", "rituximab", "methotrexate", "vincristine", "imatinib", "dexamethasone", "cytarabine",
         "allogeneic HSCT", "radiotherapy", "CAR T-cell therapy", "carboplatin", "pembrolizumab"]
LABS = [("ANC", 0.2, 6.0, "10^9/L"), ("platelets", 20, 400, "10^9/L"), ("hemoglobin", 7, 15, "g/dL"),
        ("total bilirubin", 0.2, 3.0, "mg/dL"), ("creatinine", 0.3, 2.5, "mg/dL"), ("ALT", 10, 200, "U/L")]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def synthetic_patient(rng: random.Random, index: int) -> dict:
    """A plausible patient: a diagnosis with its state, a few labs, therapies and a performance status."""
    name = rng.choices([d for d, _ in DIAGNOSES], [w for _, w in DIAGNOSES])[0]
    child = "lymphoblastic" in name and rng.random() < 0.6
    born = AS_OF - dt.timedelta(days=rng.randint(200, 17 * 365) if child else rng.randint(18 * 365, 85 * 365))
    diagnosed = AS_OF - dt.timedelta(days=rng.randint(30, 2000))
    condition = {"name": name, "diagnosed": str(max(diagnosed, born + dt.timedelta(days=60))),
                 "relapse_number": rng.choice([0, 0, 1, 2]), "cd19": rng.choice(["positive", None]),
                 "mrd": rng.choice([None, 0.0, 1e-4, 1e-3]), "mrd_assay_sensitivity": 1e-5,
                 "cns_status": rng.choice(["CNS1", "CNS1", "CNS2", None])}
    therapies = []
    for drug in rng.sample(DRUGS, rng.randint(0, 4)):
        start = AS_OF - dt.timedelta(days=rng.randint(5, 900))
        therapies.append({"name": drug, "start": str(start), "end": str(start + dt.timedelta(days=rng.randint(0, 60)))})
    labs = [{"name": n, "value": round(rng.uniform(lo, hi), 2), "unit": u, "date": str(AS_OF - dt.timedelta(days=3))}
            for n, lo, hi, u in rng.sample(LABS, rng.randint(0, len(LABS)))]
    scale = "lansky" if child else rng.choice(["ecog", "karnofsky"])
    value = rng.choice([50, 60, 70, 80, 90, 100]) if scale != "ecog" else rng.randint(0, 3)
    return {"id": f"synthetic-{index}", "birth_date": str(born), "sex": rng.choice(["female", "male"]),
            "conditions": [{k: v for k, v in condition.items() if v is not None}], "therapies": therapies,
            "labs": labs, "performance": [{"scale": scale, "value": value}]}


def build_store(trials: int) -> Path:
    path = OUT / f"match-store-{trials}.db"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    base = OUT / "match-store-base.db"
    if not base.exists():
        started = time.perf_counter()
        with TrialStore(base) as store:
            load_demo(store)
            import_paths(store, [HINT])
            print(f"imported and compiled {store.count():,} real trials in {time.perf_counter() - started:.0f} s")
    shutil.copy(base, path)
    started = time.perf_counter()
    with TrialStore(path) as store:
        real = store.count()
        db = store.db
        copies = -(-trials // real) - 1
        with store.transaction():
            for copy in range(1, copies + 1):
                offset = copy * 1_000_000
                suffix = f"-c{copy}"
                db.execute(
                    "INSERT INTO trials (rowid, id, content_hash, title, overall_status, phases, study_type, "
                    "min_age_days, max_age_limit_days, sex, last_update, site_min_lat, site_max_lat, site_min_lon, "
                    "site_max_lon, source, source_location, imported_at) "
                    "SELECT rowid + :o, id || :s, content_hash, title, overall_status, phases, study_type, "
                    "min_age_days, max_age_limit_days, sex, last_update, site_min_lat, site_max_lat, site_min_lon, "
                    "site_max_lon, source, source_location, imported_at FROM trials WHERE rowid < 1000000 "
                    "ORDER BY rowid LIMIT :n", {"o": offset, "s": suffix, "n": min(real, trials - copy * real)})
                db.execute("INSERT INTO trial_records (rowid, record) SELECT r.rowid + :o, "
                           "json_set(r.record, '$.id', t.id || :s) FROM trial_records r JOIN trials t "
                           "ON t.rowid = r.rowid WHERE r.rowid + :o IN (SELECT rowid FROM trials)",
                           {"o": offset, "s": suffix})
                for table, column in (("compiled_criteria", "rowid"), ("trial_conditions", "trial_rowid")):
                    columns = {"compiled_criteria": "compiler_version, criteria_hash, compiled",
                               "trial_conditions": "concept"}[table]
                    db.execute(f"INSERT INTO {table} ({column}, {columns}) SELECT {column} + :o, {columns} "
                               f"FROM {table} WHERE {column} < 1000000 AND {column} + :o IN (SELECT rowid FROM trials)",
                               {"o": offset})
        print(f"copied to {store.count():,} trials in {time.perf_counter() - started:.0f} s")
    return path


def ready_plans(path: Path) -> None:
    """Store every trial's matching plan, as importing does (the copies above have none yet)."""
    started = time.perf_counter()
    with TrialStore(path) as store:
        stored = sum(refresh_plans(store))
    if stored:
        print(f"stored {stored:,} matching plans in {time.perf_counter() - started:.0f} s")


def _patients(repeat: int) -> list:
    rng = random.Random(7)
    return [profile_from_dict(synthetic_patient(rng, i)) for i in range(repeat)]


def cold_one(path: Path, index: int, statuses: list[str]) -> None:
    """In a fresh process: open the store and screen one patient, printing the time of that first query."""
    facts = _patients(index + 1)[index]
    with TrialStore(path) as store:
        started, cpu = time.perf_counter(), time.process_time()
        result = screen(store, facts, ScreeningQuery(as_of=AS_OF, statuses=statuses))
        listed = sum(len(question.trial_ids) for question in result.questions[:10])  # as the web answer lists them
        elapsed, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    print(json.dumps({"ms": elapsed, "cpu_ms": cpu, "considered": result.considered, "listed": listed,
                      "rss": rss_mb()}))


def _report(label: str, statuses: list[str], times: list[float], cpu: list[float], considered: list[int],
            rss: float) -> None:
    """Wall-clock and CPU-time percentiles: on a shared machine the CPU time is the figure to compare."""
    print(f"  {label:13} status={','.join(statuses) or 'any':4}: p50 {percentile(times, 0.5):6.0f} ms, "
          f"p95 {percentile(times, 0.95):6.0f} ms (CPU p50 {percentile(cpu, 0.5):,.0f}, p95 "
          f"{percentile(cpu, 0.95):,.0f} ms); candidates judged: median "
          f"{statistics.median(considered):,.0f}, max {max(considered):,}; peak RSS {rss:,.0f} MB")


def bench_one_patient(path: Path, repeat: int, cold_runs: int, statuses: list[str]) -> None:
    """Cold: a fresh process per patient (imports done and store opened, then the first screening is
    timed); plans come ready-made from the store. Warm: a running server's case, every plan in memory."""
    times, cpu, considered, rss = [], [], [], 0.0
    for index in range(cold_runs):
        command = [sys.executable, __file__, "--trials", str(path.stem.rsplit("-", 1)[1]), "--cold-one",
                   str(index), "--statuses", ",".join(statuses)]
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        times.append(result["ms"])
        cpu.append(result["cpu_ms"])
        considered.append(result["considered"])
        rss = max(rss, result["rss"])
    _report("cold process", statuses, times, cpu, considered, rss)
    patients = _patients(repeat)
    with TrialStore(path) as store:
        screening.PLANS = PlanCache(size=200_000)
        for facts in patients:
            screen(store, facts, ScreeningQuery(as_of=AS_OF, statuses=statuses))
        times, cpu, considered = [], [], []
        for facts in patients:
            started, used = time.perf_counter(), time.process_time()
            result = screen(store, facts, ScreeningQuery(as_of=AS_OF, statuses=statuses))
            # The reader's part: the top questions' trials are listed when read (as the web answer does).
            for question in result.questions[:10]:
                assert question.could_settle == len(question.trial_ids)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
            considered.append(result.considered)
    _report("warm", statuses, times, cpu, considered, rss_mb())


def _unshared(encoded: bytes) -> TrialPlan:
    """A stored plan whose rule and leaf keys are made its copy's own (see ``bench_unshared``)."""
    plan = decode_plan(encoded)
    copy = plan.trial.id.rpartition("-c")[2] if "-c" in plan.trial.id else ""
    if not copy:
        return plan
    salt = f"~{copy}"
    rows = plan.criteria._rows  # type: ignore[attr-defined]  # still undecoded: StoredCriteria
    for row in rows:
        row[10] = row[10] + salt
        row[14] = [key + salt if key else key for key in row[14]]
    index = plan.__dict__["_verdict_index_rows"]
    for group in (0, 2, 4):
        index[group] = [key + salt for key in index[group]]
    return plan


def bench_unshared(path: Path, repeat: int) -> None:
    """Warm, as above, but no rule or leaf is shared between copies of a real trial.

    The store's copies share every compiled rule with the real trial they copy, so a patient's evaluation of
    a rule is reused across up to 27 copies; among the 3,793 real trials, 13,326 rule-bearing criteria have
    4,130 distinct rules (and 21,281 leaves 4,287 distinct ones). Here each copy's rule and leaf keys are
    its own, as if the 100,000 trials shared criteria only as much as the real ones do among themselves:
    a pessimistic model of a real store (sharing grows with the size of a registry).
    """
    original = plan_store.decode_plan
    plan_store.decode_plan = _unshared  # type: ignore[assignment]
    try:
        patients = _patients(repeat)
        with TrialStore(path) as store:
            screening.PLANS = PlanCache(size=200_000)
            for facts in patients:
                screen(store, facts, ScreeningQuery(as_of=AS_OF, statuses=[]))
            times, cpu, considered = [], [], []
            for facts in patients:
                started, used = time.perf_counter(), time.process_time()
                result = screen(store, facts, ScreeningQuery(as_of=AS_OF, statuses=[]))
                for question in result.questions[:10]:
                    assert question.could_settle == len(question.trial_ids)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
                considered.append(result.considered)
        _report("warm, unshared", [], times, cpu, considered, rss_mb())
    finally:
        plan_store.decode_plan = original  # type: ignore[assignment]


def bench_batch(path: Path, patients: int) -> None:
    rng = random.Random(11)
    facts = [profile_from_dict(synthetic_patient(rng, i)) for i in range(patients)]
    with TrialStore(path) as store:
        demo_rows = {r[0] for r in store.db.execute(
            "SELECT rowid FROM trials WHERE rowid < 1000000 AND source_location LIKE '%demo-corpus.zip%'")}
        plans = plans_for(store, [c for c in candidates(store) if c.rowid in demo_rows], PlanCache())
    runs = [
        ("verdicts, every criterion judged (judge_trial)",
         lambda view, plan: judge_trial(view, plan, stop_when_excluded=False)),
        ("verdicts, stopping at the first deciding criterion", lambda view, plan: judge_trial(view, plan)),
        ("full per-criterion explanations (match_trial)", match_trial),
    ]
    for label, judge in runs:
        pairs = 0
        started = time.perf_counter()
        for patient in facts:
            view = PatientView(patient, AS_OF)
            for plan in plans:
                judge(view, plan)
                pairs += 1
        elapsed = time.perf_counter() - started
        print(f"  {label}: {patients:,} patients x {len(plans)} demo-corpus trials = {pairs:,} pairs in "
              f"{elapsed:.1f} s: {pairs / elapsed:,.0f} pairs/s on one core; peak RSS {rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--cold", type=int, default=20, help="fresh processes timed for the cold figures")
    parser.add_argument("--cold-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--statuses", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_one is not None:
        statuses = [status for status in args.statuses.split(",") if status]
        return cold_one(OUT / f"match-store-{args.trials}.db", args.cold_one, statuses)
    path = build_store(args.trials)
    ready_plans(path)
    print(f"One patient against a {args.trials:,}-trial store (end to end, in process):")
    bench_one_patient(path, args.repeat, args.cold, [])
    bench_one_patient(path, args.repeat, args.cold, ["OPEN"])
    bench_unshared(path, args.repeat)
    print("Batch throughput:")
    bench_batch(path, args.patients)


if __name__ == "__main__":
    sys.exit(main())
