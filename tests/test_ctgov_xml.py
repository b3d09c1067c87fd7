"""Legacy ClinicalTrials.gov XML records become Trials; hostile or broken XML is refused."""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lxml import etree

from trialmatch.trials.ctgov_xml import trial_from_xml
from trialmatch.trials.errors import RecordError
from trialmatch.trials.normalize import clean_textblock, parse_age, std_ages
from trialmatch.trials.record import OverallStatus, Phase, StudyType, Trial

XML_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ctgov-legacy-xml"
XML_FILES = sorted(XML_DIR.glob("*.xml"))
ITEM_START = re.compile(r"^\s*(?:-|\d+\.)\s+\S", re.MULTILINE)


def load(shared_dir: Path, nct_id: str) -> Trial:
    path = shared_dir / "data" / "ctgov-legacy-xml" / f"{nct_id}.xml"
    return trial_from_xml(path.read_bytes(), str(path))


def test_all_65_records_are_present() -> None:
    assert len(XML_FILES) == 65


@pytest.mark.parametrize("path", XML_FILES, ids=lambda path: path.stem)
def test_every_record_converts(path: Path) -> None:
    trial = trial_from_xml(path.read_bytes(), str(path))
    assert trial.id == path.stem
    assert trial.nct_id == path.stem
    assert trial.brief_title
    assert trial.overall_status is not None
    assert trial.provenance.source == "ctgov-xml"
    assert trial.provenance.location == str(path)
    assert trial.provenance.source_last_update == trial.last_update_posted is not None
    criteria = trial.eligibility.criteria_text
    assert criteria is not None
    assert "\r" not in criteria
    # The XML indents headings by 8 and items by 10 spaces; that common indentation is gone.
    # (Sub-items and their wrapped lines keep their relative indentation.)
    assert not re.search(r"^ {10}-  ", criteria, re.MULTILINE)
    assert min(len(line) - len(line.lstrip(" ")) for line in criteria.split("\n") if line.strip()) == 0
    # Every item still starts its own line.
    raw = etree.fromstring(path.read_bytes()).findtext("eligibility/criteria/textblock")
    assert len(ITEM_START.findall(criteria)) == len(ITEM_START.findall(raw.replace("\r", "")))
    assert criteria == criteria.strip()
    for text in (trial.brief_summary, trial.detailed_description):
        assert text is None or ("\r" not in text and not text.startswith(" "))


def test_record_with_a_site_and_mesh_term(shared_dir: Path) -> None:
    trial = load(shared_dir, "NCT05380414")
    assert [(rid.id, rid.type, rid.domain) for rid in trial.ids] == [
        ("NCT05380414", "NCT", None),
        ("ET21-399 GENOPANC", "ORG_STUDY_ID", "Centre Leon Berard"),
    ]
    assert trial.brief_title == "Profiling Program of Advanced/Metastatic Pancreatic Cancer Patients"
    assert trial.official_title == (
        "A Single-center, Prospective Profiling Program of Advanced/Metastatic Pancreatic Cancer Patients"
    )
    assert trial.acronym is None
    assert trial.brief_summary == (
        "The proposal is to implement a molecular screening program for advanced/metastatic pancreatic\n"
        "cancer patients before the initiation of 1st line treatment in order to allow a better\n"
        "selection of patients for rationale personalized medicine with targeted agents and/or\n"
        "combination involving a chemotherapy backbone."
    )
    assert (trial.overall_status, trial.status_text) == (OverallStatus.RECRUITING, "Recruiting")
    assert trial.phases == [Phase.NA]
    assert trial.study_type is StudyType.INTERVENTIONAL
    assert (trial.enrollment, trial.enrollment_type) == (750, "ESTIMATED")
    assert trial.start_date == "2022-07-01"
    assert trial.primary_completion_date == "2027-09-01"
    assert trial.completion_date == "2027-09-01"
    assert trial.first_posted == "2022-05-18"
    assert trial.last_update_posted == "2022-07-22"
    assert trial.conditions == ["Metastatic Pancreatic Cancer", "Advanced Pancreatic Cancer"]
    assert [(m.term, m.id) for m in trial.condition_mesh] == [("Pancreatic Neoplasms", None)]
    assert trial.keywords == ["Molecular screening", "Genomic profiles", "Transcriptomic profiles"]

    assert [(a.label, a.type, a.description) for a in trial.arms] == [
        ("Metastatic/advanced PDAC Patients", "EXPERIMENTAL", "Tumor samples")
    ]
    assert trial.arms[0].intervention_names == ["Biological: Tumor samples (archival FFPE) and blood samples"]
    intervention = trial.interventions[0]
    assert (intervention.name, intervention.type, intervention.description) == (
        "Tumor samples (archival FFPE) and blood samples",
        "BIOLOGICAL",
        "Molecular screening",
    )
    assert intervention.arm_labels == ["Metastatic/advanced PDAC Patients"]

    eligibility = trial.eligibility
    assert str(eligibility.minimum_age) == "18 Years"
    assert eligibility.maximum_age is None
    assert eligibility.sex == "ALL"
    assert eligibility.healthy_volunteers is False
    assert eligibility.std_ages == ["ADULT", "OLDER_ADULT"]
    assert eligibility.criteria_text is not None
    assert eligibility.criteria_text.startswith("Inclusion Criteria:\n\n  -  Male or female patient > 18 years\n\n")
    assert (
        "  -  Patient pretreated with no more than one prior systemic chemotherapy for\n"
        "     metastatic/advanced disease (radiotherapy is not counted as a line of therapy).\n"
    ) in eligibility.criteria_text
    assert "\n\nExclusion Criteria:\n\n  -  Curative therapy available\n" in eligibility.criteria_text
    assert eligibility.criteria_text.endswith("compliance to study procedure.")

    assert trial.lead_sponsor is not None
    assert (trial.lead_sponsor.name, trial.lead_sponsor.agency_class) == ("Centre Leon Berard", "OTHER")
    assert [(o.name, o.role, o.affiliation) for o in trial.officials] == [
        ("Philippe CASSIER, MD, PhD", "PRINCIPAL_INVESTIGATOR", "Centre Leon Berard")
    ]
    assert [(c.name, c.role, c.phone, c.email) for c in trial.central_contacts] == [
        ("Philippe CASSIER, MD, PhD", "CONTACT", "0426556835", "philippe.cassier@lyon.unicancer.fr")
    ]
    [site] = trial.sites
    assert (site.facility, site.city, site.state, site.zip, site.country) == (
        "Centre Léon Bérard",
        "Lyon",
        None,
        "69373",
        "France",
    )
    assert site.status == "RECRUITING"
    assert site.geo is None
    assert [(c.name, c.email) for c in site.contacts] == [
        ("Philippe CASSIER, MD, PhD", "philippe.cassier@lyon.unicancer.fr")
    ]


def test_record_with_no_age_limits_and_unknown_status(shared_dir: Path) -> None:
    trial = load(shared_dir, "NCT00739817")
    assert trial.overall_status is OverallStatus.UNKNOWN
    assert trial.status_text == "Unknown status"
    assert trial.eligibility.minimum_age is None
    assert trial.eligibility.maximum_age is None
    assert trial.eligibility.std_ages == ["CHILD", "ADULT", "OLDER_ADULT"]
    assert trial.eligibility.healthy_volunteers is True
    assert trial.eligibility.criteria_text == (
        "Inclusion Criteria:\n\n  -  Voluntary willing to participate\n\n"
        "Exclusion Criteria:\n\n  -  Recent URTI\n\n  -  Steroids use 2 weeks prior to testing"
    )
    assert trial.study_type is StudyType.OBSERVATIONAL
    assert trial.phases == []
    assert trial.start_date == "2010-07"
    assert trial.primary_completion_date is None
    assert (trial.enrollment, trial.enrollment_type) == (6000, "ESTIMATED")
    assert [m.term for m in trial.condition_mesh] == ["Ciliary Motility Disorders", "Dyskinesias"]
    assert trial.first_posted == "2008-08-22"
    assert trial.lead_sponsor is not None
    assert trial.lead_sponsor.name == "Ziv Hospital"
    assert [(s.facility, s.city, s.country, s.status) for s in trial.sites] == [
        ("Pediatric Department, Ziv Medical Center", "Safed", "Israel", None)
    ]


def test_record_with_many_sites_and_investigators(shared_dir: Path) -> None:
    trial = load(shared_dir, "NCT05380726")
    assert trial.overall_status is OverallStatus.NOT_YET_RECRUITING
    assert [(c.agency_class, c.name) for c in trial.collaborators] == [
        ("OTHER", "Institut de Recerca Biomèdica de Lleida"),
        ("OTHER", "Horizon 2020 - European Commission"),
    ]
    assert [c.name for c in trial.central_contacts] == ["Oriol o Martínez-Navarro", "Fran Valenzuela-Pascual"]
    assert trial.central_contacts[0].phone == "619562618 ext. +34"
    assert trial.interventions[0].type == "BEHAVIORAL"
    assert trial.interventions[0].other_names == [
        "hygienic-dietary measures",
        "sleep related habits",
        "physical activity",
    ]
    assert [a.type for a in trial.arms] == ["EXPERIMENTAL", "ACTIVE_COMPARATOR"]
    assert "\r" not in (trial.arms[0].description or "")
    roles = [contact.role for contact in trial.sites[0].contacts]
    assert roles[:3] == ["CONTACT", "CONTACT", "PRINCIPAL_INVESTIGATOR"]
    assert set(roles[3:]) == {"SUB_INVESTIGATOR"}


def test_legacy_wordings_are_mapped(shared_dir: Path) -> None:
    assert load(shared_dir, "NCT05482568").phases == [Phase.PHASE1, Phase.PHASE2]
    assert load(shared_dir, "NCT05381714").study_type is StudyType.OBSERVATIONAL  # "Observational [Patient Registry]"
    assert [c.agency_class for c in load(shared_dir, "NCT00739921").collaborators] == ["FED"]
    stopped = load(shared_dir, "NCT00739882")
    assert stopped.overall_status is OverallStatus.TERMINATED
    assert stopped.why_stopped is not None
    assert stopped.why_stopped.startswith("The study was terminated after the European Medicines Agency")
    nih = load(shared_dir, "NCT00055081")
    assert ("R01MH067148", "NIH") in [(rid.id, rid.type) for rid in nih.ids]
    assert ("DSIR 82-SEMS", "OTHER") in [(rid.id, rid.type) for rid in nih.ids]
    types = {i.type for path in XML_FILES for i in trial_from_xml(path.read_bytes(), "x").interventions}
    assert {"DIETARY_SUPPLEMENT", "DIAGNOSTIC_TEST", "BIOLOGICAL", "DRUG"} <= types


def test_minimal_record_and_secondary_id_detection() -> None:
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<clinical_study>
  <id_info>
    <org_study_id>CRUK/12/034</org_study_id>
    <secondary_id>2011-000984-25</secondary_id>
    <secondary_id>ISRCTN26378526</secondary_id>
    <nct_id>NCT01234567</nct_id>
    <nct_alias>NCT00000042</nct_alias>
  </id_info>
  <brief_title>Étude — Hôpital Necker–Enfants Malades</brief_title>
  <eligibility><minimum_age>6 Months</minimum_age><maximum_age>17 Years</maximum_age></eligibility>
</clinical_study>""".encode()
    trial = trial_from_xml(xml, "mem.xml")
    assert [(rid.id, rid.type) for rid in trial.ids] == [
        ("NCT01234567", "NCT"),
        ("NCT00000042", "NCT_ALIAS"),
        ("CRUK/12/034", "ORG_STUDY_ID"),
        ("2011-000984-25", "EUDRACT"),
        ("ISRCTN26378526", "ISRCTN"),
    ]
    assert trial.brief_title == "Étude — Hôpital Necker–Enfants Malades"
    assert str(trial.eligibility.minimum_age) == "6 Months"
    assert trial.eligibility.std_ages == ["CHILD"]
    assert trial.overall_status is None
    assert trial.sites == []


def test_clean_textblock() -> None:
    raw = "\r\n        Inclusion Criteria:\r\n\r\n          -  One\r\n             two\r\n\r\n\r\n\r\n"
    raw += "        Done\r\n   "
    assert clean_textblock(raw) == "Inclusion Criteria:\n\n  -  One\n     two\n\nDone"
    # Text whose first line was stripped by some tool still loses the indentation of the rest.
    assert clean_textblock("Inclusion Criteria:\n\n          -  One\n             two") == (
        "Inclusion Criteria:\n\n-  One\n   two"
    )
    assert clean_textblock("   \r\n  ") is None


@pytest.mark.parametrize(
    ("minimum", "maximum", "groups"),
    [
        (None, None, ["CHILD", "ADULT", "OLDER_ADULT"]),
        ("18 Years", None, ["ADULT", "OLDER_ADULT"]),
        ("18 Years", "65 Years", ["ADULT", "OLDER_ADULT"]),
        ("18 Years", "64 Years", ["ADULT"]),
        (None, "17 Years", ["CHILD"]),
        ("0 Weeks", "16 Weeks", ["CHILD"]),
        ("1 Year", "18 Years", ["CHILD", "ADULT"]),
        ("65 Years", None, ["OLDER_ADULT"]),
    ],
)
def test_std_ages(minimum: str | None, maximum: str | None, groups: list[str]) -> None:
    assert std_ages(parse_age(minimum), parse_age(maximum)) == groups


# --- refusals ------------------------------------------------------------------------------


def test_malformed_xml_says_where() -> None:
    with pytest.raises(RecordError, match=r"line 3, column \d+"):
        trial_from_xml(b"<clinical_study>\n  <id_info>\n  </clinical_study>", "bad.xml")


@pytest.mark.parametrize("data", [b"", b"not xml at all", b"\xff\xfe\x00<"])
def test_non_xml_is_a_record_error(data: bytes) -> None:
    with pytest.raises(RecordError, match="malformed XML"):
        trial_from_xml(data, "bad.xml")


def test_wrong_root_element() -> None:
    with pytest.raises(RecordError, match="<study>, not <clinical_study>"):
        trial_from_xml(b"<study><id_info><nct_id>NCT01234567</nct_id></id_info></study>", "x")


@pytest.mark.parametrize(
    "body",
    ["<id_info><org_study_id>X-1</org_study_id></id_info>", "<id_info><nct_id>  </nct_id></id_info>", ""],
)
def test_missing_nct_id(body: str) -> None:
    with pytest.raises(RecordError, match="nct_id"):
        trial_from_xml(f"<clinical_study>{body}</clinical_study>".encode(), "x")


def test_unreadable_age_is_a_record_error() -> None:
    xml = b"<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info><eligibility>"
    xml += b"<minimum_age>adults</minimum_age></eligibility></clinical_study>"
    with pytest.raises(RecordError, match="minimum_age"):
        trial_from_xml(xml, "x")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE clinical_study [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info><brief_title>&lol9;</brief_title></clinical_study>
"""


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.monotonic()
    # libxml2 may stop the amplification itself while parsing the DTD, or leave it to our check.
    with pytest.raises(RecordError, match="entit"):
        trial_from_xml(BILLION_LAUGHS, "laughs.xml")
    assert time.monotonic() - started < 2


def test_local_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = f"""<?xml version="1.0"?>
<!DOCTYPE clinical_study [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>
<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info><brief_title>&xxe;</brief_title></clinical_study>
""".encode()
    with pytest.raises(RecordError, match="entities") as caught:
        trial_from_xml(xml, "xxe.xml")
    assert "TOP-SECRET" not in str(caught.value)


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads what the server saw

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY remote "FETCHED">')

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_network_entities_and_dtds_are_never_fetched() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        documents = [
            f'<!DOCTYPE clinical_study [<!ENTITY ext SYSTEM "{base}/entity">]>'
            "<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info><brief_title>&ext;</brief_title>"
            "</clinical_study>",
            f'<!DOCTYPE clinical_study [<!ENTITY % pe SYSTEM "{base}/param"> %pe;]>'
            "<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info><brief_title>&remote;</brief_title>"
            "</clinical_study>",
        ]
        for document in documents:
            with pytest.raises(RecordError):
                trial_from_xml(document.encode(), "remote.xml")
        external_dtd = (
            f'<!DOCTYPE clinical_study SYSTEM "{base}/study.dtd">'
            "<clinical_study><id_info><nct_id>NCT01234567</nct_id></id_info></clinical_study>"
        )
        # A DOCTYPE that only names an external DTD is harmless once the DTD isn't loaded.
        assert trial_from_xml(external_dtd.encode(), "dtd.xml").id == "NCT01234567"
        assert _Recorder.hits == []
        # The recorder does see a real request, so the empty list above means nothing was fetched.
        with urllib.request.urlopen(f"{base}/ping", timeout=5) as response:
            response.read()
        assert _Recorder.hits == ["/ping"]
    finally:
        server.shutdown()
        server.server_close()
