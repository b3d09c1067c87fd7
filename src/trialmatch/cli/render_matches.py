"""How match results and per-criterion explanations look in a terminal (rich).

Patients and carers read the verdict and the questions; clinicians read the criterion table with the
compiled rule, the evidence and its source. All trial text is escaped: records can hold markup.
"""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trialmatch.matching.verdicts import CriterionResult, CriterionVerdict, TrialMatch, TrialVerdict
from trialmatch.screening import Screening

_VERDICT_STYLE = {
    TrialVerdict.ELIGIBLE: ("bold green", "eligible"),
    TrialVerdict.POSSIBLY_ELIGIBLE: ("yellow", "possibly eligible"),
    TrialVerdict.NOT_ELIGIBLE: ("red", "not eligible"),
}
_CRITERION_STYLE = {
    CriterionVerdict.MET: "green",
    CriterionVerdict.NOT_MET: "red",
    CriterionVerdict.UNKNOWN: "yellow",
    CriterionVerdict.NOT_APPLICABLE: "dim",
}


def verdict_label(verdict: TrialVerdict) -> str:
    style, label = _VERDICT_STYLE[verdict]
    return f"[{style}]{label}[/{style}]"


def render_screening(console: Console, result: Screening, as_of: dt.date) -> None:
    counts = result.counts
    console.print(f"Judged {result.considered} candidate trials as of {as_of.isoformat()}: "
                  f"[bold green]{counts['eligible']} eligible[/bold green], "
                  f"[yellow]{counts['possibly_eligible']} possibly eligible[/yellow], "
                  f"[red]{counts['not_eligible']} not eligible[/red].")
    if not result.matches:
        console.print("No trials to show. Try --status any, or --all to see why trials were ruled out.")
        return
    table = Table(show_lines=False, expand=True)
    table.add_column("#", justify="right", style="dim")
    table.add_column("Trial", no_wrap=True)
    table.add_column("Title", ratio=3)
    table.add_column("Verdict", ratio=2)
    table.add_column("Settled", justify="right")
    table.add_column("Nearest site", ratio=2)
    for number, match in enumerate(result.matches, 1):
        reason = ""
        if match.verdict == TrialVerdict.NOT_ELIGIBLE and match.deciding:
            reason = "\n[dim]" + escape(match.deciding[0].text[:90]) + "[/dim]"
        elif match.verdict == TrialVerdict.POSSIBLY_ELIGIBLE:
            reason = f"\n[dim]{len(match.open)} open question{'s' if len(match.open) != 1 else ''}[/dim]"
        site = escape(match.nearest_site or "")
        if match.distance_km is not None:
            site += f" ({match.distance_km:,.0f} km)"
        table.add_row(str(number), escape(match.trial_id), escape(match.title or ""),
                      verdict_label(match.verdict) + reason, f"{match.settled_share:.0%}", site)
    console.print(table)
    if result.next_question is not None:
        question = result.next_question
        console.print(f"\n[bold]Most useful next question[/bold] (could settle {question.could_settle} "
                      f"trial{'s' if question.could_settle != 1 else ''}): {escape(question.question)}")
        console.print("[dim]Answer questions one at a time with --ask.[/dim]")


def render_explanation(console: Console, match: TrialMatch, as_of: dt.date) -> None:
    console.print(f"[bold]{escape(match.trial_id)}[/bold] {escape(match.title or '')}")
    console.print(f"Verdict as of {as_of.isoformat()}: {verdict_label(match.verdict)}")
    table = Table(show_lines=True, expand=True)
    table.add_column("Criterion", no_wrap=True)
    table.add_column("Verdict")
    table.add_column("Trial's words", ratio=3)
    table.add_column("Rule", ratio=2)
    table.add_column("Evidence (source)", ratio=3)
    for result in match.criteria:
        table.add_row(f"{result.section[:3]} {escape(result.id)}", _criterion_verdict(result), escape(result.text),
                      escape(result.rule), _evidence(result))
    console.print(table)
    if match.open:
        console.print("\n[bold]Open questions[/bold]")
        seen: set[str] = set()
        for result in match.open:
            if result.question and result.question_id not in seen:
                seen.add(result.question_id or "")
                console.print(f" • {escape(result.question)}")


def _criterion_verdict(result: CriterionResult) -> str:
    style = _CRITERION_STYLE[result.verdict]
    text = f"[{style}]{result.verdict.value.replace('_', ' ')}[/{style}]"
    if result.decides:
        text += "\n[bold red]excludes[/bold red]" if result.section == "exclusion" else "\n[bold red]fails[/bold red]"
    return text


def _evidence(result: CriterionResult) -> str:
    lines = [f"{escape(e.statement)} [dim]({escape(e.source)})[/dim]" for e in result.evidence]
    if result.note:
        lines.append(f"[dim italic]{escape(result.note)}[/dim italic]")
    return "\n".join(lines)
