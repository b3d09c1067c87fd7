"""ClinicalTrials.gov API v2 study objects become Trials: the real NCT02513394 record and hand-built studies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from trialmatch.trials.ctgov_json import trial_from_study
from trialmatch.trials.errors import RecordError
from trialmatch.trials.identifiers import detect_id_type, secondary_id_type
from trialmatch.trials.record import OverallStatus, Phase, StudyType, Trial


@pytest.fixture(scope="module")
def study(shared_dir: Path) -> dict[str, Any]:
    return json.loads((shared_dir / "data" / "ctgov-api-v2" / "NCT02513394.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pallas(study: dict[str, Any]) -> Trial:
    return trial_from_study(study, "shared/NCT02513394.json")


def minimal(**modules: Any) -> dict[str, Any]:
    """A study with an identificationModule and whatever other modules are given."""
    protocol = {"identificationModule": {"nctId": "NCT01234567"}} | modules
    return {"protocolSection": protocol}


# --- the real record -----------------------------------------------------------------------


def test_real_study_identity_and_titles(pallas: Trial) -> None:
    assert pallas.id == "NCT02513394"
    assert pallas.nct_id == "NCT02513394"
    assert pallas.brief_title == "PALbociclib CoLlaborative Adjuvant Study"
    assert pallas.official_title is not None
    assert pallas.official_title.startswith("PALbociclib CoLlaborative Adjuvant Study: A Randomized Phase III Trial")
    assert pallas.acronym == "PALLAS"
    assert pallas.brief_summary is not None
    assert pallas.brief_summary.startswith("This is a prospective, two arm, international, multicenter")
    assert "\n\nThe purpose of the PALLAS study" in pallas.brief_summary
    assert pallas.detailed_description is None


def test_real_study_ids(pallas: Trial) -> None:
    by_id = {rid.id: rid for rid in pallas.ids}
    assert [rid.id for rid in pallas.ids] == ["NCT02513394", "AFT-05", "ABCSG 42", "BIG 14-03", "2014-005181-30"]
    assert by_id["NCT02513394"].type == "NCT"
    assert by_id["AFT-05"].type == "ORG_STUDY_ID"
    assert by_id["AFT-05"].domain == "Alliance Foundation Trials, LLC."
    assert (by_id["ABCSG 42"].type, by_id["ABCSG 42"].domain) == ("OTHER", "ABCSG GmbH")
    assert (by_id["BIG 14-03"].type, by_id["BIG 14-03"].domain) == ("OTHER", "Breast International Group")
    assert (by_id["2014-005181-30"].type, by_id["2014-005181-30"].domain) == ("EUDRACT", None)


def test_real_study_status_design_and_dates(pallas: Trial) -> None:
    assert pallas.overall_status is OverallStatus.ACTIVE_NOT_RECRUITING
    assert pallas.status_text == "ACTIVE_NOT_RECRUITING"
    assert pallas.why_stopped is None
    assert pallas.phases == [Phase.PHASE3]
    assert pallas.study_type is StudyType.INTERVENTIONAL
    assert (pallas.enrollment, pallas.enrollment_type) == (5796, "ACTUAL")
    assert pallas.start_date == "2015-08"
    assert pallas.primary_completion_date == "2020-11"
    assert pallas.completion_date == "2025-09"
    assert pallas.first_posted == "2015-07-31"
    assert pallas.last_update_posted == "2023-06-15"


def test_real_study_conditions_arms_and_interventions(pallas: Trial) -> None:
    assert pallas.conditions == ["Breast Cancer"]
    assert pallas.keywords == ["HR+/HER2- breast cancer", "Palbociclib"]
    assert [(m.id, m.term) for m in pallas.condition_mesh] == [("D000001943", "Breast Neoplasms")]
    assert [(a.label, a.type) for a in pallas.arms] == [("Arm A", "EXPERIMENTAL"), ("Arm B", "OTHER")]
    assert pallas.arms[0].intervention_names == ["Drug: Palbociclib", "Drug: Standard Adjuvant Endocrine Therapy"]
    assert [(i.name, i.type, i.arm_labels) for i in pallas.interventions] == [
        ("Palbociclib", "DRUG", ["Arm A"]),
        ("Standard Adjuvant Endocrine Therapy", "DRUG", ["Arm A", "Arm B"]),
    ]


def test_real_study_eligibility(pallas: Trial) -> None:
    eligibility = pallas.eligibility
    assert eligibility.minimum_age is not None
    assert (eligibility.minimum_age.value, eligibility.minimum_age.unit) == (18, "Years")
    assert eligibility.maximum_age is None
    assert eligibility.sex == "ALL"
    assert eligibility.healthy_volunteers is False
    assert eligibility.std_ages == ["ADULT", "OLDER_ADULT"]
    assert eligibility.criteria_text is not None
    assert eligibility.criteria_text.startswith("Inclusion Criteria:\n\n* Signed informed consent")
    assert "* Absolute neutrophil count ≥ 1,500/µL" in eligibility.criteria_text
    assert "Exclusion Criteria:" in eligibility.criteria_text


def test_real_study_sponsors_and_officials(pallas: Trial) -> None:
    assert pallas.lead_sponsor is not None
    assert (pallas.lead_sponsor.name, pallas.lead_sponsor.agency_class) == ("Alliance Foundation Trials, LLC.", "OTHER")
    assert [(c.name, c.agency_class) for c in pallas.collaborators] == [
        ("Austrian Breast & Colorectal Cancer Study Group", "NETWORK"),
        ("NSABP Foundation Inc", "NETWORK"),
        ("PrECOG, LLC.", "OTHER"),
        ("Breast International Group", "OTHER"),
        ("Pfizer", "INDUSTRY"),
    ]
    assert len(pallas.officials) == 4
    first = pallas.officials[0]
    assert (first.name, first.affiliation, first.role) == (
        "Suzanne George, MD",
        "Alliance Foundation Trials, LLC.",
        "PRINCIPAL_INVESTIGATOR",
    )
    assert pallas.central_contacts == []


def test_real_study_sites(pallas: Trial) -> None:
    # "locations_nested" in this file is a duplicate outside the schema and must not double the sites.
    assert len(pallas.sites) == 437
    mobile = pallas.sites[0]
    assert mobile.facility == "University of South Alabama Mitchell Cancer Institute"
    assert (mobile.city, mobile.state, mobile.zip, mobile.country) == ("Mobile", "Alabama", "36604", "United States")
    assert mobile.geo is not None
    assert (mobile.geo.lat, mobile.geo.lon, mobile.geo.approximate) == (30.69436, -88.04305, False)
    st_polten = next(site for site in pallas.sites if site.city == "St. Pölten")
    assert st_polten.facility == "Universitätsklinikum St. Pölten, Innere Medizin"
    assert sum(site.geo is None for site in pallas.sites) == 2


def test_real_study_provenance_and_stable_content(study: dict[str, Any], pallas: Trial) -> None:
    assert pallas.provenance.source == "ctgov-v2"
    assert pallas.provenance.location == "shared/NCT02513394.json"
    assert pallas.provenance.source_last_update == "2023-06-15"
    again = trial_from_study(copy.deepcopy(study), "elsewhere.json")
    assert again.content_hash() == pallas.content_hash()


# --- hand-built studies --------------------------------------------------------------------


def test_study_with_only_identification_converts() -> None:
    trial = trial_from_study(minimal(), "hand.json")
    assert trial.id == "NCT01234567"
    assert trial.title == "NCT01234567"
    assert trial.overall_status is None
    assert trial.phases == []
    assert trial.sites == []
    assert trial.eligibility.criteria_text is None
    assert trial.eligibility.minimum_age is None
    assert trial.provenance.source_last_update is None


def test_age_in_months() -> None:
    trial = trial_from_study(
        minimal(eligibilityModule={"minimumAge": "6 Months", "maximumAge": "17 Years", "stdAges": ["CHILD"]}), "x"
    )
    minimum = trial.eligibility.minimum_age
    assert minimum is not None
    assert (minimum.value, minimum.unit, minimum.text) == (6, "Months", "6 Months")
    assert minimum.in_days() == pytest.approx(182.6, abs=0.1)
    assert trial.eligibility.maximum_age is not None
    assert str(trial.eligibility.maximum_age) == "17 Years"
    assert trial.eligibility.std_ages == ["CHILD"]


def test_non_ascii_text_is_kept_exactly() -> None:
    criteria = "Inclusion Criteria:\n\n* Platelets ≥1,000/μL\n* Âge ≥ 6 mois"
    trial = trial_from_study(
        minimal(
            identificationModule={"nctId": "NCT01234567", "briefTitle": "Étude pédiatrique — blinatumomab"},
            eligibilityModule={"eligibilityCriteria": criteria, "sex": "FEMALE"},
            contactsLocationsModule={
                "locations": [
                    {
                        "facility": "Hôpital Necker–Enfants Malades",
                        "city": "Paris",
                        "country": "France",
                        "status": "RECRUITING",
                        "contacts": [{"name": "Dr Zoë Müller", "role": "CONTACT", "phone": "+33 1 44 49 40 00"}],
                        "geoPoint": {"lat": 48.84656, "lon": 2.31565},
                    }
                ]
            },
        ),
        "x",
    )
    assert trial.brief_title == "Étude pédiatrique — blinatumomab"
    assert trial.eligibility.criteria_text == criteria
    assert trial.eligibility.sex == "FEMALE"
    site = trial.sites[0]
    assert site.facility == "Hôpital Necker–Enfants Malades"
    assert site.status == "RECRUITING"
    assert site.contacts[0].name == "Dr Zoë Müller"
    assert site.geo is not None
    assert (site.geo.lat, site.geo.lon) == (48.84656, 2.31565)


def test_secondary_id_types() -> None:
    ident = {
        "nctId": "NCT01234567",
        "nctIdAliases": ["NCT00000042"],
        "orgStudyIdInfo": {"id": "AALL1731"},
        "organization": {"fullName": "Children's Oncology Group", "class": "NETWORK"},
        "secondaryIdInfos": [
            {"id": "ISRCTN12345678", "type": "REGISTRY", "domain": "ISRCTN registry"},
            {"id": "2019-001234-56", "type": "REGISTRY"},
            {"id": "JapicCTI-194567", "type": "REGISTRY"},
            {"id": "2023-501234-12-00", "type": "EUDRACT_NUMBER"},
            {"id": "U10CA180886", "type": "NIH", "link": "https://reporter.nih.gov"},
            {"id": "AALL1731", "type": "OTHER"},
            {"id": "NCT00000099", "type": "OTHER"},
        ],
    }
    trial = trial_from_study(minimal(identificationModule=ident), "x")
    assert [(rid.id, rid.type, rid.domain) for rid in trial.ids] == [
        ("NCT01234567", "NCT", None),
        ("NCT00000042", "NCT_ALIAS", None),
        # No sponsor module: the organisation that registered the study is the domain.
        ("AALL1731", "ORG_STUDY_ID", "Children's Oncology Group"),
        ("ISRCTN12345678", "ISRCTN", "ISRCTN registry"),
        ("2019-001234-56", "EUDRACT", None),
        ("JapicCTI-194567", "OTHER", None),
        ("2023-501234-12-00", "CTIS", None),
        ("U10CA180886", "NIH", None),
        ("AALL1731", "OTHER", None),
        # A related study's NCT number must not pass for this trial's own.
        ("NCT00000099", "OTHER", None),
    ]
    assert trial.id == "NCT01234567"
    assert trial.nct_id == "NCT01234567"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("NCT02513394", "NCT"), ("2014-005181-30", "EUDRACT"), ("ISRCTN 12345678", "ISRCTN"), ("R01MH067148", "NIH")],
)
def test_detect_id_type(text: str, expected: str) -> None:
    assert detect_id_type(text) == expected


def test_secondary_id_type_keeps_declared_agency() -> None:
    assert secondary_id_type("1234", "FDA") == "FDA"
    assert secondary_id_type("whatever", "REGISTRY") == "OTHER"


def test_unknown_status_and_string_enrollment() -> None:
    trial = trial_from_study(
        minimal(
            statusModule={"overallStatus": "UNKNOWN", "lastKnownStatus": "RECRUITING"},
            designModule={"studyType": "OBSERVATIONAL", "enrollmentInfo": {"count": "120", "type": "ESTIMATED"}},
        ),
        "x",
    )
    assert trial.overall_status is OverallStatus.UNKNOWN
    assert trial.study_type is StudyType.OBSERVATIONAL
    assert (trial.enrollment, trial.enrollment_type) == (120, "ESTIMATED")


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "study",
    [
        {"protocolSection": {"identificationModule": {"briefTitle": "No id"}}},
        {"protocolSection": {"identificationModule": {"nctId": ""}}},
        {"protocolSection": {}},
        {"hasResults": False},
    ],
)
def test_missing_nct_id_is_a_record_error(study: dict[str, Any]) -> None:
    with pytest.raises(RecordError):
        trial_from_study(study, "x")


def test_malformed_nct_id_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="not an NCT number"):
        trial_from_study(minimal(identificationModule={"nctId": "12345"}), "x")


def test_study_that_is_not_an_object() -> None:
    with pytest.raises(RecordError, match="JSON object"):
        trial_from_study(["NCT01234567"], "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("modules", "where"),
    [
        ({"statusModule": [{"overallStatus": "RECRUITING"}]}, "statusModule"),
        ({"contactsLocationsModule": {"locations": {"city": "Leeds"}}}, "locations"),
        ({"contactsLocationsModule": {"locations": ["Leeds"]}}, r"locations\[0\]"),
        ({"conditionsModule": {"conditions": [{"name": "ALL"}]}}, r"conditions\[0\]"),
        ({"designModule": {"enrollmentInfo": {"count": "lots"}}}, "enrollmentInfo.count"),
        ({"eligibilityModule": {"minimumAge": "adults"}}, "minimumAge"),
        ({"contactsLocationsModule": {"locations": [{"geoPoint": {"lat": "north"}}]}}, "geoPoint"),
    ],
)
def test_structurally_wrong_study_is_a_record_error(modules: dict[str, Any], where: str) -> None:
    with pytest.raises(RecordError, match=where):
        trial_from_study(minimal(**modules), "x")


def test_protocol_section_of_wrong_type() -> None:
    with pytest.raises(RecordError, match="protocolSection"):
        trial_from_study({"protocolSection": "NCT01234567"}, "x")
