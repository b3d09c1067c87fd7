"""Screening results as files a clinician keeps: JSON with everything, CSV with one row per trial × criterion.

The CSV is for spreadsheets, so every cell that a spreadsheet would read as a formula (one starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe: trial text is written by
strangers, and "=HYPERLINK(…)" in a criterion must stay text. The JSON is data, and is written unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence

from trialmatch.matching.next_question import RankedQuestion
from trialmatch.matching.verdicts import CriterionResult, TrialMatch

#: The CSV's columns, in order: the trial's verdict first, then the criterion's.
CSV_COLUMNS = (
    "rank", "trial_id", "title", "trial_verdict", "nearest_site", "distance_km",
    "criterion_id", "section", "category", "criterion_verdict", "decides",
    "evidence", "evidence_source", "source_text", "rule", "note", "question",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str) -> str:
    """The cell as text a spreadsheet won't run: a leading apostrophe before a formula-like start."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def criterion_rows(matches: Sequence[TrialMatch]) -> Iterator[dict[str, str]]:
    """One row per trial and criterion, in rank order; a trial without criteria still gets one row."""
    for rank, match in enumerate(matches, 1):
        trial = {
            "rank": str(rank),
            "trial_id": match.trial_id,
            "title": match.title or "",
            "trial_verdict": match.verdict.value,
            "nearest_site": match.nearest_site or "",
            "distance_km": "" if match.distance_km is None else f"{match.distance_km:.1f}",
        }
        if not match.criteria:
            yield trial | dict.fromkeys(CSV_COLUMNS[6:], "")
            continue
        for criterion in match.criteria:
            yield trial | _criterion_cells(criterion)


def _criterion_cells(criterion: CriterionResult) -> dict[str, str]:
    return {
        "criterion_id": criterion.id,
        "section": criterion.section,
        "category": criterion.category,
        "criterion_verdict": criterion.verdict.value,
        "decides": "yes" if criterion.decides else "",
        "evidence": " | ".join(e.statement for e in criterion.evidence),
        "evidence_source": " | ".join(e.source for e in criterion.evidence),
        "source_text": criterion.text,
        "rule": criterion.rule,
        "note": criterion.note or "",
        "question": criterion.question or "",
    }


def matches_csv(matches: Sequence[TrialMatch]) -> str:
    """The CSV text (with a byte-order mark, so spreadsheet programs read it as UTF-8)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in criterion_rows(matches):
        writer.writerow({key: defuse(value) for key, value in row.items()})
    return buffer.getvalue()


def matches_json(matches: Sequence[TrialMatch], *, as_of: dt.date, considered: int | None = None,
                 counts: dict[str, int] | None = None, questions: Iterable[RankedQuestion] = (),
                 warnings: Iterable[str] = (), options: dict[str, object] | None = None) -> dict[str, object]:
    """Everything the page shows, as JSON-ready data: each trial with every criterion's verdict and evidence.

    The patient's record itself is left out; only what the reader could not use (``warnings``) is kept.
    """
    return {
        "as_of": as_of.isoformat(),
        "options": options or {},
        "considered": considered,
        "counts": counts or {},
        "warnings": list(warnings),
        "matches": [match.model_dump(mode="json") | {"rank": rank, "open_questions": len(match.open),
                                                     "settled_share": round(match.settled_share, 4)}
                    for rank, match in enumerate(matches, 1)],
        "next_questions": [{"question_id": q.question_id, "question": q.question, "could_settle": q.could_settle,
                            "trials": q.trial_ids} for q in questions],
    }
