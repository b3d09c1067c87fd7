"""Normalisers shared by every importer: ages, statuses, phases, dates, study types.

Each takes the wording a source used and returns the ClinicalTrials.gov API v2 value,
or None when the wording can't be read with confidence.
"""

from __future__ import annotations

import re
import textwrap
from datetime import datetime
from functools import cache, lru_cache

from dateutil import parser as date_parser

from trialmatch.data import read_yaml
from trialmatch.trials.record import AgeLimit, OverallStatus, Phase, StudyType

_AGE_UNITS = {
    "year": "Years",
    "years": "Years",
    "yr": "Years",
    "yrs": "Years",
    "y": "Years",
    "month": "Months",
    "months": "Months",
    "mo": "Months",
    "mos": "Months",
    "week": "Weeks",
    "weeks": "Weeks",
    "wk": "Weeks",
    "wks": "Weeks",
    "day": "Days",
    "days": "Days",
    "d": "Days",
    "hour": "Hours",
    "hours": "Hours",
    "minute": "Minutes",
    "minutes": "Minutes",
}
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)?\s*$")


def parse_age(text: str | None, default_unit: str = "Years") -> AgeLimit | None:
    """Read "18 Years", "6 Months", "18" or "N/A" into an AgeLimit (None when no limit)."""
    if text is None:
        return None
    cleaned = text.strip()
    if not cleaned or cleaned.upper() in {"N/A", "NA", "NONE", "NO LIMIT"}:
        return None
    match = _AGE_RE.match(cleaned)
    if not match:
        return None
    unit_word = (match.group(2) or "").lower()
    unit = _AGE_UNITS.get(unit_word) if unit_word else default_unit
    if unit is None:
        return None
    return AgeLimit(value=float(match.group(1)), unit=unit, text=cleaned)


@cache
def _status_patterns() -> list[tuple[OverallStatus, re.Pattern[str]]]:
    table = read_yaml("statuses.yaml")
    return [
        (OverallStatus(entry["status"]), re.compile(pattern, re.IGNORECASE))
        for entry in table
        for pattern in entry["patterns"]
    ]


def parse_status(text: str | None) -> OverallStatus | None:
    """Map any status wording ("Active, not recruiting", "ACTIVE_NOT_RECRUITING",
    "this study is now closed for inclusion") to a CT.gov OverallStatus."""
    found = match_status(text)
    return found[0] if found else None


def match_status(text: str | None) -> tuple[OverallStatus, str] | None:
    """Like parse_status, but also return the words that carried the status
    ("no longer recruiting" in "this trial is no longer recruiting patients")."""
    if not text:
        return None
    cleaned = text.strip()
    upper = re.sub(r"[\s,-]+", "_", cleaned.upper())
    if upper in OverallStatus.__members__:
        return OverallStatus(upper), cleaned
    for status, pattern in _status_patterns():
        match = pattern.search(cleaned)
        if match:
            return status, match.group(0)
    return None


_PHASE_NUMBER = {
    "1": Phase.PHASE1,
    "2": Phase.PHASE2,
    "3": Phase.PHASE3,
    "4": Phase.PHASE4,
    "i": Phase.PHASE1,
    "ii": Phase.PHASE2,
    "iii": Phase.PHASE3,
    "iv": Phase.PHASE4,
}


def parse_phases(text: str | None) -> list[Phase]:
    """Read "Phase 1/Phase 2", "phase 1/2", "PHASE2", "Early Phase 1", "N/A" into CT.gov phases."""
    if not text:
        return []
    cleaned = text.strip()
    upper = cleaned.upper().replace(" ", "_")
    if upper in Phase.__members__:
        return [Phase(upper)]
    lowered = cleaned.lower()
    if lowered in {"n/a", "na", "not applicable"}:
        return [Phase.NA]
    if re.search(r"early\s+phase\s*(1|i)\b", lowered):
        return [Phase.EARLY_PHASE1]
    phases: list[Phase] = []
    for group in re.finditer(
        r"phase[\s_]*((?:(?:iv|iii|ii|i|[1-4])\b\s*(?:/|-|and|&|,)?\s*(?:phase[\s_]*)?)+)", lowered
    ):
        for number in re.findall(r"iv|iii|ii|i|[1-4]", group.group(1)):
            phase = _PHASE_NUMBER[number]
            if phase not in phases:
                phases.append(phase)
    return phases


def parse_study_type(text: str | None) -> StudyType | None:
    if not text:
        return None
    key = text.strip().upper().replace(" ", "_")
    if key.startswith("EXPANDED"):
        return StudyType.EXPANDED_ACCESS
    return StudyType.__members__.get(key)


_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_MONTH_YEAR = re.compile(r"^[A-Za-z]+\.?\s+\d{4}$")


_FAST_DATE_FORMATS = (("%B %d, %Y", 3), ("%B %Y", 2), ("%d %B %Y", 3), ("%b %d, %Y", 3), ("%Y-%m-%d", 3))


@lru_cache(maxsize=16384)
def parse_date(text: str | None) -> str | None:
    """Normalise a date to ISO, keeping its precision: "July 1, 2022" -> "2022-07-01",
    "May 2022" -> "2022-05", "2024-07-23" stays. Returns None when unreadable."""
    if not text:
        return None
    cleaned = text.strip().rstrip(".")
    if _ISO_DATE.match(cleaned):
        return cleaned
    for pattern, parts in _FAST_DATE_FORMATS:
        try:
            parsed = datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
        return parsed.date().isoformat() if parts == 3 else f"{parsed.year:04d}-{parsed.month:02d}"
    try:
        parsed = date_parser.parse(cleaned, default=datetime(1900, 1, 1), dayfirst=False, fuzzy=False)
    except (ValueError, OverflowError):
        return None
    if parsed.year == 1900:
        return None
    if _MONTH_YEAR.match(cleaned):
        return f"{parsed.year:04d}-{parsed.month:02d}"
    return parsed.date().isoformat()


def parse_bool(text: str | None) -> bool | None:
    if text is None:
        return None
    lowered = str(text).strip().lower()
    if lowered in {"yes", "true", "y", "1", "accepts healthy volunteers"}:
        return True
    if lowered in {"no", "false", "n", "0"}:
        return False
    return None


def parse_sex(text: str | None) -> str | None:
    if not text:
        return None
    lowered = text.strip().lower()
    if lowered in {"all", "both", "male and female", "female and male", "any", "everyone"}:
        return "ALL"
    if lowered in {"female", "females", "women", "f"}:
        return "FEMALE"
    if lowered in {"male", "males", "men", "m"}:
        return "MALE"
    return None


#: Age wordings that mean "no limit" (as parse_age reads them).
NO_AGE_LIMIT = frozenset({"N/A", "NA", "NONE", "NO LIMIT"})

_AGENCY_CLASSES = {
    "INDUSTRY": "INDUSTRY",
    "NIH": "NIH",
    "U_S_FED": "FED",
    "OTHER": "OTHER",
    "OTHER_GOV": "OTHER_GOV",
    "INDIV": "INDIV",
    "NETWORK": "NETWORK",
    "AMBIG": "AMBIG",
}

#: CT.gov RecruitmentStatus: the statuses a site can have.
SITE_STATUSES = frozenset(
    {
        OverallStatus.ACTIVE_NOT_RECRUITING,
        OverallStatus.COMPLETED,
        OverallStatus.ENROLLING_BY_INVITATION,
        OverallStatus.NOT_YET_RECRUITING,
        OverallStatus.RECRUITING,
        OverallStatus.SUSPENDED,
        OverallStatus.TERMINATED,
        OverallStatus.WITHDRAWN,
        OverallStatus.AVAILABLE,
    }
)
_YEARS = 365.25


def enum_name(text: str | None) -> str | None:
    """Legacy wording to a CT.gov enum name: "Dietary Supplement" -> DIETARY_SUPPLEMENT."""
    if not text or not text.strip():
        return None
    return re.sub(r"[^A-Z0-9]+", "_", text.strip().upper()).strip("_")


def clean_textblock(text: str | None) -> str | None:
    """Tidy a legacy textblock the way CT.gov shows it: drop the XML's common indentation,
    "\\r" and trailing spaces, keep line breaks and one blank line between paragraphs."""
    if text is None:
        return None
    first, _, rest = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\n").partition("\n")
    # When the first line has lost its indentation (some tool stripped the text), dedent the rest on its own.
    text = textwrap.dedent(f"{first}\n{rest}") if first[:1].isspace() else f"{first}\n{textwrap.dedent(rest)}"
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()
    return cleaned or None


def one_line(text: str | None) -> str | None:
    """Text wrapped over lines by the source, as one line."""
    joined = " ".join((text or "").split())
    return joined or None


def std_ages(minimum: AgeLimit | None, maximum: AgeLimit | None) -> list[str]:
    """CT.gov's age groups for an age range: CHILD under 18, ADULT 18–64, OLDER_ADULT 65 and over."""
    low = minimum.in_days() / _YEARS if minimum else 0.0
    high = maximum.in_days() / _YEARS if maximum else float("inf")
    groups = [("CHILD", 0.0, 18.0), ("ADULT", 18.0, 65.0), ("OLDER_ADULT", 65.0, float("inf"))]
    return [name for name, start, end in groups if low < end and high >= start]


def agency_class(text: str | None) -> str | None:
    """Legacy agency class ("Industry", "U.S. Fed") to CT.gov AgencyClass."""
    return _AGENCY_CLASSES.get(enum_name(text) or "")
