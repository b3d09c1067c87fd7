"""What matching says: a verdict per criterion with its evidence, and one verdict per trial.

Criterion verdicts say whether the criterion's statement is true of the patient: ``met`` / ``not_met`` /
``unknown`` / ``not_applicable``. Whether that helps or hurts depends on the section: a met exclusion
excludes. ``decides`` marks the criteria that make a trial "not eligible".
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CriterionVerdict(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    NOT_APPLICABLE = "not_applicable"


class TrialVerdict(StrEnum):
    ELIGIBLE = "eligible"
    POSSIBLY_ELIGIBLE = "possibly_eligible"
    NOT_ELIGIBLE = "not_eligible"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Evidence(_Model):
    """One fact used to reach a verdict, in words, with where it came from."""

    statement: str
    source: str


class CriterionResult(_Model):
    """One criterion's verdict, the facts behind it, and the trial's own words."""

    id: str
    section: str
    category: str
    verdict: CriterionVerdict
    decides: bool = Field(description="This criterion alone makes the patient not eligible")
    evidence: tuple[Evidence, ...] = ()
    text: str
    span: tuple[int, int] | None = None
    rule: str = Field(description="The compiled rule, in clinician's notation")
    question_id: str | None = Field(default=None, description="Set when the verdict is unknown: what to ask")
    question: str | None = None
    note: str | None = Field(default=None, description="Why a verdict is unknown when facts alone can't say")
    confidence: float = 1.0

    @property
    def is_open(self) -> bool:
        return self.verdict == CriterionVerdict.UNKNOWN


class TrialMatch(_Model):
    """A trial's verdict for one patient, with every criterion's result."""

    trial_id: str
    title: str | None = None
    status: str | None = None
    verdict: TrialVerdict
    criteria: tuple[CriterionResult, ...]
    nearest_site: str | None = None
    distance_km: float | None = None

    @property
    def deciding(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.decides)

    @property
    def open(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.is_open)

    @property
    def settled_share(self) -> float:
        """Share of criteria with a verdict (anything but unknown)."""
        if not self.criteria:
            return 0.0
        return 1 - len(self.open) / len(self.criteria)

    def summary(self) -> str:
        if self.verdict == TrialVerdict.NOT_ELIGIBLE:
            return "not eligible: " + "; ".join(c.text for c in self.deciding)
        if self.verdict == TrialVerdict.ELIGIBLE:
            return "eligible on every criterion"
        return f"possibly eligible: {len(self.open)} open question{'s' if len(self.open) != 1 else ''}"
