"""A plain-language summary of a trial, written from its record alone.

What is being tested (the interventions), for whom (conditions, ages, sex), the phase and the status
in everyday words, and how many people take part. Every sentence comes from record fields; a field the
record lacks is said to be missing, never guessed. The short labels (``status_label``, ``phase_label``,
``age_range``) are for lists and badges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialmatch.trials.record import OPEN_STATUSES, AgeLimit, Intervention, OverallStatus, Phase, StudyType, Trial

#: How many treatments or conditions to name before "and N more".
_NAMED = 4

_STATUS_LABELS: dict[OverallStatus, str] = {
    OverallStatus.RECRUITING: "Recruiting",
    OverallStatus.NOT_YET_RECRUITING: "Not yet recruiting",
    OverallStatus.ENROLLING_BY_INVITATION: "By invitation",
    OverallStatus.ACTIVE_NOT_RECRUITING: "Closed to new people",
    OverallStatus.COMPLETED: "Completed",
    OverallStatus.TERMINATED: "Stopped early",
    OverallStatus.SUSPENDED: "Paused",
    OverallStatus.WITHDRAWN: "Withdrawn",
    OverallStatus.AVAILABLE: "Available",
    OverallStatus.NO_LONGER_AVAILABLE: "No longer available",
    OverallStatus.TEMPORARILY_NOT_AVAILABLE: "Temporarily unavailable",
    OverallStatus.APPROVED_FOR_MARKETING: "Approved",
    OverallStatus.WITHHELD: "Withheld",
    OverallStatus.UNKNOWN: "Status unknown",
}

_STATUS_WORDS: dict[OverallStatus, str] = {
    OverallStatus.RECRUITING: "It is open: the study team is looking for people to take part now.",
    OverallStatus.NOT_YET_RECRUITING: "It is not open yet: the study team will start looking for people soon.",
    OverallStatus.ENROLLING_BY_INVITATION: "It is open by invitation only: the study team asks people to take part.",
    OverallStatus.ACTIVE_NOT_RECRUITING: "It is under way but is not taking new people.",
    OverallStatus.COMPLETED: "It has finished and is not taking new people.",
    OverallStatus.TERMINATED: "It stopped early and is not taking new people.",
    OverallStatus.SUSPENDED: "It is paused and is not taking new people for now.",
    OverallStatus.WITHDRAWN: "It was withdrawn before anyone took part.",
    OverallStatus.AVAILABLE: "The treatment is available outside a trial (expanded access): ask your doctor.",
    OverallStatus.NO_LONGER_AVAILABLE: "The treatment is no longer available through this programme.",
    OverallStatus.TEMPORARILY_NOT_AVAILABLE: "The treatment is not available through this programme for now.",
    OverallStatus.APPROVED_FOR_MARKETING: "The treatment has been approved and can be prescribed.",
    OverallStatus.WITHHELD: "The registry withholds its status; ask the study team.",
    OverallStatus.UNKNOWN: "Its status is unknown: the record has not been updated for a long time, "
                           "so ask the study team whether it is still open.",
}

_PHASE_LABELS: dict[Phase, str] = {
    Phase.EARLY_PHASE1: "Early phase 1", Phase.PHASE1: "Phase 1", Phase.PHASE2: "Phase 2",
    Phase.PHASE3: "Phase 3", Phase.PHASE4: "Phase 4", Phase.NA: "No phase",
}

_PHASE_WORDS: dict[Phase, str] = {
    Phase.EARLY_PHASE1: "a very small first study of how the treatment acts in the body, before usual safety testing",
    Phase.PHASE1: "an early study in a small group, mainly to find a safe dose and learn about side effects",
    Phase.PHASE2: "a study in a larger group to see whether the treatment works, while checking its safety",
    Phase.PHASE3: "a large study that compares the treatment with the usual treatment or a dummy one",
    Phase.PHASE4: "a study of a treatment that is already approved, to learn more about its benefits and risks",
}

#: What each CT.gov intervention type is, for one intervention and for several.
_INTERVENTION_KINDS: dict[str, tuple[str, str]] = {
    "DRUG": ("a medicine", "medicines"), "BIOLOGICAL": ("a biological medicine", "biological medicines"),
    "DEVICE": ("a medical device", "medical devices"), "PROCEDURE": ("a procedure", "procedures"),
    "RADIATION": ("radiotherapy", "radiotherapy"),
    "BEHAVIORAL": ("a change in behaviour or care", "changes in behaviour or care"),
    "GENETIC": ("a genetic treatment or test", "genetic treatments or tests"),
    "DIETARY_SUPPLEMENT": ("a dietary supplement", "dietary supplements"),
    "DIAGNOSTIC_TEST": ("a test to diagnose or monitor", "tests to diagnose or monitor"),
    "COMBINATION_PRODUCT": ("a combined medicine and device", "combined medicines and devices"),
}

_PLACEBO = re.compile(r"\b(placebo|sham)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PlainSummary:
    """One sentence (or None when the record says nothing) per thing a reader wants to know."""

    tested: str | None
    for_whom: str
    phase: str | None
    size: str | None
    status: str

    def sentences(self) -> list[str]:
        return [s for s in (self.tested, self.for_whom, self.phase, self.size, self.status) if s]


def plain_summary(trial: Trial) -> PlainSummary:
    """The trial in plain words, from its record."""
    return PlainSummary(tested=_tested(trial), for_whom=_for_whom(trial), phase=_phase(trial),
                        size=_size(trial), status=_status(trial))


# --- short labels ---------------------------------------------------------------------------------------


def status_label(trial: Trial) -> str:
    """A badge: "Recruiting", "Completed" …; the source's own wording when it had no standard status."""
    if trial.overall_status is None:
        return trial.status_text.capitalize() if trial.status_text else "Status not stated"
    return _STATUS_LABELS[trial.overall_status]


def status_kind(trial: Trial) -> str:
    """"open", "closed" or "other" (unknown): for styling a status badge."""
    if trial.overall_status is None or trial.overall_status == OverallStatus.UNKNOWN:
        return "other"
    return "open" if trial.overall_status in OPEN_STATUSES else "closed"


def phase_label(trial: Trial) -> str:
    """"Phase 1/2", "No phase", or "Phase not stated"."""
    if not trial.phases:
        return "Phase not stated"
    if trial.phases == [Phase.NA]:
        return "No phase"
    labels = [_PHASE_LABELS[p] for p in trial.phases if p != Phase.NA]
    if len(labels) == 2 and all(label.startswith("Phase ") for label in labels):
        return f"{labels[0]}/{labels[1].removeprefix('Phase ')}"
    return " and ".join(labels)


def age_text(limit: AgeLimit) -> str:
    """An age limit in the unit people use: 204 Months is "17 years", 6 Months stays "6 months"."""
    value, unit = limit.value, limit.unit.lower()
    if unit == "months" and value >= 24 and value % 12 == 0:
        value, unit = value / 12, "years"
    number = f"{value:g}"
    return f"{number} {unit[:-1] if value == 1 else unit}"


def age_range(trial: Trial) -> str:
    """"18 to 65 years", "18 years and over", "up to 17 years", or "Any age" when the record gives none."""
    low, high = trial.eligibility.minimum_age, trial.eligibility.maximum_age
    at = " at diagnosis" if trial.eligibility.age_reference == "diagnosis" else ""
    if low and high:
        low_text, high_text = age_text(low), age_text(high)
        if low_text.split()[1] == high_text.split()[1]:  # "18 to 65 years", not "18 years to 65 years"
            low_text = low_text.split()[0]
        return f"{low_text} to {high_text}{at}"
    if low:
        return f"{age_text(low)} and over{at}"
    if high:
        return f"up to {age_text(high)}{at}"
    return "Ages not stated"


# --- sentences ------------------------------------------------------------------------------------------


def _named(names: list[str], joiner: str = "and") -> str:
    shown = names[:_NAMED]
    rest = len(names) - len(shown)
    # Names with commas of their own ("Neoplasms, Prostate") are kept apart with semicolons.
    separator = "; " if any("," in name for name in shown) else ", "
    if rest:
        return separator.join(shown) + f" and {rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return separator.join(shown[:-1]) + f" {joiner} " + shown[-1]


def _distinct(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        key = " ".join(name.lower().split())
        if key and key not in seen:
            seen.add(key)
            out.append(" ".join(name.split()))
    return out


def _tested(trial: Trial) -> str | None:
    treatments = [i for i in trial.interventions if not _PLACEBO.search(i.name)]
    placebo = any(_PLACEBO.search(i.name) for i in trial.interventions) or any(
        (arm.type or "") in ("PLACEBO_COMPARATOR", "SHAM_COMPARATOR") for arm in trial.arms)
    names = _distinct([i.name for i in treatments])
    if trial.study_type == StudyType.OBSERVATIONAL:
        looked_at = f" It looks at {_named(names)}." if names else ""
        return ("This is an observational study: the study team follows people and collects information, "
                f"but the study itself does not give anyone a treatment.{looked_at}")
    if not names:
        return None
    kinds = _kinds(treatments, several=len(names) > 1)
    if not kinds:
        sentence = f"This study tests {_named(names)}."
    elif len(names) > 1:
        sentence = f"This study tests {_named(names)}, which are {kinds}."
    else:
        sentence = f"This study tests {names[0]}, {kinds}."
    if placebo:
        sentence += " Some people in the study get a placebo (a dummy treatment) instead, to compare."
    return sentence


def _kinds(interventions: list[Intervention], several: bool) -> str:
    """What the interventions are ("a medicine", "medicines and procedures"), or "" when the record doesn't say."""
    if not interventions or any(i.type not in _INTERVENTION_KINDS for i in interventions):
        return ""
    kinds = _distinct([_INTERVENTION_KINDS[i.type][1 if several else 0] for i in interventions])  # type: ignore[index]
    return _named(kinds) if len(kinds) <= 2 else ""


def _for_whom(trial: Trial) -> str:
    conditions = _distinct(trial.conditions)
    who = f"It is for people with {_named(conditions, 'or')}" if conditions else "It is for people"
    eligibility = trial.eligibility
    ages = age_range(trial)
    details: list[str] = []
    if eligibility.minimum_age or eligibility.maximum_age:
        details.append(f"aged {ages}")
    if eligibility.sex == "FEMALE":
        details.append("female only")
    elif eligibility.sex == "MALE":
        details.append("male only")
    elif eligibility.sex == "ALL":
        details.append("of any sex")
    sentence = who + (", " + ", ".join(details) if details else "") + "."
    if not (eligibility.minimum_age or eligibility.maximum_age):
        sentence += " The record gives no age limits; the criteria below may."
    if eligibility.healthy_volunteers:
        sentence += " Healthy volunteers can take part too."
    return sentence


def _phase(trial: Trial) -> str | None:
    if trial.study_type == StudyType.OBSERVATIONAL or not trial.phases:
        return None
    if trial.phases == [Phase.NA]:
        return "It has no phase: it is not testing a new medicine (it may test a device, a procedure or a way of care)."
    drug_phases = [p for p in trial.phases if p != Phase.NA]
    if len(drug_phases) > 1:
        parts = " and ".join(f"{_PHASE_LABELS[p].lower()} ({_PHASE_WORDS[p]})" for p in drug_phases)
        return f"It is a combined {phase_label(trial).lower()} study: it joins {parts}."
    return f"It is a {_PHASE_LABELS[drug_phases[0]].lower()} study: {_PHASE_WORDS[drug_phases[0]]}."


def _size(trial: Trial) -> str | None:
    if trial.enrollment is None:
        return None
    people = f"{trial.enrollment:,} {'person' if trial.enrollment == 1 else 'people'}"
    if trial.enrollment_type == "ESTIMATED":
        return f"The study plans to include about {people}."
    if trial.enrollment_type == "ACTUAL" or trial.overall_status in (OverallStatus.COMPLETED, OverallStatus.TERMINATED):
        return f"{people[0].upper()}{people[1:]} took part."
    return f"About {people} take part."


def _status(trial: Trial) -> str:
    if trial.overall_status is None:
        said = f' The source says "{trial.status_text}".' if trial.status_text else ""
        return f"The record does not say whether it is open; ask the study team.{said}"
    sentence = _STATUS_WORDS[trial.overall_status]
    if trial.why_stopped and trial.overall_status in (OverallStatus.TERMINATED, OverallStatus.SUSPENDED,
                                                       OverallStatus.WITHDRAWN):
        sentence += f" The reason given: {trial.why_stopped.rstrip('.')}."
    return sentence
