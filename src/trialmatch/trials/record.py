"""The Trial record: one normalised shape for a trial from any source.

Field names and enumerations follow the ClinicalTrials.gov API v2 data model
(``ctg-oas-v2.yaml``), flattened out of its modules so that importers and the store
share one simple structure. Dates stay as the ISO strings CT.gov uses ("2024-07",
"2024-07-23"), because partial dates are common and must not be invented.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OverallStatus(StrEnum):
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING"
    COMPLETED = "COMPLETED"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION"
    NOT_YET_RECRUITING = "NOT_YET_RECRUITING"
    RECRUITING = "RECRUITING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    WITHDRAWN = "WITHDRAWN"
    AVAILABLE = "AVAILABLE"
    NO_LONGER_AVAILABLE = "NO_LONGER_AVAILABLE"
    TEMPORARILY_NOT_AVAILABLE = "TEMPORARILY_NOT_AVAILABLE"
    APPROVED_FOR_MARKETING = "APPROVED_FOR_MARKETING"
    WITHHELD = "WITHHELD"
    UNKNOWN = "UNKNOWN"


#: Statuses a patient can still join: what "open" means in search.
OPEN_STATUSES: frozenset[OverallStatus] = frozenset(
    {
        OverallStatus.RECRUITING,
        OverallStatus.NOT_YET_RECRUITING,
        OverallStatus.ENROLLING_BY_INVITATION,
    }
)


class Phase(StrEnum):
    NA = "NA"
    EARLY_PHASE1 = "EARLY_PHASE1"
    PHASE1 = "PHASE1"
    PHASE2 = "PHASE2"
    PHASE3 = "PHASE3"
    PHASE4 = "PHASE4"


class StudyType(StrEnum):
    EXPANDED_ACCESS = "EXPANDED_ACCESS"
    INTERVENTIONAL = "INTERVENTIONAL"
    OBSERVATIONAL = "OBSERVATIONAL"


Sex = Literal["ALL", "FEMALE", "MALE"]
AgeUnit = Literal["Years", "Months", "Weeks", "Days", "Hours", "Minutes"]

_DAYS_PER_UNIT: dict[str, float] = {
    "Years": 365.25,
    "Months": 30.4375,
    "Weeks": 7.0,
    "Days": 1.0,
    "Hours": 1 / 24,
    "Minutes": 1 / 1440,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class RegistryId(_Model):
    """One identifier of the trial in some registry or organisation."""

    id: str
    #: NCT, EUDRACT, ISRCTN, CTIS, ORG_STUDY_ID (sponsor protocol number), CRUK, NIH, OTHER …
    type: str
    #: Who issued it, when known ("Amgen", "Cancer Research UK").
    domain: str | None = None


class AgeLimit(_Model):
    """A minimum or maximum age as the source stated it, e.g. 6 Months."""

    value: float
    unit: AgeUnit
    #: The wording in the source ("at least 18 years old", "204 Months").
    text: str | None = None

    def in_days(self) -> float:
        return self.value * _DAYS_PER_UNIT[self.unit]

    def __str__(self) -> str:
        value = int(self.value) if float(self.value).is_integer() else self.value
        return f"{value} {self.unit[:-1] if value == 1 else self.unit}"


class Eligibility(_Model):
    criteria_text: str | None = None
    minimum_age: AgeLimit | None = None
    maximum_age: AgeLimit | None = None
    #: What the age limits are measured at: enrolment (the usual) or diagnosis.
    age_reference: Literal["enrollment", "diagnosis"] = "enrollment"
    sex: Sex | None = None
    healthy_volunteers: bool | None = None
    std_ages: list[str] = Field(default_factory=list)


class MeshTerm(_Model):
    term: str
    id: str | None = None


class Arm(_Model):
    label: str
    type: str | None = None
    description: str | None = None
    intervention_names: list[str] = Field(default_factory=list)


class Intervention(_Model):
    name: str
    type: str | None = None
    description: str | None = None
    other_names: list[str] = Field(default_factory=list)
    arm_labels: list[str] = Field(default_factory=list)


class Organization(_Model):
    name: str
    #: CT.gov AgencyClass: INDUSTRY, NIH, OTHER …
    agency_class: str | None = None


class Official(_Model):
    name: str
    affiliation: str | None = None
    #: CT.gov OfficialRole: PRINCIPAL_INVESTIGATOR, STUDY_CHAIR …
    role: str | None = None


class Contact(_Model):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class GeoPoint(_Model):
    lat: float
    lon: float
    #: True when looked up from the city in a gazetteer rather than given by the source.
    approximate: bool = False


class Site(_Model):
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    #: CT.gov RecruitmentStatus of this site, when known.
    status: str | None = None
    contacts: list[Contact] = Field(default_factory=list)
    geo: GeoPoint | None = None


class Provenance(_Model):
    #: Which importer made the record: ctgov-v2, ctgov-xml, site-list, web-page, ctgov-api.
    source: str
    #: File path (with "!member" for an archive member, ":line" for a JSON Lines row) or URL.
    location: str
    imported_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    #: The source's own last-update date for this trial, when it gives one.
    source_last_update: str | None = None


class Trial(_Model):
    """A clinical trial, normalised from any source."""

    #: Primary key: the NCT number when there is one, else "<TYPE>-<id>" of the best other id.
    id: str
    ids: list[RegistryId] = Field(default_factory=list)
    brief_title: str | None = None
    official_title: str | None = None
    acronym: str | None = None
    brief_summary: str | None = None
    detailed_description: str | None = None

    overall_status: OverallStatus | None = None
    #: The status wording the source used ("Non Recruiting", "closed for inclusion").
    status_text: str | None = None
    why_stopped: str | None = None
    phases: list[Phase] = Field(default_factory=list)
    study_type: StudyType | None = None
    enrollment: int | None = None
    enrollment_type: str | None = None

    start_date: str | None = None
    primary_completion_date: str | None = None
    completion_date: str | None = None
    first_posted: str | None = None
    last_update_posted: str | None = None

    conditions: list[str] = Field(default_factory=list)
    condition_mesh: list[MeshTerm] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    arms: list[Arm] = Field(default_factory=list)
    interventions: list[Intervention] = Field(default_factory=list)

    eligibility: Eligibility = Field(default_factory=Eligibility)

    lead_sponsor: Organization | None = None
    collaborators: list[Organization] = Field(default_factory=list)
    officials: list[Official] = Field(default_factory=list)
    central_contacts: list[Contact] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)

    provenance: Provenance

    @property
    def title(self) -> str:
        """The title to show; untitled site-list rows get their conditions and interventions."""
        if self.brief_title or self.official_title:
            return self.brief_title or self.official_title or self.id
        topic = ", ".join(self.conditions[:3])
        treatments = ", ".join(i.name for i in self.interventions[:3])
        if topic and treatments:
            return f"{topic}: {treatments} (untitled {self.id})"
        return f"{topic or treatments} (untitled {self.id})" if topic or treatments else self.id

    @property
    def nct_id(self) -> str | None:
        return next((i.id for i in self.ids if i.type == "NCT"), None)

    def content_json(self) -> str:
        """The record without provenance, as JSON: what decides whether two versions differ."""
        return self.model_dump_json(exclude={"provenance"}, exclude_none=True)

    def content_hash(self) -> str:
        return content_digest(self.content_json())


def content_digest(content_json: str) -> str:
    """A stable fingerprint of a record's content (pydantic serialises fields in declaration order)."""
    return hashlib.sha256(content_json.encode()).hexdigest()


def primary_id(ids: list[RegistryId]) -> str | None:
    """The id a record is stored under: NCT first, then other registries, then sponsor numbers."""
    order = ["NCT", "EUDRACT", "CTIS", "ISRCTN", "CRUK", "ORG_STUDY_ID"]
    for wanted in order:
        for rid in ids:
            if rid.type == wanted:
                return rid.id if wanted == "NCT" else f"{wanted}-{rid.id}"
    if ids:
        return f"{ids[0].type}-{ids[0].id}"
    return None
