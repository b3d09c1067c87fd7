"""Bare values: a status, phase, sex, age, date, id or organisation on a line of its own, without a label."""

from __future__ import annotations

import re
from typing import Any

from trialmatch.trials.normalize import match_status, parse_age, parse_date, parse_phases, parse_sex, parse_study_type
from trialmatch.trials.web_page.fields import age_bounds, parse_count, registry_ids
from trialmatch.trials.web_page.lines import PROSE_END
from trialmatch.trials.web_page.rules import load_rules

_DATE_LINE = re.compile(
    r"^(?:\d{4}-\d{2}(?:-\d{2})?|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4})$"
)
_BARE_AGE = re.compile(r"^\d{1,3}\s+[A-Za-z]{1,7}$")
_PHASE_LINE = re.compile(r"^(?:early[\s_]*)?phase", re.IGNORECASE)


def bare(text: str) -> tuple[str, Any] | None:
    """Values that mirrors and AI listings print without a label: "Non Recruiting", "PHASE2", "ALL"."""
    status = match_status(text)
    if status and status[1].casefold() == text.casefold():
        return "status", status
    if _PHASE_LINE.match(text) and (phases := parse_phases(text)):
        return "phase", phases
    if study_type := parse_study_type(text):
        return "study_type", study_type
    if (match := re.search(load_rules().patterns["enrollment_sentences"][-1], text, re.IGNORECASE)) and (
        count := parse_count(match.group(1))
    ):
        return "enrollment", count
    if len(text) >= 3 and (sex := parse_sex(text)):
        return "sex", sex
    if text.lower() in {"yes", "no"}:
        return "yes_no", text.lower() == "yes"
    if _BARE_AGE.match(text) and (limit := parse_age(text)):
        return "bare_age", limit
    if text.upper() in {"N/A", "NA"}:
        return "bare_age", None
    if _DATE_LINE.match(text) and (iso := parse_date(text)):
        return "date", iso
    return None


def standalone(text: str) -> tuple[str, Any] | None:
    """A short line that is only a value: a bare value, an age phrase, an id or an organisation."""
    words = text.split()
    if len(words) > 8 or PROSE_END.search(text):
        return None
    if found := bare(text):
        return found
    if len(words) <= 6 and (ages := age_bounds(text)):
        return "age", ages
    if len(words) <= 4 and (ids := registry_ids(text)):
        return "id", ids
    if not re.search(r"\d", text) and re.search(load_rules().patterns["organisation_words"], text, re.IGNORECASE):
        return "organisation", text
    return None
