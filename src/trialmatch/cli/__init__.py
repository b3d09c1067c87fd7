"""The ``trialmatch`` command: import, search and show trials.

Every command mirrors a library function (``importing.import_paths``, ``store.search.search``,
``TrialStore.get``) and takes ``--json`` for machine-readable output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from trialmatch.cli.render import render_criteria, render_import_report, render_search, render_trial
from trialmatch.criteria.compiler import COMPILER_VERSION
from trialmatch.importing import ImportReport, import_items, import_paths, load_demo
from trialmatch.places import KM_PER_MILE, UnknownPlace, parse_place
from trialmatch.store.search import SearchError, SearchQuery, SearchResults, search
from trialmatch.store.sqlite import DB_PATH_ENV, SaveResult, TrialStore, default_db_path
from trialmatch.trials.sources import Skipped, list_input_files

app = typer.Typer(
    name="trialmatch",
    help="Find clinical trials a patient can join: import trials from any source, search and read them.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar=DB_PATH_ENV,
        help="The trial store (SQLite file). Default: $TRIALMATCH_DB or ~/.local/share/trialmatch/trialmatch.db.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]


class Sort(StrEnum):
    relevance = "relevance"
    distance = "distance"
    updated = "updated"


class DistanceUnit(StrEnum):
    km = "km"
    mi = "mi"


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]Error:[/red] {message}")
    return typer.Exit(code)


def _open_store(db: Path | None, *, load_demo_if_empty: bool = True) -> TrialStore:
    path = db or default_db_path()
    try:
        store = TrialStore(path)
    except Exception as error:  # sqlite3.DatabaseError and OSError carry the useful text
        raise _fail(
            f"cannot open the trial store at {path}: {error}. Check the path or pass another with --db."
        ) from None
    if load_demo_if_empty and store.count() == 0:
        errors.print(f"[dim]The store at {path} is empty: loading the bundled demo corpus…[/dim]")
        report = _with_progress(lambda on_result: load_demo(store, on_result=on_result), "Loading demo corpus")
        errors.print(f"[dim]Loaded {report.counts.get('imported', 0)} demo trials.[/dim]")
    return store


OnResult = Callable[[SaveResult | Skipped], None]


def _with_progress(run: Callable[[OnResult], ImportReport], description: str) -> ImportReport:
    """Run an import with a progress line on stderr (when it is a terminal)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[outcome]}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=None, outcome="")

        def advance(result: SaveResult | Skipped) -> None:
            outcome = "skipped" if isinstance(result, Skipped) else result.outcome.value
            progress.update(task, advance=1, outcome=f"{outcome} {getattr(result, 'trial_id', '')}")

        return run(advance)


@app.command("import")
def import_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files, folders or zips: CT.gov JSON/XML, CSV/JSONL site "
            "lists, HTML or text trial pages. Formats are detected."
        ),
    ],
    db: DbOption = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML column mapping for CSV/JSONL site lists.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Import trial records into the store. Re-importing is safe: unchanged records are left alone."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(f"no such file or folder: {', '.join(missing)}")
    site_list_mapping = None
    if mapping is not None:
        from trialmatch.trials.site_list import load_mapping

        try:
            site_list_mapping = load_mapping(mapping)
        except (OSError, ValueError) as error:
            raise _fail(f"cannot read the column mapping {mapping}: {error}") from None
    with _open_store(db, load_demo_if_empty=False) as store:
        files = list_input_files(paths)
        report = _with_progress(
            lambda on_result: import_paths(store, paths, site_list_mapping=site_list_mapping, on_result=on_result),
            f"Importing {len(files)} file(s)",
        )
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        render_import_report(console, report)
    if report.total and report.counts.get("skipped", 0) == report.total:
        raise typer.Exit(1)


@app.command("load-demo")
def load_demo_command(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Load the bundled demo corpus (seed pages, CT.gov records, a leukaemia/lymphoma site list)."""
    with _open_store(db, load_demo_if_empty=False) as store:
        report = _with_progress(lambda on_result: load_demo(store, on_result=on_result), "Loading demo corpus")
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        render_import_report(console, report)


@app.command("search")
def search_command(
    query: Annotated[
        str,
        typer.Argument(
            help='Words to look for, e.g. "blinatumomab ALL". Synonyms and British/American spellings are understood.'
        ),
    ] = "",
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help='"open" (recruiting, not yet recruiting, by invitation), "closed", or a CT.gov status. Repeatable.',
        ),
    ] = None,
    phase: Annotated[
        list[str] | None, typer.Option("--phase", help="1, 2, 3, 4, early_phase1 or na. Repeatable.")
    ] = None,
    study_type: Annotated[
        list[str] | None, typer.Option("--type", help="interventional, observational or expanded_access.")
    ] = None,
    age: Annotated[float | None, typer.Option(help="The patient's age in years, checked against age limits.")] = None,
    sex: Annotated[str | None, typer.Option(help="The patient's sex: female or male.")] = None,
    country: Annotated[
        str | None, typer.Option(help='Only trials with a site in this country ("UK", "France").')
    ] = None,
    near: Annotated[str | None, typer.Option(help='A place: "Leeds", "Leeds, UK" or "53.80,-1.55".')] = None,
    within: Annotated[float | None, typer.Option(help="Radius around --near.")] = None,
    unit: Annotated[DistanceUnit, typer.Option(help="Unit of --within.")] = DistanceUnit.km,
    sort: Annotated[Sort, typer.Option(help="Order of results.")] = Sort.relevance,
    limit: Annotated[int, typer.Option(min=1, max=200, help="Results per page.")] = 20,
    page: Annotated[int, typer.Option(min=1, help="Page of results.")] = 1,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search trials by words and filters. Exits 1 when nothing matches."""
    if not query.strip() and not any([status, phase, study_type, age is not None, sex, country, near]):
        raise _fail(
            'give words to search for or a filter, e.g. trialmatch search "acute lymphoblastic leukaemia" '
            "--status open",
            code=2,
        )
    try:
        place = parse_place(near) if near else None
    except UnknownPlace as error:
        raise _fail(str(error), code=2) from None
    if within is not None and place is None:
        raise _fail("--within needs --near: say where to measure from", code=2)
    radius_km = within * KM_PER_MILE if within is not None and unit is DistanceUnit.mi else within
    request = SearchQuery(
        text=query,
        statuses=status or [],
        phases=phase or [],
        study_types=study_type or [],
        age_years=age,
        sex=sex,
        country=country,
        near=place,
        radius_km=radius_km,
        sort=sort.value,
        limit=limit,
        offset=(page - 1) * limit,
    )
    with _open_store(db) as store:
        try:
            results = search(store, request)
        except SearchError as error:
            raise _fail(str(error), code=2) from None
    if as_json:
        print(json.dumps(_results_json(results, page, limit), indent=2, ensure_ascii=False))
    elif results.hits:
        render_search(console, results, page, limit)
    if not results.hits:
        errors.print("No trials match. Try fewer words, drop a filter, or widen --within.")
        raise typer.Exit(1)


def _results_json(results: SearchResults, page: int, limit: int) -> dict[str, object]:
    return {
        "total": results.total,
        "total_is_exact": results.total_is_exact,
        "page": page,
        "limit": limit,
        "results": [
            {
                "id": hit.trial.id,
                "title": hit.trial.title,
                "overall_status": hit.trial.overall_status,
                "phases": hit.trial.phases,
                "minimum_age": str(hit.trial.eligibility.minimum_age) if hit.trial.eligibility.minimum_age else None,
                "maximum_age": str(hit.trial.eligibility.maximum_age) if hit.trial.eligibility.maximum_age else None,
                "sex": hit.trial.eligibility.sex,
                "score": hit.score,
                "nearest_site": hit.nearest_site.__dict__ if hit.nearest_site else None,
            }
            for hit in results.hits
        ],
    }


@app.command("show")
def show_command(
    trial_id: Annotated[str, typer.Argument(help="An NCT number or any other id of the trial.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show everything the store holds about one trial."""
    with _open_store(db) as store:
        trial = store.get(trial_id)
    if trial is None:
        raise _fail(
            f"no trial with id {trial_id!r} in the store. Search for it with: trialmatch search "
            f'"{trial_id}", or import it with: trialmatch fetch {trial_id}'
        )
    if as_json:
        print(trial.model_dump_json(indent=2, exclude_none=True))
    else:
        render_trial(console, trial)


@app.command("criteria")
def criteria_command(
    trial_id: Annotated[str, typer.Argument(help="An NCT number or any other id of the trial.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a trial's compiled eligibility criteria: each item's rule or question beside its source text."""
    with _open_store(db) as store:
        trial = store.get(trial_id)
        if trial is None:
            raise _fail(f"no trial with id {trial_id!r} in the store. Search for it with: trialmatch search "
                        f'"{trial_id}"')
        compiled = store.compiled(trial.id)
        if compiled is None:
            next(store.recompile_one(trial.id), None)
            compiled = store.compiled(trial.id)
    if compiled is None:
        raise _fail(f"the criteria of {trial.id} could not be compiled; please report this trial id.")
    if as_json:
        print(json.dumps({"trial_id": trial.id, "criteria_text": trial.eligibility.criteria_text,
                          **compiled.model_dump(mode="json", exclude_none=True)}, indent=2, ensure_ascii=False))
    else:
        render_criteria(console, trial, compiled)


@app.command("compile")
def compile_command(
    db: DbOption = None,
    everything: Annotated[bool, typer.Option("--all", help="Recompile every trial, not only stale ones.")] = False,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes that compile (default: one per CPU when there are many trials).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Compile the criteria of trials compiled by an older compiler (or never), or of --all trials."""
    with _open_store(db, load_demo_if_empty=False) as store:
        total = store.count() if everything else store.stale_compiled()
        done = 0
        with Progress(SpinnerColumn(), TextColumn("Compiling criteria"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=errors, disable=as_json or total == 0) as progress:
            task = progress.add_task("compile", total=total)
            for _ in store.recompile(everything=everything, workers=workers):
                done += 1
                progress.advance(task)
        failed = store.stale_compiled()
    if as_json:
        print(json.dumps({"compiled": done, "failed": failed, "compiler_version": COMPILER_VERSION}))
    else:
        console.print(f"Compiled the criteria of {done:,} trials with compiler v{COMPILER_VERSION}."
                      + (f" {failed:,} could not be compiled." if failed else ""))


@app.command("changes")
def changes_command(
    trial_id: Annotated[str | None, typer.Argument(help="Only this trial's changes.")] = None,
    since: Annotated[str | None, typer.Option(help="Only changes recorded on or after this date (YYYY-MM-DD).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What changed in trials when newer versions were imported (status, criteria, sites, dates)."""
    with _open_store(db, load_demo_if_empty=False) as store:
        found = store.changes(trial_id, since)
    if as_json:
        print(json.dumps([change.__dict__ for change in found], indent=2, ensure_ascii=False, default=str))
        return
    if not found:
        errors.print("No recorded changes.")
        return
    for change in found:
        console.print(
            f"{change.changed_at}  [bold]{change.trial_id}[/bold]  {change.field}: "
            f"{_short(change.old_value)} → {_short(change.new_value)}",
            markup=True,
            highlight=False,
        )


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "…"


@app.command("fetch")
def fetch_command(
    nct_ids: Annotated[list[str], typer.Argument(help="NCT numbers to fetch from ClinicalTrials.gov.")],
    base_url: Annotated[str | None, typer.Option(help="API base URL (for mirrors and tests).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch trials by NCT number from the ClinicalTrials.gov API v2 into the store."""
    from trialmatch.trials.ctgov_api import DEFAULT_BASE_URL, ClinicalTrialsGovClient, CtgovApiError

    items: list = []
    with ClinicalTrialsGovClient(base_url or DEFAULT_BASE_URL) as client:
        for nct_id in nct_ids:
            try:
                items.append(client.fetch_study(nct_id))
            except (CtgovApiError, ValueError) as error:
                items.append(Skipped(nct_id, str(error)))
    with _open_store(db, load_demo_if_empty=False) as store:
        report = import_items(store, items)
    _print_report(report, as_json)


@app.command("sync")
def sync_command(
    query: Annotated[str | None, typer.Option(help="CT.gov search terms (query.term).")] = None,
    condition: Annotated[str | None, typer.Option(help="CT.gov condition search (query.cond).")] = None,
    status: Annotated[list[str] | None, typer.Option("--status", help="CT.gov statuses to fetch.")] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only trials updated on or after YYYY-MM-DD. Default: the newest update already in the store."
        ),
    ] = None,
    max_studies: Annotated[int | None, typer.Option(help="Stop after this many studies.")] = None,
    base_url: Annotated[str | None, typer.Option(help="API base URL (for mirrors and tests).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bring the store up to date from ClinicalTrials.gov: only trials updated since the last sync."""
    from trialmatch.trials.ctgov_api import DEFAULT_BASE_URL, ClinicalTrialsGovClient, CtgovApiError

    if not (query or condition):
        raise _fail('say what to sync, e.g. --condition "acute lymphoblastic leukemia"', code=2)
    with _open_store(db, load_demo_if_empty=False) as store:
        newest = since or store.newest_update("ctgov-api")
        try:
            updated_since = date.fromisoformat(newest[:10]) if newest and len(newest) >= 10 else None
        except ValueError:
            raise _fail(f"--since must be a date as YYYY-MM-DD, not {since!r}", code=2) from None
        with ClinicalTrialsGovClient(base_url or DEFAULT_BASE_URL) as client:
            try:
                report = _with_progress(
                    lambda on_result: import_items(
                        store,
                        client.sync(
                            updated_since, query=query, condition=condition, statuses=status, max_studies=max_studies
                        ),
                        on_result=on_result,
                    ),
                    "Syncing from ClinicalTrials.gov",
                )
            except CtgovApiError as error:
                raise _fail(f"{error}. Records saved before the failure are kept; run sync again to resume.") from None
            except ValueError as error:
                raise _fail(str(error), code=2) from None
    _print_report(report, as_json)


def _print_report(report: ImportReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        render_import_report(console, report)


@app.command("demo")
def demo_command(db: DbOption = None) -> None:
    """The main job on the bundled demo data: load it, search for open ALL trials, show one and its rules."""
    with _open_store(db) as store:
        console.rule('[bold]trialmatch search "B-ALL blinatumomab"')
        results = search(store, SearchQuery(text="B-ALL blinatumomab", limit=10))
        render_search(console, results, 1, 10)
        if results.hits:
            console.rule(f"[bold]trialmatch show {results.hits[0].trial.id}")
            render_trial(console, results.hits[0].trial)
        seed = store.get("NCT06054113")
        compiled = store.compiled("NCT06054113")
        if seed is not None and compiled is not None:
            console.rule("[bold]trialmatch criteria NCT06054113")
            render_criteria(console, seed, compiled)
        console.rule("[bold]trialmatch search leukaemia --age 8 --status closed --near Shanghai --within 2000")
        nearby = search(
            store,
            SearchQuery(
                text="leukaemia",
                age_years=8,
                statuses=["closed"],
                near=parse_place("Shanghai"),
                radius_km=2000,
                sort="distance",
                limit=5,
            ),
        )
        render_search(console, nearby, 1, 5)
        _demo_match(store)
    console.print(f"\nStore: {store.path}. Try [bold]trialmatch search --help[/bold] or "
                  "[bold]trialmatch match --help[/bold].")


def _demo_match(store: TrialStore) -> None:
    """The demo's example patient (bundled, made up) against the store, as of a fixed date."""
    from importlib import resources

    from trialmatch.cli.render_matches import render_explanation, render_screening
    from trialmatch.matching.match_trial import match_trial
    from trialmatch.matching.patient_view import PatientView
    from trialmatch.matching.trial_plan import build_plan
    from trialmatch.patients.profile import read_profile_text
    from trialmatch.screening import ScreeningQuery, screen

    profile = resources.files("trialmatch.data").joinpath("patients/demo-child-relapsed-b-all.yaml")
    facts = read_profile_text(profile.read_text("utf-8"), "demo patient")
    as_of = date(2026, 6, 1)
    console.rule("[bold]trialmatch match demo-child-relapsed-b-all.yaml --status any --as-of 2026-06-01")
    render_screening(console, screen(store, facts, ScreeningQuery(as_of=as_of, statuses=[], limit=5)), as_of)
    seed = store.get("NCT06054113")
    if seed is not None:
        console.rule("[bold]trialmatch explain demo-child-relapsed-b-all.yaml NCT06054113")
        plan = build_plan(seed, store.compiled(seed.id))
        render_explanation(console, match_trial(PatientView(facts, as_of), plan), as_of)


# Commands defined in their own modules register themselves on ``app``.
from trialmatch.cli import matching as _matching  # noqa: E402
from trialmatch.cli import serve as _serve  # noqa: E402

del _matching, _serve


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
