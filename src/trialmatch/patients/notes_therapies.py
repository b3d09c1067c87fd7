"""When a therapy was given, from the words around it: "received blinatumomab, last dose 3 weeks ago",
"allogeneic HSCT in March 2024", "currently on imatinib", "started metformin in 2019".

Within a sentence, drugs joined as a list ("vincristine, dexamethasone and asparaginase") share their cues
and dates. A cue written before a drug ("currently on", "received") belongs to the next drug; one written
after ("last dose", "stopped") to the drug before it; a date belongs to the drug on its left, else to the
first on its right. The word right before a date says which date it is (start, end, or a one-off event).
Cue wording lives in ``data/notes/timing.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

from trialmatch.patients.notes_timing import TimeMention, cue_pattern, find_times, wording


@dataclass(frozen=True)
class Mention:
    """A therapy named at ``start:end`` of a sentence; ``procedure``: a one-off (transplant, operation)."""

    start: int
    end: int
    procedure: bool


@dataclass(frozen=True)
class Timing:
    start: dt.date | None = None
    end: dt.date | None = None
    ongoing: bool | None = None
    #: Any timing cue or date was found (a planned drug without one is only a plan).
    stated: bool = False


@cache
def _cues() -> dict[str, re.Pattern[str]]:
    data = wording()
    patterns = {f"date_{role}": cue_pattern(words) for role, words in data["therapy_cues"].items()}
    for state, sides in data["therapy_state"].items():
        for side, words in sides.items():
            patterns[f"{state}_{side}"] = cue_pattern(words)
    return patterns


@cache
def _joiners() -> re.Pattern[str]:
    return re.compile(wording()["list_joiners"], re.IGNORECASE)


def therapy_timings(sentence: str, mentions: list[Mention], as_of: dt.date, section: str | None) -> list[Timing]:
    """The timing of each mention (same order), read from its sentence; ``section``: ongoing, past or planned."""
    if not mentions:
        return []
    groups = _groups(sentence, mentions)
    times = find_times(sentence, as_of)
    owned = _times_by_group(sentence, groups, times)
    timings: dict[int, Timing] = {}
    for index, group in enumerate(groups):
        prefix_start = groups[index - 1][-1].end if index else 0
        suffix_end = groups[index + 1][0].start if index + 1 < len(groups) else len(sentence)
        prefix = sentence[prefix_start:group[0].start]
        suffix = sentence[group[-1].end:suffix_end]
        timing = _timing(sentence, group, prefix, suffix, owned.get(index, []), prefix_start, section)
        for mention in group:
            timings[id(mention)] = timing
    return [timings[id(m)] for m in mentions]


def _groups(sentence: str, mentions: list[Mention]) -> list[list[Mention]]:
    ordered = sorted(mentions, key=lambda m: m.start)
    groups: list[list[Mention]] = [[ordered[0]]]
    for mention in ordered[1:]:
        between = sentence[groups[-1][-1].end:mention.start]
        if _joiners().match(between) and mention.procedure == groups[-1][-1].procedure:
            groups[-1].append(mention)
        else:
            groups.append([mention])
    return groups


def _times_by_group(sentence: str, groups: list[list[Mention]],
                    times: list[TimeMention]) -> dict[int, list[TimeMention]]:
    """Each date to the group on its left, else to the first group on its right when a cue says it is its
    date ("In March 2024 she underwent allo-HSCT", but not "Relapse in 2023, treated with inotuzumab")."""
    cues = _cues()
    ends = [g[-1].end for g in groups]
    owned: dict[int, list[TimeMention]] = {}
    for time in times:
        left = bisect_right(ends, time.start)  # groups that end before the date
        if not left:  # a cue before the drugs: "Started induction on 9 January 2024: vincristine, …"
            before = sentence[:groups[0][0].start]
            if not any(cues[f"date_{role}"].search(before) for role in ("start", "end", "event")):
                continue
        owned.setdefault(left - 1 if left else 0, []).append(time)
    return owned


def _timing(sentence: str, group: list[Mention], prefix: str, suffix: str, times: list[TimeMention],
            prefix_start: int, section: str | None) -> Timing:
    cues = _cues()
    procedure = group[0].procedure
    before = _last(cues["ongoing_before"], prefix), _last(cues["past_before"], prefix)
    past = bool(before[1] and (not before[0] or before[1].end() >= before[0].end())) or bool(
        cues["past_after"].search(suffix))
    ongoing_cue = bool(before[0] and not past) or bool(cues["ongoing_after"].search(suffix))
    start = end = None
    ended_by_date = False
    for time in times:
        role = _role(sentence, group, time, prefix, prefix_start, procedure, ongoing_cue and not past)
        if time.until is not None:
            start, end, ended_by_date = start or time.date, end or time.until, True
        elif role == "start" and start is None:
            start = time.date
        elif role == "end" and end is None:
            end, ended_by_date = time.date, True
        elif role == "event" and procedure and start is None:
            start = time.date
        elif role == "event" and end is None:
            end, ended_by_date = time.date, True
    if procedure:
        ongoing = None
    elif past or (ended_by_date and not ongoing_cue):
        ongoing = False
    elif ongoing_cue:
        ongoing = True
    else:
        ongoing = {"ongoing": True, "past": False}.get(section or "")
    stated = bool(times) or past or ongoing_cue or any(before)
    return Timing(start, end, ongoing, stated)


_SMALL_WORDS = {"in", "on", "at", "of", "from", "was", "were", "been", "is"}


def _last(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = None
    for found in pattern.finditer(text):  # noqa: B007 - the last match is the one nearest the drug
        pass
    return found


def _role(sentence: str, group: list[Mention], time: TimeMention, prefix: str, prefix_start: int,
          procedure: bool, ongoing: bool) -> str:
    """start, end or event: from the cue right before the date, else the cue between it and the drug."""
    cues = _cues()
    anchor = group[-1].end if time.start >= group[-1].end else prefix_start
    lead = sentence[anchor:time.start]
    for role in ("end", "start", "event"):
        found = _last(cues[f"date_{role}"], lead[-30:])
        if found is not None and set(re.findall(r"\w+", lead[-30:][found.end():].lower())) <= _SMALL_WORDS:
            return role
    if time.end <= group[0].start:  # "In March 2024 she underwent allo-HSCT"
        trail = sentence[time.end:group[0].start]
        for role in ("start", "end", "event"):
            if cues[f"date_{role}"].search(trail):
                return role
    for role in ("start", "end"):
        if _last(cues[f"date_{role}"], prefix) is not None:
            return role
    if procedure:
        return "event"
    return "start" if ongoing else "event"
