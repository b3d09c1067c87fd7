"""How trials, search results and import reports look in a terminal (rich)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from trialmatch.criteria.compiler import CompiledCriteria, CompiledCriterion
from trialmatch.criteria.describe import describe
from trialmatch.criteria.rules import is_computable, leaves
from trialmatch.importing import ImportReport
from trialmatch.store.search import SearchResults
from trialmatch.trials.record import OPEN_STATUSES, Trial

_STATUS_STYLE = {True: "bold green", False: "yellow"}


def status_label(trial: Trial) -> Text:
    if trial.overall_status is None:
        return Text(trial.status_text or "status not stated", style="dim")
    label = trial.overall_status.value.replace("_", " ").lower()
    return Text(label, style=_STATUS_STYLE[trial.overall_status in OPEN_STATUSES])


def age_range(trial: Trial) -> str:
    low, high = trial.eligibility.minimum_age, trial.eligibility.maximum_age
    at = " at diagnosis" if trial.eligibility.age_reference == "diagnosis" else ""
    if low and high:
        return f"{low} to {high}{at}"
    if low:
        return f"{low} and over{at}"
    if high:
        return f"up to {high}{at}"
    return "any age"


def phases_label(trial: Trial) -> str:
    if trial.phases == ["NA"]:
        return "no phase (not a drug trial)"
    return "/".join(p.value.replace("PHASE", "Phase ").replace("EARLY_", "Early ") for p in trial.phases) or "phase —"


def render_search(console: Console, results: SearchResults, page: int, limit: int) -> None:
    """One short block per trial: readable at any terminal width."""
    first = (page - 1) * limit + 1
    last = first + len(results.hits) - 1
    total = f"{results.total:,}" + ("" if results.total_is_exact else "+")
    console.print(Text(f"Trials {first}–{last} of {total}", style="bold"))
    for number, hit in enumerate(results.hits, start=first):
        trial = hit.trial
        line = Text(f"\n{number}. ", style="bold")
        line.append(trial.id, style="bold cyan")
        line.append("  ")
        line.append_text(status_label(trial))
        line.append(f"  ·  {phases_label(trial)}  ·  {age_range(trial)}")
        console.print(line, highlight=False)
        console.print(Text("   " + trial.title), highlight=False)
        if hit.nearest_site:
            site = hit.nearest_site
            where = ", ".join(p for p in (site.facility, site.city, site.country) if p)
            distance = f" ({site.distance_km:,.0f} km)" if site.distance_km is not None else ""
            console.print(Text(f"   Site: {where}{distance}", style="dim"), highlight=False)
    if results.total > last:
        console.print(f"\n[dim]More results: add --page {page + 1}[/dim]")


def render_trial(console: Console, trial: Trial) -> None:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    status = status_label(trial)
    if trial.status_text and trial.overall_status:
        status.append(f'  (source: "{trial.status_text}")', style="dim")
    rows: list[tuple[str, Text | str]] = [
        ("Status", status),
        ("Phase", phases_label(trial)),
        ("Study type", (trial.study_type.value.lower() if trial.study_type else "—")),
        ("Enrollment", f"{trial.enrollment:,}" if trial.enrollment is not None else "—"),
        ("Ages", age_range(trial)),
        ("Sex", (trial.eligibility.sex or "not stated").lower()),
        ("Healthy volunteers", {True: "yes", False: "no", None: "not stated"}[trial.eligibility.healthy_volunteers]),
        ("Conditions", "; ".join(trial.conditions) or "—"),
        ("Interventions", "; ".join(i.name for i in trial.interventions) or "—"),
        ("Keywords", "; ".join(trial.keywords) or "—"),
        ("Ids", ", ".join(f"{r.id} ({r.type.lower()})" for r in trial.ids) or trial.id),
        ("Sponsor", trial.lead_sponsor.name if trial.lead_sponsor else "—"),
        ("Collaborators", "; ".join(c.name for c in trial.collaborators) or "—"),
        (
            "Officials",
            "; ".join(
                ", ".join(p for p in (o.name, o.role and o.role.replace("_", " ").lower(), o.affiliation) if p)
                for o in trial.officials
            )
            or "—",
        ),
        ("Dates", _dates(trial)),
        ("Source", f"{trial.provenance.source}: {trial.provenance.location}"),
        (
            "Imported",
            trial.provenance.imported_at
            + (
                f" (source updated {trial.provenance.source_last_update})"
                if trial.provenance.source_last_update
                else ""
            ),
        ),
    ]
    for label, value in rows:
        facts.add_row(label, value if isinstance(value, Text) else escape(value))
    parts: list[object] = [facts]
    if trial.brief_summary:
        parts += [Text("\nSummary", style="bold"), Text(trial.brief_summary)]
    if trial.arms:
        parts.append(Text("\nArms", style="bold"))
        for arm in trial.arms:
            kind = f" ({arm.type.replace('_', ' ').lower()})" if arm.type else ""
            treatments = f" — {'; '.join(arm.intervention_names)}" if arm.intervention_names else ""
            parts.append(Text(f"• {arm.label}{kind}{treatments}"))
            if arm.description:
                parts.append(Text(f"  {arm.description}", style="dim"))
    if trial.eligibility.criteria_text:
        parts += [Text("\nEligibility criteria", style="bold"), Text(trial.eligibility.criteria_text)]
    if trial.sites:
        parts.append(Text(f"\nSites ({len(trial.sites)})", style="bold"))
        sites = Table(show_header=True, expand=True)
        for column in ("Facility", "City", "Country", "Status", "Contact"):
            sites.add_column(column)
        for site in trial.sites[:50]:
            contact = next((c for c in site.contacts if c.phone or c.email), None)
            sites.add_row(
                escape(site.facility or ""),
                escape(", ".join(p for p in (site.city, site.state) if p)),
                escape(site.country or ""),
                escape((site.status or "").replace("_", " ").lower()),
                escape(" ".join(p for p in (contact.name, contact.phone, contact.email) if p) if contact else ""),
            )
        parts.append(sites)
        if len(trial.sites) > 50:
            parts.append(Text(f"… and {len(trial.sites) - 50} more sites (use --json for all)", style="dim"))
    console.print(Panel(Group(*parts), title=escape(f"{trial.id} — {trial.title}"), title_align="left"))


def _dates(trial: Trial) -> str:
    named = [
        ("start", trial.start_date),
        ("primary completion", trial.primary_completion_date),
        ("completion", trial.completion_date),
        ("first posted", trial.first_posted),
        ("last update", trial.last_update_posted),
    ]
    return "; ".join(f"{name} {value}" for name, value in named if value) or "—"


def render_import_report(console: Console, report: ImportReport) -> None:
    counts = report.counts
    console.print(
        f"[bold]{counts.get('imported', 0)}[/bold] imported, [bold]{counts.get('updated', 0)}[/bold] updated, "
        f"[bold]{counts.get('unchanged', 0)}[/bold] unchanged, [bold]{counts.get('skipped', 0)}[/bold] skipped"
    )
    for trial_id, fields in list(report.updated.items())[:20]:
        console.print(f"  updated {escape(trial_id)}: {', '.join(fields) or 'details'}")
    for note in report.skipped[:50]:
        console.print(f"  [yellow]skipped[/yellow] {escape(note.location)}: {escape(note.reason)}")
    if len(report.skipped) > 50:
        console.print(f"  … and {len(report.skipped) - 50} more skipped (use --json for the full list)")


_VERDICT_STYLE = {"inclusion": "green", "exclusion": "red"}


def render_criteria(console: Console, trial: Trial, compiled: CompiledCriteria) -> None:
    """Every compiled criterion: its rule (or the question it became) beside its source text."""
    table = Table(show_header=True, expand=True, show_lines=True)
    table.add_column("Item", no_wrap=True)
    table.add_column("Category")
    table.add_column("Rule or question", ratio=2)
    table.add_column("Source text", ratio=3)
    for criterion in compiled.criteria:
        _criterion_rows(table, criterion, 0)
    computable = sum(c.computable for c in compiled.criteria)
    title = escape(f"{trial.id} — compiled criteria ({computable} of {len(compiled.criteria)} computable, "
                   f"compiler v{compiled.compiler_version})")
    parts: list[object] = [table]
    for note in compiled.notes:
        parts.append(Text(f"Note ({note.kind}): {note.text}", style="dim"))
    console.print(Panel(Group(*parts), title=title, title_align="left"))


def _criterion_rows(table: Table, criterion: CompiledCriterion, depth: int) -> None:
    label = Text("  " * depth + criterion.id, style=_VERDICT_STYLE[criterion.section])
    if criterion.computable:
        rule = Text(describe(criterion.rule))
        rule.append(f"\nconfidence {criterion.confidence:.2f}", style="dim")
    else:
        rule = Text("question: ", style="yellow")
        rule.append(criterion.question)
        if not is_computable(criterion.rule) and any(leaf.kind != "question" for leaf in leaves(criterion.rule)):
            rule.append(f"\npartly read: {describe(criterion.rule)}", style="dim")
    source = Text(criterion.text)
    for note in criterion.notes:
        source.append(f"\n{note.kind}: {note.text}", style="dim")
    table.add_row(label, escape(criterion.category.replace("_", " ")), rule, source)
    for child in criterion.children:
        _criterion_rows(table, child, depth + 1)
