"""``trialmatch match`` and ``trialmatch explain``: a patient against the store, or against one trial.

They mirror ``trialmatch.screening.screen`` and ``trialmatch.matching.match_trial``. Patient files are
read, never stored or logged; answers are written back only when the user says so.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli import DbOption, JsonOption, _fail, _open_store, app, console, errors
from trialmatch.cli.render_matches import render_explanation, render_screening
from trialmatch.criteria.compiler import compile_criteria
from trialmatch.criteria.questions import Perspective, worded_for
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import build_plan
from trialmatch.patients.errors import PatientReadError
from trialmatch.patients.facts import PatientFacts
from trialmatch.patients.load import read_patient
from trialmatch.patients.profile import dump_profile
from trialmatch.places import UnknownPlace, parse_place
from trialmatch.screening import Screening, ScreeningQuery, screen
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import Eligibility, Provenance, Trial

PatientArgument = Annotated[Path, typer.Argument(
    help="The patient: a FHIR R4 Bundle (.json), a profile (.json/.yaml) or a clinical note (.txt).",
    exists=False)]
AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="Judge ages and washout windows on this date (YYYY-MM-DD). Default: today.")]


def _as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--as-of {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-06-01") from None


def _read(path: Path, as_of: dt.date) -> PatientFacts:
    try:
        facts = read_patient(path, as_of)
    except PatientReadError as error:
        raise _fail(str(error)) from None
    for warning in facts.warnings:
        errors.print(f"[yellow]Note:[/yellow] {warning}")
    return facts


@app.command("match")
def match_command(
    patient: PatientArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Trial status to include (repeatable): open (default), closed, recruiting, any …")] = None,
    as_of: AsOfOption = None,
    near: Annotated[str | None, typer.Option("--near", help="A city (\"Leeds\", \"Lyon, France\") or "
                                             "\"lat,lon\": show each trial's nearest site.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many trials to show.")] = 20,
    show_all: Annotated[bool, typer.Option("--all", help="Also list trials the patient is not eligible for.")] = False,
    ask: Annotated[bool, typer.Option("--ask", help="Ask the most useful questions one at a time (Yes / No / "
                                      "Not sure), re-ranking after each answer.")] = False,
    save_answers: Annotated[Path | None, typer.Option(
        "--save-answers", help="With --ask: write the profile with its answers to this file (JSON).")] = None,
    carer: Annotated[bool, typer.Option("--carer", help="With --ask: word the questions for someone answering for "
                                        "the patient (\"Has the patient had …\").")] = False,
) -> None:
    """Which trials can this patient join? Ranked verdicts: eligible, possibly eligible (with open questions)."""
    day = _as_of(as_of)
    facts = _read(patient, day)
    statuses = [] if status and any(s.lower() == "any" for s in status) else (status or ["OPEN"])
    # The patient's own location (a profile's or FHIR address) is used when --near isn't given.
    where = near
    if where is None and facts.location is not None:
        located = facts.location
        where = f"{located.lat},{located.lon}" if located.lat is not None and located.lon is not None else located.text
    try:
        place = parse_place(where) if where else None
    except UnknownPlace as error:
        if near:
            raise _fail(str(error)) from None
        errors.print(f"[yellow]Note:[/yellow] the patient's location is not a place we know ({error}); "
                     "give --near to see the nearest sites")
        place = None
    query = ScreeningQuery(as_of=day, statuses=statuses, near=place, limit=limit, include_not_eligible=show_all)
    with _open_store(db) as store:
        result = screen(store, facts, query)
        if ask:
            facts, result = _ask(store, facts, query, result, "carer" if carer else "self")
    if as_json:
        print(json.dumps(screening_json(result, facts, day), indent=2, ensure_ascii=False))
    else:
        render_screening(console, result, day)
    if ask and save_answers is not None:
        save_answers.write_text(dump_profile(facts), "utf-8")
        errors.print(f"Saved the profile with {len(facts.answers)} answers to {save_answers}.")


def _ask(store: TrialStore, facts: PatientFacts, query: ScreeningQuery, result: Screening,
         perspective: Perspective = "self") -> tuple[PatientFacts, Screening]:
    asked: set[str] = {a.question_id for a in facts.answers}
    choices = {"y": "yes", "yes": "yes", "n": "no", "no": "no", "?": "not_sure", "not sure": "not_sure",
               "not_sure": "not_sure", "s": "not_sure", "q": "quit", "quit": "quit"}
    while True:
        remaining = [q for q in result.questions if q.question_id not in asked]
        if not remaining:
            errors.print("No more questions could change these results.")
            return facts, result
        question = remaining[0]
        counts = result.counts
        errors.print(f"\n[dim]{counts['eligible']} eligible, {counts['possibly_eligible']} possibly eligible. "
                     f"This answer could settle {question.could_settle} trial(s).[/dim]")
        worded = worded_for(question.question, perspective)
        reply = typer.prompt(f"{worded} [y]es / [n]o / [?] not sure / [q]uit").strip().lower()
        answer = choices.get(reply)
        if answer is None:
            errors.print("Please answer y, n, ? (not sure) or q (stop asking).")
            continue
        if answer == "quit":
            return facts, result
        asked.add(question.question_id)
        facts = facts.with_answer(question.question_id, answer, question.question)  # type: ignore[arg-type]
        result = screen(store, facts, query)


def screening_json(result: Screening, facts: PatientFacts, as_of: dt.date) -> dict[str, object]:
    return {
        "as_of": as_of.isoformat(),
        "considered": result.considered,
        "counts": result.counts,
        "warnings": facts.warnings,
        "matches": [m.model_dump(mode="json") | {"open_questions": len(m.open), "settled_share": m.settled_share}
                    for m in result.matches],
        "next_questions": [{"question_id": q.question_id, "question": q.question, "could_settle": q.could_settle,
                            "trials": sorted(q.trials)} for q in result.questions[:10]],
    }


@app.command("explain")
def explain_command(
    patient: Annotated[Path | None, typer.Argument(help="The patient file (FHIR Bundle, profile or note).")] = None,
    trial_id: Annotated[str | None, typer.Argument(help="The trial's id (NCT number or any other id).")] = None,
    note: Annotated[Path | None, typer.Option("--note", help="A clinical note to judge (instead of PATIENT).")] = None,
    criteria: Annotated[Path | None, typer.Option(
        "--criteria", help="Eligibility criteria text to judge against (instead of a stored TRIAL).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    as_of: AsOfOption = None,
) -> None:
    """Why a patient is or isn't eligible for one trial: each criterion's verdict, evidence and source text."""
    day = _as_of(as_of)
    source = note or patient
    if source is None:
        raise _fail("give a patient file, or --note NOTE.txt; see trialmatch explain --help")
    facts = _read(source, day)
    if criteria is not None:
        try:
            text = criteria.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise _fail(f"{criteria}: can't read it as UTF-8 text ({error})") from None
        trial = Trial(id=criteria.stem, brief_title=f"criteria from {criteria.name}",
                      eligibility=Eligibility(criteria_text=text),
                      provenance=Provenance(source="file", location=str(criteria)))
        plan = build_plan(trial, compile_criteria(text))
    else:
        if trial_id is None:
            raise _fail("give the trial's id after the patient, or --criteria CRITERIA.txt")
        with _open_store(db) as store:
            trial = store.get(trial_id)
            if trial is None:
                raise _fail(f"no trial with id {trial_id!r} in the store; find it with: trialmatch search {trial_id}")
            plan = build_plan(trial, store.compiled(trial.id))
    match = match_trial(PatientView(facts, day), plan)
    if as_json:
        print(json.dumps(match.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        render_explanation(console, match, day)
