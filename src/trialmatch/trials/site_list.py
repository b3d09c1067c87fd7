"""Convert one row of a site trial list (CSV or JSON Lines, one trial per row) to a Trial.

A ColumnMapping says which columns feed which field; names match whatever their case, and
spaces, underscores and hyphens count as the same ("NCT Number" = "nct_number"). A row is one
trial at (at most) one site; merging rows that share an id is the caller's job.
See docs/site-lists.md for the default mapping and the YAML mapping format.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml
from pydantic import ValidationError

from trialmatch.trials.errors import RecordError
from trialmatch.trials.identifiers import dedupe_ids, detect_id_type, other_id_type
from trialmatch.trials.normalize import (
    NO_AGE_LIMIT,
    SITE_STATUSES,
    agency_class,
    clean_textblock,
    enum_name,
    one_line,
    parse_age,
    parse_bool,
    parse_date,
    parse_phases,
    parse_sex,
    parse_status,
    parse_study_type,
    std_ages,
)
from trialmatch.trials.record import (
    AgeLimit,
    Contact,
    Eligibility,
    GeoPoint,
    Intervention,
    Organization,
    Phase,
    Provenance,
    RegistryId,
    Site,
    Trial,
    primary_id,
)

SOURCE = "site-list"

_DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("nct id", "nct", "nct number", "nct no", "trial id", "id"),
    "org_study_id": ("org study id", "protocol number", "protocol no", "protocol id", "sponsor protocol"),
    "other_ids": ("other ids", "other id", "secondary ids"),
    "brief_title": ("title", "brief title", "study title", "trial title"),
    "official_title": ("official title", "full title", "scientific title"),
    "acronym": ("acronym", "short name"),
    "brief_summary": ("summary", "brief summary", "lay summary"),
    "detailed_description": ("detailed description", "description"),
    "overall_status": ("status", "overall status", "recruitment status", "study status", "trial status"),
    "why_stopped": ("why stopped", "reason stopped", "stop reason"),
    "phases": ("phase", "phases"),
    "study_type": ("study type",),
    "enrollment": ("enrollment", "enrolment", "target enrollment", "sample size"),
    "start_date": ("start date",),
    "primary_completion_date": ("primary completion date",),
    "completion_date": ("completion date", "end date"),
    "first_posted": ("first posted", "study first posted"),
    "last_update": ("last update posted", "last update", "last updated"),
    "conditions": ("conditions", "condition", "diseases", "disease"),
    "keywords": ("keywords", "keyword"),
    "interventions": ("interventions", "intervention"),
    "criteria": ("criteria", "eligibility", "eligibility criteria"),
    "minimum_age": ("minimum age", "min age", "lower age limit"),
    "maximum_age": ("maximum age", "max age", "upper age limit"),
    "sex": ("sex", "gender"),
    "healthy_volunteers": ("healthy volunteers", "accepts healthy volunteers"),
    "sponsor": ("sponsor", "lead sponsor"),
    "sponsor_class": ("sponsor class", "funder type", "agency class"),
    "site_facility": ("facility", "site", "site name", "hospital"),
    "site_city": ("city", "site city"),
    "site_state": ("state", "province", "region"),
    "site_zip": ("zip", "postcode", "postal code"),
    "site_country": ("country", "site country"),
    "site_status": ("site status", "site recruitment status"),
    "site_contact_name": ("contact", "contact name", "site contact"),
    "site_contact_phone": ("contact phone", "phone"),
    "site_contact_email": ("contact email", "email"),
    "site_latitude": ("latitude", "lat"),
    "site_longitude": ("longitude", "lon", "lng"),
}
FIELDS = frozenset(_DEFAULT_COLUMNS)
_SITE_FIELDS = tuple(name for name in _DEFAULT_COLUMNS if name.startswith("site_"))
_INTERVENTION_TYPES = frozenset(
    {"BEHAVIORAL", "BIOLOGICAL", "COMBINATION_PRODUCT", "DEVICE", "DIAGNOSTIC_TEST", "DIETARY_SUPPLEMENT"}
    | {"DRUG", "GENETIC", "PROCEDURE", "RADIATION", "OTHER"}
)


def column_key(name: str) -> str:
    """How column names are compared: case-folded, with runs of space, "_" and "-" as one space."""
    return re.sub(r"[\s_\-]+", " ", name).strip().casefold()


@dataclass(frozen=True)
class ColumnMapping:
    """For each field (see FIELDS), the column names that may hold it, in order of preference."""

    columns: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType(dict(_DEFAULT_COLUMNS)))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) in column mapping: {', '.join(unknown)}")

    def cells(self, row: Mapping[str, object]) -> dict[str, object]:
        """The row's non-empty values by field name."""
        by_key: dict[str, object] = {}
        for name, value in row.items():
            if isinstance(name, str) and not _is_empty(value):
                by_key.setdefault(column_key(name), value)
        found: dict[str, object] = {}
        for field_name, names in self.columns.items():
            value = next((by_key[key] for key in map(column_key, names) if key in by_key), None)
            if value is not None:
                found[field_name] = value
        return found


DEFAULT_MAPPING = ColumnMapping()


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read a YAML column mapping; its fields replace the defaults' (unless ``extends: none``)."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: can't read column mapping: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("columns", {}), dict):
        raise ValueError(f"{path}: a column mapping is a YAML object with a 'columns' object")
    extends = document.get("extends", "default")
    if extends not in {"default", "none"}:
        raise ValueError(f"{path}: 'extends' must be 'default' or 'none', not {extends!r}")
    columns = dict(_DEFAULT_COLUMNS) if extends == "default" else {}
    for field_name, names in (document.get("columns") or {}).items():
        if isinstance(names, str):
            names = [names]
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise ValueError(f"{path}: columns.{field_name} must be a column name or a list of them")
        columns[field_name] = tuple(names or ())
    try:
        return ColumnMapping(MappingProxyType(columns))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def _is_empty(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == []


def _text(cells: Mapping[str, object], name: str) -> str | None:
    value = cells.get(name)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise RecordError(f"{name} should be a single value, not {type(value).__name__}")
    return str(value).strip() or None


def _block(cells: Mapping[str, object], name: str) -> str | None:
    """Multi-line text, tidied like a CT.gov textblock (its indentation is only known before stripping)."""
    value = cells.get(name)
    return clean_textblock(value) if isinstance(value, str) else _text(cells, name)


def _list(cells: Mapping[str, object], name: str) -> list[str]:
    """A list cell: a JSON list, a string holding a JSON list, or text split on "|" (else ";")."""
    value = cells.get(name)
    if value is None:
        return []
    if isinstance(value, str) and value.lstrip().startswith("["):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, str):
        separator = "|" if "|" in value else ";"
        items: list[object] = value.split(separator)
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    if any(isinstance(item, dict | list) for item in items):
        raise RecordError(f"{name} should be a list of texts")
    return [text for item in items if item is not None and (text := str(item).strip())]


def _age(cells: Mapping[str, object], name: str) -> AgeLimit | None:
    text = _text(cells, name)
    age = parse_age(text)
    if text and age is None and text.upper() not in NO_AGE_LIMIT:
        raise RecordError(f"{name} {text!r} is not an age such as '18', '18 Years' or '6 Months'")
    return age


def _ids(cells: Mapping[str, object], sponsor: str | None) -> list[RegistryId]:
    ids = []
    main = _text(cells, "id")
    if main:
        kind = detect_id_type(main)
        main = main.upper() if kind == "NCT" else main
        ids.append(RegistryId(id=main, type=kind or "ORG_STUDY_ID", domain=None if kind else sponsor))
    org = _text(cells, "org_study_id")
    if org:
        ids.append(RegistryId(id=org, type="ORG_STUDY_ID", domain=sponsor))
    ids += [RegistryId(id=other, type=other_id_type(other)) for other in _list(cells, "other_ids")]
    return dedupe_ids(ids)


def _phases(cells: Mapping[str, object]) -> list[Phase]:
    phases: list[Phase] = []
    for text in _list(cells, "phases"):
        phases += [phase for phase in parse_phases(text) if phase not in phases]
    return phases


def _interventions(cells: Mapping[str, object]) -> list[Intervention]:
    interventions = []
    for text in _list(cells, "interventions"):
        # CT.gov's CSV export writes "DRUG: Blinatumomab".
        kind, _, name = text.partition(":")
        kind_name = enum_name(kind)
        if name.strip() and kind_name in _INTERVENTION_TYPES:
            interventions.append(Intervention(name=name.strip(), type=kind_name))
        else:
            interventions.append(Intervention(name=text))
    return interventions


def _enrollment(cells: Mapping[str, object]) -> int | None:
    text = (_text(cells, "enrollment") or "").replace(",", "")
    return int(float(text)) if re.fullmatch(r"\d+(\.0+)?", text) else None


def _site(cells: Mapping[str, object]) -> Site | None:
    if not any(name in cells for name in _SITE_FIELDS):
        return None
    contact = None
    if any(name in cells for name in ("site_contact_name", "site_contact_phone", "site_contact_email")):
        contact = Contact(
            name=_text(cells, "site_contact_name"),
            role="CONTACT",
            phone=_text(cells, "site_contact_phone"),
            email=_text(cells, "site_contact_email"),
        )
    status = parse_status(_text(cells, "site_status"))
    return Site(
        facility=_text(cells, "site_facility"),
        city=_text(cells, "site_city"),
        state=_text(cells, "site_state"),
        zip=_text(cells, "site_zip"),
        country=_text(cells, "site_country"),
        status=status.value if status in SITE_STATUSES else None,
        contacts=[contact] if contact else [],
        geo=_geo(cells),
    )


def _geo(cells: Mapping[str, object]) -> GeoPoint | None:
    try:
        lat, lon = float(_text(cells, "site_latitude") or ""), float(_text(cells, "site_longitude") or "")
    except ValueError:
        return None
    return GeoPoint(lat=lat, lon=lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def _title_id(title: str) -> str:
    # A row with a title but no id still needs a key that stays the same on re-import.
    return "TITLE-" + hashlib.sha256(" ".join(title.casefold().split()).encode()).hexdigest()[:12]


def trial_from_row(row: Mapping[str, object], location: str, mapping: ColumnMapping = DEFAULT_MAPPING) -> Trial:
    """Convert one site-list row; raise RecordError when it has neither id nor title, or an
    eligibility value (age, sex) can't be read."""
    if not isinstance(row, Mapping):
        raise RecordError(f"a site-list row should be an object, not {type(row).__name__}")
    cells = mapping.cells(row)
    sponsor = _text(cells, "sponsor")
    ids = _ids(cells, sponsor)
    title = _text(cells, "brief_title")
    official_title = _text(cells, "official_title")
    if not ids and not (title or official_title):
        raise RecordError(
            "row has no trial id and no title (columns tried: "
            + ", ".join(mapping.columns.get("id", ()) + mapping.columns.get("brief_title", ()))
            + ")"
        )
    sex_text = _text(cells, "sex")
    sex = parse_sex(sex_text)
    if sex_text and sex is None:
        raise RecordError(f"sex {sex_text!r} is not one of all, female, male")
    minimum, maximum = _age(cells, "minimum_age"), _age(cells, "maximum_age")
    status_text = _text(cells, "overall_status")
    last_update = parse_date(_text(cells, "last_update"))
    site = _site(cells)
    lead_sponsor = None
    if sponsor:
        lead_sponsor = Organization(name=sponsor, agency_class=agency_class(_text(cells, "sponsor_class")))
    try:
        return Trial(
            id=primary_id(ids) or _title_id(title or official_title or ""),
            ids=ids,
            brief_title=title,
            official_title=official_title,
            acronym=_text(cells, "acronym"),
            brief_summary=_block(cells, "brief_summary"),
            detailed_description=_block(cells, "detailed_description"),
            overall_status=parse_status(status_text),
            status_text=status_text,
            why_stopped=one_line(_text(cells, "why_stopped")),
            phases=_phases(cells),
            study_type=parse_study_type(_text(cells, "study_type")),
            enrollment=_enrollment(cells),
            start_date=parse_date(_text(cells, "start_date")),
            primary_completion_date=parse_date(_text(cells, "primary_completion_date")),
            completion_date=parse_date(_text(cells, "completion_date")),
            first_posted=parse_date(_text(cells, "first_posted")),
            last_update_posted=last_update,
            conditions=_list(cells, "conditions"),
            keywords=_list(cells, "keywords"),
            interventions=_interventions(cells),
            eligibility=Eligibility(
                criteria_text=_block(cells, "criteria"),
                minimum_age=minimum,
                maximum_age=maximum,
                sex=sex,
                healthy_volunteers=parse_bool(_text(cells, "healthy_volunteers")),
                # No age columns means the limits are unknown, not absent: claim no age groups.
                std_ages=std_ages(minimum, maximum) if {"minimum_age", "maximum_age"} & cells.keys() else [],
            ),
            lead_sponsor=lead_sponsor,
            sites=[site] if site else [],
            provenance=Provenance(source=SOURCE, location=location, source_last_update=last_update),
        )
    except ValidationError as error:
        raise RecordError(f"row does not fit the Trial record: {error}") from error
