"""Site trial lists (CSV or JSON Lines rows) become Trials through a column mapping."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from trialmatch.trials.errors import RecordError
from trialmatch.trials.record import OverallStatus, Phase, StudyType
from trialmatch.trials.site_list import DEFAULT_MAPPING, FIELDS, ColumnMapping, load_mapping, trial_from_row


@pytest.fixture(scope="module")
def hint_rows(shared_dir: Path) -> list[dict[str, Any]]:
    path = shared_dir / "data" / "criteria-corpus" / "hint-trials.jsonl"
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def row_by_id(rows: list[dict[str, Any]], nct_id: str) -> tuple[int, dict[str, Any]]:
    return next((number, row) for number, row in enumerate(rows, start=1) if row["nct_id"] == nct_id)


# --- the HINT corpus -----------------------------------------------------------------------


def test_first_200_hint_rows_convert(hint_rows: list[dict[str, Any]]) -> None:
    for number, row in enumerate(hint_rows[:200], start=1):
        trial = trial_from_row(row, f"hint-trials.jsonl:{number}")
        assert trial.id == row["nct_id"]
        assert trial.overall_status is not None, row["status"]
        assert trial.phases, row["phase"]
        assert trial.eligibility.criteria_text
        assert trial.provenance.source == "site-list"


def test_every_hint_row_converts(hint_rows: list[dict[str, Any]]) -> None:
    trials = [trial_from_row(row, f"hint:{number}") for number, row in enumerate(hint_rows, start=1)]
    assert len(trials) == 3722
    assert all(trial.overall_status is not None for trial in trials)
    assert all(trial.phases for trial in trials)
    assert all("\r" not in (trial.eligibility.criteria_text or "") for trial in trials)


def test_leukaemia_row_field_by_field(hint_rows: list[dict[str, Any]]) -> None:
    number, row = row_by_id(hint_rows, "NCT00317642")
    trial = trial_from_row(row, f"hint-trials.jsonl:{number}")
    assert trial.id == "NCT00317642"
    assert [(rid.id, rid.type) for rid in trial.ids] == [("NCT00317642", "NCT")]
    # The corpus has no titles: none is stored, and the display title says it is untitled.
    assert trial.brief_title is None
    assert trial.official_title is None
    assert trial.title.endswith("(untitled NCT00317642)")
    assert (trial.overall_status, trial.status_text) == (OverallStatus.COMPLETED, "completed")
    assert trial.why_stopped is None
    assert trial.phases == [Phase.PHASE3]
    assert trial.conditions == ["acute myelogenous leukemia"]
    assert [i.name for i in trial.interventions] == ["clofarabine (iv formulation)", "placebo", "cytarabine"]
    assert all(i.type is None for i in trial.interventions)
    criteria = trial.eligibility.criteria_text
    assert criteria is not None
    assert criteria.startswith(
        "Inclusion Criteria:\n\n  -  Have a diagnosis of Acute Myelogenous Leukemia (AML) according to World Health\n"
        "     Organization (WHO) classification\n\n"
    )
    assert "\n  -  Be ≥ 55 years of age\n" in criteria
    assert "\n\nExclusion Criteria:\n\n  -  Received previous treatment with clofarabine\n" in criteria
    assert criteria.endswith("  -  Are pregnant or lactating")
    # The corpus has no age or sex columns: the limits are unknown, not "none".
    assert trial.eligibility.minimum_age is None
    assert trial.eligibility.maximum_age is None
    assert trial.eligibility.std_ages == []
    assert trial.eligibility.sex is None
    assert trial.sites == []
    assert trial.lead_sponsor is None
    assert trial.provenance.location == f"hint-trials.jsonl:{number}"
    assert trial.provenance.source_last_update is None


def test_hint_wordings(hint_rows: list[dict[str, Any]]) -> None:
    _, stopped = row_by_id(hint_rows, "NCT00415246")
    trial = trial_from_row(stopped, "x")
    assert trial.overall_status is OverallStatus.TERMINATED
    assert trial.why_stopped == (
        "the preliminary data do not support the expected sustainable blood levels of triptorelin for a "
        "duration of 4 months in all patients."
    )
    _, unknown = row_by_id(hint_rows, "NCT01378533")
    assert trial_from_row(unknown, "x").overall_status is OverallStatus.UNKNOWN
    both = next(row for row in hint_rows if row["phase"] == "phase 1/phase 2")
    assert trial_from_row(both, "x").phases == [Phase.PHASE1, Phase.PHASE2]
    active = next(row for row in hint_rows if row["status"] == "active, not recruiting")
    assert trial_from_row(active, "x").overall_status is OverallStatus.ACTIVE_NOT_RECRUITING


# --- a CSV with other column names ---------------------------------------------------------

CSV_TEXT = """\
NCT Number,Study Title,Recruitment Status,Phases,Conditions,Interventions,Minimum Age,Maximum Age,Sex,\
Enrollment,Start Date,Other IDs,Sponsor,Funder Type,Facility,City,Country,Site Status,Contact Email,Latitude,Longitude
nct03914625,Blinatumomab in Childhood B-ALL,Recruiting,PHASE1|PHASE2,B-ALL|Down Syndrome,\
DRUG: Blinatumomab|PROCEDURE: Lumbar puncture|Best supportive care,6 Months,21 Years,All,"1,440",June 2019,\
2019-001234-56|ISRCTN12345678,Children's Oncology Group,NETWORK,Hôpital Necker–Enfants Malades,Paris,France,\
Recruiting,essais@example.org,48.84656,2.31565
NCT02101853,Blinatumomab Versus Chemotherapy in Relapsed B-ALL,"Active, not recruiting",Phase 3,\
Recurrent B-ALL,,1 Year,30,Female,,2014-07-15,,,,,,,,,,
"""


@pytest.fixture
def csv_rows(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "site-trials.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_with_alternative_column_names(csv_rows: list[dict[str, Any]]) -> None:
    trial = trial_from_row(csv_rows[0], "site-trials.csv:2")
    assert trial.id == "NCT03914625"
    assert [(rid.id, rid.type) for rid in trial.ids] == [
        ("NCT03914625", "NCT"),
        ("2019-001234-56", "EUDRACT"),
        ("ISRCTN12345678", "ISRCTN"),
    ]
    assert trial.brief_title == "Blinatumomab in Childhood B-ALL"
    assert (trial.overall_status, trial.status_text) == (OverallStatus.RECRUITING, "Recruiting")
    assert trial.phases == [Phase.PHASE1, Phase.PHASE2]
    assert trial.conditions == ["B-ALL", "Down Syndrome"]
    assert [(i.name, i.type) for i in trial.interventions] == [
        ("Blinatumomab", "DRUG"),
        ("Lumbar puncture", "PROCEDURE"),
        ("Best supportive care", None),
    ]
    minimum = trial.eligibility.minimum_age
    assert minimum is not None
    assert (minimum.value, minimum.unit) == (6, "Months")
    assert str(trial.eligibility.maximum_age) == "21 Years"
    assert trial.eligibility.std_ages == ["CHILD", "ADULT"]
    assert trial.eligibility.sex == "ALL"
    assert trial.enrollment == 1440
    assert trial.start_date == "2019-06"
    assert trial.lead_sponsor is not None
    assert (trial.lead_sponsor.name, trial.lead_sponsor.agency_class) == ("Children's Oncology Group", "NETWORK")
    [site] = trial.sites
    assert (site.facility, site.city, site.country, site.status) == (
        "Hôpital Necker–Enfants Malades",
        "Paris",
        "France",
        "RECRUITING",
    )
    assert [(c.email, c.role) for c in site.contacts] == [("essais@example.org", "CONTACT")]
    assert site.geo is not None
    assert (site.geo.lat, site.geo.lon) == (48.84656, 2.31565)
    assert trial.provenance.source == "site-list"


def test_csv_row_with_empty_cells(csv_rows: list[dict[str, Any]]) -> None:
    trial = trial_from_row(csv_rows[1], "site-trials.csv:3")
    assert trial.id == "NCT02101853"
    assert trial.overall_status is OverallStatus.ACTIVE_NOT_RECRUITING
    assert trial.phases == [Phase.PHASE3]
    assert trial.interventions == []
    assert str(trial.eligibility.minimum_age) == "1 Year"
    assert str(trial.eligibility.maximum_age) == "30 Years"  # a bare number is years
    assert trial.eligibility.sex == "FEMALE"
    assert trial.enrollment is None
    assert trial.start_date == "2014-07-15"
    assert trial.lead_sponsor is None
    assert trial.sites == []


def test_column_names_ignore_case_and_separators() -> None:
    row = {"NCT-NUMBER": "NCT01234567", "study_title": "A", "ELIGIBILITY CRITERIA": "x", "Study  Type": "Observational"}
    trial = trial_from_row(row, "x")
    assert (trial.id, trial.brief_title, trial.eligibility.criteria_text) == ("NCT01234567", "A", "x")
    assert trial.study_type is StudyType.OBSERVATIONAL


def test_list_cells() -> None:
    row = {
        "id": "NCT01234567",
        "conditions": '["Leukemia, Lymphocytic, Acute", "Lymphoma"]',
        "keywords": "MRD; relapse",
        "interventions": ["Blinatumomab", "", None],
    }
    trial = trial_from_row(row, "x")
    assert trial.conditions == ["Leukemia, Lymphocytic, Acute", "Lymphoma"]
    assert trial.keywords == ["MRD", "relapse"]
    assert [i.name for i in trial.interventions] == ["Blinatumomab"]


def test_title_only_row_gets_a_stable_id() -> None:
    first = trial_from_row({"Title": "Local  ALL registry"}, "a.csv:2")
    again = trial_from_row({"title": "local all registry"}, "b.csv:9")
    assert first.id.startswith("TITLE-")
    assert first.id == again.id
    assert first.ids == []
    assert first.title == "Local  ALL registry"


def test_non_registry_id_is_the_protocol_number() -> None:
    trial = trial_from_row({"Trial ID": "AALL1731", "Sponsor": "COG"}, "x")
    assert trial.id == "ORG_STUDY_ID-AALL1731"
    assert [(rid.id, rid.type, rid.domain) for rid in trial.ids] == [("AALL1731", "ORG_STUDY_ID", "COG")]
    assert trial.nct_id is None


# --- custom mappings -----------------------------------------------------------------------


def test_custom_yaml_mapping(tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        """\
columns:
  id: ["Protocol", "NCT"]
  brief_title: Study
  overall_status: [Open/Closed]
  minimum_age: [Age from]
  site_facility: [Clinic]
  detailed_description: []
""",
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_file)
    row = {
        "Protocol": "NCT03914625",
        "Study": "Blinatumomab for B-ALL",
        "Open/Closed": "open to recruitment",
        "Age from": "365 Days",
        "Clinic": "Leeds General Infirmary",
        "City": "Leeds",  # still read through the default mapping
        "Title": "ignored: brief_title now comes from 'Study' only",
        "Description": "ignored: the field is turned off",
    }
    trial = trial_from_row(row, "hospital.csv:2", mapping)
    assert trial.id == "NCT03914625"
    assert trial.brief_title == "Blinatumomab for B-ALL"
    assert trial.overall_status is OverallStatus.RECRUITING
    assert str(trial.eligibility.minimum_age) == "365 Days"
    assert (trial.sites[0].facility, trial.sites[0].city) == ("Leeds General Infirmary", "Leeds")
    assert trial.detailed_description is None


def test_mapping_that_extends_nothing(tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text("extends: none\ncolumns:\n  id: Ref\n  brief_title: Name\n", encoding="utf-8")
    mapping = load_mapping(mapping_file)
    assert set(mapping.columns) == {"id", "brief_title"}
    trial = trial_from_row({"Ref": "NCT01234567", "Name": "A trial", "Status": "Recruiting"}, "x", mapping)
    assert (trial.id, trial.brief_title, trial.overall_status) == ("NCT01234567", "A trial", None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("columns:\n  titel: [Title]\n", "unknown field"),
        ("columns:\n  id: {nct: true}\n", "column name or a list"),
        ("extends: everything\n", "extends"),
        ("- id\n", "YAML object"),
        ("columns: [\n", "can't read"),
    ],
)
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_mapping(mapping_file)


def test_default_mapping_covers_every_field() -> None:
    assert set(DEFAULT_MAPPING.columns) == FIELDS
    with pytest.raises(ValueError, match="unknown field"):
        ColumnMapping({"nct": ("NCT",)})


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"Status": "Recruiting", "Conditions": "ALL"}, "no trial id and no title"),
        ({"NCT": "  ", "Title": ""}, "no trial id and no title"),
        ({"NCT": "NCT01234567", "Minimum Age": "eighteen"}, "minimum_age"),
        ({"NCT": "NCT01234567", "Max Age": "adults"}, "maximum_age"),
        ({"NCT": "NCT01234567", "Sex": "children"}, "sex"),
        ({"NCT": "NCT01234567", "Conditions": [{"name": "ALL"}]}, "conditions"),
        ({"NCT": {"id": "NCT01234567"}}, "id"),
    ],
)
def test_bad_rows_are_record_errors(row: dict[str, Any], message: str) -> None:
    with pytest.raises(RecordError, match=message):
        trial_from_row(row, "bad.csv:2")


def test_row_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="object"):
        trial_from_row(["NCT01234567"], "bad.jsonl:1")  # type: ignore[arg-type]
