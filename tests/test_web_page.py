"""Free-text trial pages (plain text or HTML) become Trial records, field by field.

The five seeds are real pages from ../shared/seeds. The HTML versions and the other portals' pages
below are written here, to show the importer works from headings and wording, not from any one page.
"""

from __future__ import annotations

import contextlib
import html
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.trials.errors import RecordError
from trialmatch.trials.record import OverallStatus, Phase, StudyType, Trial
from trialmatch.trials.web_page import trial_from_page

CHROME = ["Clear my responses", "Lorem ipsum", "Rate this page", "cookies", "Sign up", "passcode",
          "private note", "Powered by AI", "Open a glossary item", "Yes No Not Sure",
          "sponsor-provided synopsis", "Check back later", "Freephone", "What is a clinical trial"]


def _seed_path(shared_dir: Path, number: str) -> Path:
    return next((shared_dir / "seeds").glob(f"{number}_*.txt"))


@pytest.fixture(scope="module")
def seeds(shared_dir: Path) -> dict[str, str]:
    return {n: _seed_path(shared_dir, n).read_text("utf-8") for n in ("000", "001", "002", "003", "004")}


@pytest.fixture(scope="module")
def trials(seeds: dict[str, str], shared_dir: Path) -> dict[str, Trial]:
    return {n: trial_from_page(text, str(_seed_path(shared_dir, n))) for n, text in seeds.items()}


def criteria(trial: Trial) -> tuple[list[str], list[str]]:
    """Items back out of the CT.gov-style criteria text: one "* " line per item."""
    text = trial.eligibility.criteria_text or ""
    inclusion, _, exclusion = text.partition("Exclusion Criteria:")
    return ([line[2:] for line in inclusion.splitlines() if line.startswith("* ")],
            [line[2:] for line in exclusion.splitlines() if line.startswith("* ")])


# --- the five seeds, field by field -----------------------------------------------------------

TITLES = {
    "000": "A trial looking at blinatumomab for people with acute lymphoblastic leukaemia (ALL)",
    "001": "A Phase 1/2 Open-label Study to Investigate the Safety, Efficacy, and Pharmacokinetics of "
           "Administration of Subcutaneous Blinatumomab for the Treatment of Adults With Relapsed or "
           "Refractory B Cell Precursor Acute Lymphoblastic Leukemia (R/R B-ALL)",
    "002": "Blinatumomab (infant ALL)",
    "003": "Blinatumomab in Pediatric B-cell Acute Lymphoblastic Leukemia (ALL) With Minimal Residual Disease (MRD)",
    "004": "Study of Blinatumomab Administration in Chinese Pediatric Participants With Relapsed/Refractory "
           "B Precursor Acute Lymphoblastic Leukemia (R/R B-ALL)",
}


@pytest.mark.parametrize("number", sorted(TITLES))
def test_title(trials: dict[str, Trial], number: str) -> None:
    assert trials[number].brief_title == TITLES[number]


@pytest.mark.parametrize(("number", "expected_id", "ids"), [
    ("000", "CRUK-8795", [("8795", "CRUK", "Cancer Research UK")]),
    ("001", "NCT04521231", [("NCT04521231", "NCT", None)]),
    ("003", "NCT04604691", [("NCT04604691", "NCT", None)]),
    ("004", "NCT06054113", [("NCT06054113", "NCT", None), ("20190359", "ORG_STUDY_ID", "Amgen")]),
])
def test_registry_ids(trials: dict[str, Trial], number: str, expected_id: str,
                      ids: list[tuple[str, str, str | None]]) -> None:
    trial = trials[number]
    assert trial.id == expected_id
    assert [(i.id, i.type, i.domain) for i in trial.ids] == ids


def test_a_page_without_ids_gets_a_stable_id_from_its_title(trials: dict[str, Trial], seeds: dict[str, str]) -> None:
    trial = trials["002"]
    assert trial.ids == []
    assert re.fullmatch(r"PAGE-[0-9A-F]{12}", trial.id)
    again = trial_from_page(seeds["002"], "elsewhere.txt")
    assert again.id == trial.id
    assert again.content_hash() == trial.content_hash()
    retitled = trial_from_page(seeds["002"].replace("Blinatumomab (infant ALL)", "Blinatumomab (infant  all)"), "x")
    assert retitled.id == trial.id  # case and spacing don't change the id


@pytest.mark.parametrize(("number", "status", "wording"), [
    ("000", OverallStatus.ACTIVE_NOT_RECRUITING, "no longer recruiting"),
    ("001", None, None),
    ("002", OverallStatus.ACTIVE_NOT_RECRUITING, "closed for inclusion"),
    ("003", OverallStatus.ACTIVE_NOT_RECRUITING, "Non Recruiting"),
    ("004", OverallStatus.ACTIVE_NOT_RECRUITING, "ACTIVE_NOT_RECRUITING"),
])
def test_status(trials: dict[str, Trial], number: str, status: OverallStatus | None, wording: str | None) -> None:
    assert (trials[number].overall_status, trials[number].status_text) == (status, wording)


@pytest.mark.parametrize(("number", "phases"), [
    ("000", [Phase.PHASE2]),
    ("001", [Phase.PHASE1, Phase.PHASE2]),  # from "A Phase 1/2 … Study" in the title
    ("002", []),
    ("003", [Phase.PHASE1]),
    ("004", [Phase.PHASE2]),
])
def test_phases(trials: dict[str, Trial], number: str, phases: list[Phase]) -> None:
    assert trials[number].phases == phases


def _age(limit: object) -> tuple[float, str, str] | None:
    return None if limit is None else (limit.value, limit.unit, limit.text)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("number", "minimum", "maximum", "reference"), [
    ("000", (18, "Years", "at least 18 years old"), None, "enrollment"),
    ("001", (18, "Years", "18 years or older"), None, "enrollment"),
    ("002", (0, "Years", "0-1 year at diagnosis"), (1, "Years", "0-1 year at diagnosis"), "diagnosis"),
    ("003", None, (17, "Years", "17 years and younger"), "enrollment"),
    # the structured pair wins over the criterion "> 1 month and < 18 years"
    ("004", (1, "Months", "1 Month"), (204, "Months", "204 Months"), "enrollment"),
])
def test_ages(trials: dict[str, Trial], number: str, minimum: tuple | None, maximum: tuple | None,
              reference: str) -> None:
    eligibility = trials[number].eligibility
    assert _age(eligibility.minimum_age) == minimum
    assert _age(eligibility.maximum_age) == maximum
    assert eligibility.age_reference == reference


@pytest.mark.parametrize(("number", "sex", "healthy"), [
    ("000", None, None), ("001", None, None), ("002", None, None), ("003", "ALL", None), ("004", "ALL", False),
])
def test_sex_and_healthy_volunteers(trials: dict[str, Trial], number: str, sex: str | None,
                                    healthy: bool | None) -> None:
    assert (trials[number].eligibility.sex, trials[number].eligibility.healthy_volunteers) == (sex, healthy)


@pytest.mark.parametrize(("number", "enrollment", "study_type"), [
    ("000", 100, None), ("001", None, None), ("002", None, None), ("003", None, None),
    ("004", 18, StudyType.INTERVENTIONAL),
])
def test_enrollment_and_study_type(trials: dict[str, Trial], number: str, enrollment: int | None,
                                   study_type: StudyType | None) -> None:
    assert (trials[number].enrollment, trials[number].study_type) == (enrollment, study_type)


@pytest.mark.parametrize(("number", "conditions"), [
    ("000", ["Acute leukaemia", "Acute lymphoblastic leukaemia (ALL)", "Blood cancers"]),
    ("001", ["B Cell Precursor Acute Lymphoblastic Leukemia"]),
    ("003", ["Pediatric ALL", "B Cell", "Minimal Residual Disease"]),
    # no list on the page: the vocabulary reads the title
    ("002", ["Acute lymphoblastic leukemia"]),
    ("004", ["B-cell acute lymphoblastic leukemia"]),
])
def test_conditions(trials: dict[str, Trial], number: str, conditions: list[str]) -> None:
    assert trials[number].conditions == conditions


@pytest.mark.parametrize(("number", "interventions"), [
    ("000", [("Blinatumomab", "DRUG", None)]),  # from the title, through the vocabulary
    ("001", [("Blinatumomab", None, None)]),  # "Treatment Blinatumomab"
    ("002", [("Blinatumomab", "DRUG", None)]),
    ("003", [("Blinatumomab", "DRUG", None)]),
    ("004", [("Blinatumomab", None, "Administered via CIVI")]),  # the "Interventions" section
])
def test_interventions(trials: dict[str, Trial], number: str, interventions: list[tuple]) -> None:
    assert [(i.name, i.type, i.description) for i in trials[number].interventions] == interventions


@pytest.mark.parametrize(("number", "first", "last"), [
    ("000", "This trial is looking at a new drug called blinatumomab for people who have pre B cell",
     "can help stop or slow down the growth of ALL."),
    ("001", "The study aims to evaluate the safety, efficacy, and tolerability of subcutaneous (SC) blinatumomab",
     "recommended phase 2 dose (RP2D) of SC administered blinatumomab."),
    ("002", "Clinical study of the feasibility, safety and efficacy of adding blinatumomab",
     "We will also determine whether blinatumomab is effective in these infants."),
    ("003", "This is a single-arm, open-label, multi-center phase I study using blinatumomab",
     "children with B-precursor ALL with MRD positive are insufficient."),
])
def test_summary(trials: dict[str, Trial], number: str, first: str, last: str) -> None:
    summary = trials[number].brief_summary or ""
    assert summary.startswith(first)
    assert summary.endswith(last)
    assert "(in remission)," in summary or number != "000"  # the glossary link text is gone


def test_summary_has_no_portal_descriptions_or_notices(trials: dict[str, Trial]) -> None:
    assert trials["004"].brief_summary is None  # the mirror shows only "Review the sponsor-provided synopsis …"
    assert trials["004"].detailed_description is None
    assert "Please note" not in (trials["000"].brief_summary or "")
    assert "closed for inclusion" not in (trials["002"].detailed_description or "")
    assert (trials["002"].detailed_description or "").startswith("Approximately four percent of children")
    assert (trials["000"].detailed_description or "").startswith("The trial will recruit 100 people")


INCLUSION_000 = [
    "Have pre B cell acute lymphoblastic leukaemia that has gone away but some cells remain in your bone "
    "marrow (MRD)",
    "Have satisfactory blood test results",
    "Are well enough to carry out all your normal activities, apart from heavy physical work (performance "
    "status of 0 or 1)",
    "Are willing to use reliable contraception during the study and for 3 months afterwards if there is any "
    "chance that you or your partner could become pregnant",
    "Are at least 18 years old",
]
EXCLUSION_000 = [
    "Have any other cancer, apart from carcinoma in situ of the cervix or non melanoma skin cancer",
    "Have any medical illness that is a cause for concern",
    "Have or have had autoimmune disease",
    "Have had a stem cell transplant using donor cells in the past",
    "Have had a stem cell transplant using your own cells in the last 6 weeks",
    "Have had treatment with monoclonal antibodies eg rituximab and alemtuzumab in the last 4 weeks",
    "Have had any treatment in a trial in the last 4 weeks",
    "Know you are allergic to blinatumomab or immunoglobulin",
    "Have had chemotherapy in the last 2 weeks",
    "Have had radiotherapy in the last 4 weeks",
    "Have HIV, hepatitis B or hepatitis C",
    "Are pregnant or breastfeeding",
]
INCLUSION_001 = [
    "Aged 18 years or older",
    "Participants with B-precursor ALL with any of the following",
    "Either refractory to primary induction therapy or refractory to first, second, third, or more than third "
    "salvage therapy OR",
    "In untreated first, second, third or greater relapse or refractory relapse",
    "First Relapse is defined as achievement of first Complete Remission (CR) [CR1] during upfront therapy then "
    "relapse during or after continuation therapy",
    "Eastern Cooperative Oncology Group (ECOG) Performance Status less than or equal to 2",
    "Primary Refractory disease is defined as the absence of CR after standard induction therapy",
    "Participants with relapse or refractory B Cell ALL Ph+ disease and that are intolerant or refractory to "
    "prior tyrosine kinase inhibitors (TKIs) are eligible",
    "Second relapse or later relapse is defined as relapse after achieving a second CR (CR2) in first or later "
    "salvage",
    "Refractory relapse is defined as lack of CR after salvage treatment",
    "Refractory to salvage is defined as no attainment of CR after salvage",
    "Relapsed or Refractory at any time after first salvage therapy",
    "Relapse at any time after allogenic hematopoietic stem cell transplant (HSCT)",
    "Greater than or equal to 5% blasts in the Bone Marrow",
    "The above is a summary, other inclusion criteria details may apply",
]
EXCLUSION_001 = [
    "History or presence of clinically relevant CNS pathology such as epilepsy, childhood or adult seizure, "
    "paresis, aphasia, stroke, severe brain injuries, dementia, Parkinson's disease, cerebellar disease, organic "
    "brain syndrome or psychosis",
    "History of malignancy (with certain exceptions) other than ALL within 3 years prior to start of "
    "protocol-specified therapy",
    "Allogeneic HSCT within 12 weeks before the start of protocol-specified therapy",
    "Immunotherapy within 4 weeks before start of protocol-specified therapy. Prior failed CD19 directed therapy "
    "such as prior blinatumomab or CD19 CAR T cells will be allowed, if treatment ended more than 4 weeks prior "
    "to start of protocol therapy",
    "Currently receiving treatment in, or less than 30 days since ending treatment on another investigational "
    "study(ies)",
    "Abnormal screening laboratory parameters",
    "Active ALL in the central nervous system (CNS). Presence of greater than 5 white blood cells per cubic "
    "millimeter in cerebrospinal fluid (CSF) with lymphoblasts present and/or clinical signs of CNS leukemia",
    "Female participant: Expected to breastfeed during treatment and for 96 hours after the last dose of "
    "treatment",
    "Symptoms and/or signs that indicate an acute or uncontrolled chronic infection, any other disease or "
    "condition that could be exacerbated by the treatment or would complicate protocol compliance",
    "Cancer chemotherapy within 2 weeks before the start of protocol-specified therapy (with certain exceptions)",
    "The above is a summary, other exclusion criteria details may apply",
]
INCLUSION_004 = [
    "Pediatric participants aged > 1 month and < 18 years at the time of informed consent",
    "Relapsed or/refractory precursor B-cell acute lymphoblastic leukemia (ALL) disease, defined as ≥5% bone "
    "marrow blasts with at least one of the following:",
    "Second or later bone marrow relapse;",
    "Any marrow relapse after allogeneic hematopoietic stem cell transplant (alloHSCT);",
    "Refractory to other treatments:",
    "For participants in first relapse: failure to achieve a complete remission (CR) following a full standard "
    "reinduction chemotherapy regimen",
    "For participants who have not achieved a first remission, failure to achieve remission following a full "
    "standard induction regimen",
    "Karnofsky performance status ≥ 50% for participants ≥ 16 years",
    "Lansky performance status ≥ 50% for participants < 16 years",
]
EXCLUSION_004 = [
    "Clinically relevant CNS pathology requiring treatment (eg, unstable epilepsy).",
    "Isolated extramedullary (EM) disease.",
    "Active malignancy other than ALL.",
    "Burkitt's leukemia according to the World Health Organization (WHO) 2016 criteria.",
    "Abnormal renal or hepatic function at screening as defined below:",
    "Abnormal serum creatinine based on age/gender as described by Threshold Creatinine Values",
    "Direct bilirubin > 1.5 mg/dl (25.6 μmol/L) at screening (unless related to Gilbert's or Meulengracht "
    "disease).",
    "Symptoms and/or clinical signs and/or radiological and/or sonographic signs that indicate an acute or "
    "uncontrolled chronic infection, any other concurrent disease or medical condition that could be "
    "exacerbated by the treatment or would seriously complicate compliance with the protocol.",
    "Known infection with human immunodeficiency virus (HIV) or chronic infection with hepatitis B virus "
    "(hepatitis B surface antigen [HBsAg] positive) or hepatitis C virus (HCV) (anti-HCV positive).",
    "Known hypersensitivity to blinatumomab or any of the products or components of the blinatumomab "
    "formulation.",
    "AlloHSCT within 12 weeks prior to start of protocol-specified therapy.",
    "Active acute or chronic Graft-versus-Host-Disease (GvHD) requiring systemic treatment with "
    "immunosuppressive medication.",
    "Radiotherapy within 2 weeks prior to start of protocol-specified therapy.",
    "Immunotherapy (eg, rituximab) within 4 weeks prior to start of protocol-specified therapy. Prior failed "
    "cluster of differentiation 19 (CD19) directed therapy such as prior blinatumomab or CD19 chimeric antigen "
    "receptor T cells (CAR T cell) will be allowed (with demonstrated continued CD19+ expression) if treatment "
    "ended > 4 weeks prior to start of protocol-specified therapy.",
    "Cancer chemotherapy within 2 weeks before the start of protocol-specified therapy. With the exception of "
    "intrathecal chemotherapy and/or low dose maintenance therapy for example vinca alkaloids, mercaptopurine, "
    "methotrexate, or hydroxyurea or pre-phase chemotherapy and/or dexamethasone. Any low dose chemotherapy as "
    "stated above must be discontinued before starting pre-phase.",
    "Currently receiving treatment in another investigational device or drug study, or less than 4 weeks since "
    "ending treatment on another investigational device or drug study(ies). Other investigational procedures "
    "while participating in this study are excluded.",
    "Female participants of childbearing potential with a positive pregnancy test assessed at Screening by a "
    "highly sensitive urine or serum pregnancy test.",
    "Female participants who are breastfeeding or who plan to breastfeed while on study through 12 months after "
    "the last dose of protocol-required treatment with highest teratogenic risk.",
    "Female participants of childbearing potential unwilling to use protocol-specified method of contraception "
    "during treatment and for an additional 12 months after the last dose of protocol-required treatment with "
    "highest teratogenic risk.",
    "Male participants with a female partner of childbearing potential who are unwilling to practice sexual "
    "abstinence (refrain from heterosexual intercourse) or use contraception during treatment and for an "
    "additional 6 months after the last dose of protocol-required therapy with highest teratogenic risk.",
    "Participant likely to not be available to complete all protocol-required study visits or procedures, "
    "and/or to comply with all required study procedures to the best of the participant and investigator's "
    "knowledge.",
    "Female participants planning to become pregnant while on study through 12 months after the last dose of "
    "protocol-required treatment with highest teratogenic risk.",
    "Male participants unwilling to abstain from donating sperm during treatment and for an additional 6 months "
    "after the last dose of protocol-required treatment with highest teratogenic risk.",
]


@pytest.mark.parametrize(("number", "inclusion", "exclusion"), [
    ("000", INCLUSION_000, EXCLUSION_000),
    ("001", INCLUSION_001, EXCLUSION_001),
    ("004", INCLUSION_004, EXCLUSION_004),
])
def test_criteria_items_exactly(trials: dict[str, Trial], number: str, inclusion: list[str],
                                exclusion: list[str]) -> None:
    assert criteria(trials[number]) == (inclusion, exclusion)


def test_criteria_counts_and_edges(trials: dict[str, Trial]) -> None:
    inclusion_002, exclusion_002 = criteria(trials["002"])
    assert len(inclusion_002) == 2 and exclusion_002 == []
    assert inclusion_002[1] == "Age: 0-1 year at diagnosis."
    inclusion_003, exclusion_003 = criteria(trials["003"])
    assert (len(inclusion_003), len(exclusion_003)) == (8, 12)
    assert inclusion_003[1] == "Age <18 years at the time of informed consent/assent"
    assert exclusion_003[-1].startswith("Active infection, any other concurrent disease")
    # sub-headings of the mirror are not items; its trailing age/sex values are not items either
    _, exclusion_004 = criteria(trials["004"])
    assert not {"Other Medical Conditions", "Prior/Concomitant Therapy", "Other Exclusions", "1 Month", "ALL",
                "No"} & set(exclusion_004)


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_criteria_text_is_ctgov_markdown(trials: dict[str, Trial], number: str) -> None:
    text = trials[number].eligibility.criteria_text or ""
    assert text.startswith("Inclusion Criteria:\n\n* ")
    inclusion, exclusion = criteria(trials[number])
    rebuilt = "Inclusion Criteria:\n\n" + "\n".join(f"* {i}" for i in inclusion)
    if exclusion:
        rebuilt += "\n\nExclusion Criteria:\n\n" + "\n".join(f"* {i}" for i in exclusion)
    assert text == rebuilt


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_no_page_chrome_anywhere(trials: dict[str, Trial], number: str) -> None:
    dumped = trials[number].model_dump_json(exclude={"provenance"}).lower()
    for chrome in CHROME:
        assert chrome.lower() not in dumped, chrome


def test_sites(trials: dict[str, Trial]) -> None:
    sites = trials["004"].sites
    assert len(sites) == 7
    assert {(s.city, s.country) for s in sites} >= {("Shanghai", "China"), ("Hefei", "China")}
    shanghai = next(s for s in sites if s.city == "Shanghai")
    assert (shanghai.facility, shanghai.state) == ("Shanghai Children's Medical Center", "Shanghai Municipality")
    tianjin = sites[-1]
    assert tianjin.facility == "Institute of Hematology & Blood Diseases Hospital, Chinese Academy of Medical Sciences"
    assert all(not trials[n].sites for n in ("000", "001", "002", "003"))


def test_sponsors_and_officials(trials: dict[str, Trial]) -> None:
    amgen = trials["004"].lead_sponsor
    assert amgen is not None and (amgen.name, amgen.agency_class) == ("Amgen", "INDUSTRY")
    assert [(o.name, o.role, o.affiliation) for o in trials["004"].officials] == [("MD", "STUDY_DIRECTOR", "Amgen")]
    snuh = trials["003"].lead_sponsor
    assert snuh is not None and snuh.name == "Seoul National University Hospital"
    cruk = trials["000"]
    assert cruk.lead_sponsor is None
    assert [c.name for c in cruk.collaborators] == ["Experimental Cancer Medicine Centre (ECMC)",
                                                     "NIHR Clinical Research Network: Cancer"]
    assert [(o.name, o.role) for o in cruk.officials] == [("Professor Adele Fielding", "PRINCIPAL_INVESTIGATOR")]
    assert trials["001"].lead_sponsor is None and trials["002"].lead_sponsor is None


@pytest.mark.parametrize(("number", "start", "completion", "updated"), [
    ("000", None, None, None),
    ("001", None, "2025-05-07", "2022-10-14"),
    ("002", None, None, "2022-02-21"),
    ("003", None, None, None),
    ("004", "2024-07-23", "2027-10-14", "2025-11-13"),
])
def test_dates(trials: dict[str, Trial], number: str, start: str | None, completion: str | None,
               updated: str | None) -> None:
    trial = trials[number]
    assert (trial.start_date, trial.completion_date, trial.last_update_posted) == (start, completion, updated)
    assert trial.provenance.source_last_update == updated


def test_provenance(trials: dict[str, Trial], shared_dir: Path) -> None:
    trial = trials["003"]
    assert trial.provenance.source == "web-page"
    assert trial.provenance.location == str(_seed_path(shared_dir, "003"))


# --- the same seeds as HTML -------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:•|\*|\\-)\s+")
_HOSTILE = '<script>alert("x1")</script><img src=x onerror="alert(\'x2\')"><style>li{}</style>'


def as_html(text: str) -> str:
    """A plain seed as a web page: <h1> title, <h2> headings, <ul><li> bullets, <p> for the rest, with a
    navigation bar, scripts and an injection inside the first criterion."""
    lines = text.splitlines()
    out = ["<!DOCTYPE html><html><head><title>Trial</title><script>document.write('Inclusion Criteria')"
           "</script></head><body><nav><a href='/'>Home</a> | <a href='/find'>Find a trial</a></nav>",
           "<!-- Rate this page --><div hidden>Exclusion Criteria</div>",
           f"<main><h1>{html.escape(lines[0])}</h1>"]
    in_list = injected = False
    for line in lines[1:]:
        bullet = _BULLET.match(line)
        if bullet:
            out.append("" if in_list else "<ul>")
            item = html.escape(line[bullet.end():])
            if not injected and any(h in text for h in ("Inclusion", "Who can enter")):
                item, injected = item + _HOSTILE, True
            out.append(f"<li>{item}</li>")
            in_list = True
            continue
        out.append("</ul>" if in_list else "")
        in_list = False
        if line.strip():
            tag = "h2" if len(line.split()) <= 6 and not line.strip().endswith(".") else "p"
            out.append(f"<{tag}>{html.escape(line.strip())}</{tag}>")
    out.append("</ul>" if in_list else "")
    out.append("<noscript>Enable JavaScript to use this site</noscript></main></body></html>")
    return "\n".join(out)


@pytest.mark.parametrize("number", ["000", "001", "002", "003", "004"])
def test_html_page_gives_the_same_trial(trials: dict[str, Trial], seeds: dict[str, str], number: str) -> None:
    from_html = trial_from_page(as_html(seeds[number]), "page.html", html=True)
    expected = trials[number]
    assert from_html.brief_title == expected.brief_title
    assert criteria(from_html) == criteria(expected)
    for name in ("id", "ids", "overall_status", "status_text", "phases", "enrollment", "conditions",
                 "interventions", "lead_sponsor", "collaborators", "officials", "sites", "completion_date",
                 "last_update_posted"):
        assert getattr(from_html, name) == getattr(expected, name), name
    assert from_html.eligibility.minimum_age == expected.eligibility.minimum_age
    assert from_html.eligibility.maximum_age == expected.eligibility.maximum_age
    dumped = from_html.model_dump_json().lower()
    for hostile in ("alert", "onerror", "<script", "document.write", "javascript", "home | find"):
        assert hostile not in dumped


# --- other portals: nothing above is seed-specific --------------------------------------------

NHS_STYLE = """We use cookies to make this site work. Accept all cookies
Skip to main content

Adding blinatumomab to chemotherapy for adults with newly diagnosed B-cell ALL

Recruitment status: Open
Study type: Interventional
Phase: Phase 3
Age 16 years to 75 years
Sex: Male and female
Healthy volunteers: No
Target enrolment: 420
ISRCTN12345678
IRAS ID: 301234
Study start date: 1 March 2024
Recruitment end date: 31 December 2026
Last updated: 5 June 2025

Summary

This study is testing whether adding blinatumomab to standard chemotherapy helps adults with newly \
diagnosed B-cell acute lymphoblastic leukaemia stay in remission for longer.

Everyone in the study has chemotherapy; half of the people also have blinatumomab.

Health condition(s)
Acute lymphoblastic leukaemia
Philadelphia-negative disease

Intervention(s)
Drug: Blinatumomab
Drug: Chemotherapy

Who can take part
- You are 16 to 75 years old
- You have newly diagnosed B-cell ALL
- You are well enough to have intensive chemotherapy

Who can't take part
- You have Burkitt leukaemia
- You have had a stem cell transplant
- You are pregnant or breastfeeding

Sponsor
University College London

Funder
Cancer Research UK

Chief Investigator: Dr Jane Smith

Locations
St James's University Hospital
Leeds, United Kingdom

University College London Hospitals
London, UK

Queen Elizabeth Hospital
Birmingham, England, United Kingdom

Was this page helpful?
Share this page
"""


def _check_nhs_style(trial: Trial) -> None:
    assert trial.brief_title == "Adding blinatumomab to chemotherapy for adults with newly diagnosed B-cell ALL"
    assert (trial.overall_status, trial.status_text) == (OverallStatus.RECRUITING, "Open")
    assert (trial.study_type, trial.phases, trial.enrollment) == (StudyType.INTERVENTIONAL, [Phase.PHASE3], 420)
    eligibility = trial.eligibility
    assert (_age(eligibility.minimum_age), _age(eligibility.maximum_age)) == (
        (16, "Years", "16 years to 75 years"), (75, "Years", "16 years to 75 years"))
    assert (eligibility.sex, eligibility.healthy_volunteers) == ("ALL", False)
    assert [(i.id, i.type) for i in trial.ids] == [("ISRCTN12345678", "ISRCTN"), ("301234", "IRAS")]
    assert trial.id == "ISRCTN-ISRCTN12345678"
    assert (trial.start_date, trial.last_update_posted) == ("2024-03-01", "2025-06-05")
    assert (trial.brief_summary or "").startswith("This study is testing whether adding blinatumomab")
    assert (trial.brief_summary or "").endswith("half of the people also have blinatumomab.")
    assert trial.conditions == ["Acute lymphoblastic leukaemia", "Philadelphia-negative disease"]
    assert [(i.name, i.type) for i in trial.interventions] == [("Blinatumomab", "DRUG"), ("Chemotherapy", "DRUG")]
    assert criteria(trial) == (
        ["You are 16 to 75 years old", "You have newly diagnosed B-cell ALL",
         "You are well enough to have intensive chemotherapy"],
        ["You have Burkitt leukaemia", "You have had a stem cell transplant", "You are pregnant or breastfeeding"])
    assert trial.lead_sponsor is not None and trial.lead_sponsor.name == "University College London"
    assert [c.name for c in trial.collaborators] == ["Cancer Research UK"]
    assert [(o.name, o.role) for o in trial.officials] == [("Dr Jane Smith", "PRINCIPAL_INVESTIGATOR")]
    assert [(s.facility, s.city, s.state, s.country) for s in trial.sites] == [
        ("St James's University Hospital", "Leeds", None, "United Kingdom"),
        ("University College London Hospitals", "London", None, "UK"),
        ("Queen Elizabeth Hospital", "Birmingham", "England", "United Kingdom")]
    dumped = trial.model_dump_json().lower()
    assert "cookies" not in dumped and "helpful" not in dumped and "skip to" not in dumped


def test_a_registry_style_page_in_text() -> None:
    _check_nhs_style(trial_from_page(NHS_STYLE, "nhs.txt"))


def test_a_registry_style_page_in_html() -> None:
    body = []
    for block in NHS_STYLE.split("\n\n"):
        lines = block.strip().splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            body.append("<ul>" + "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            body += [f"<p>{html.escape(line)}</p>" for line in lines]
    markup = ("<html><body><header><a href='/'>Be Part of Research</a><a href='/search'>Find a study</a>"
              "</header><h1>Adding blinatumomab to chemotherapy for adults with newly diagnosed B-cell ALL</h1>"
              + "\n".join(body) + "<footer>© Crown copyright</footer></body></html>")
    _check_nhs_style(trial_from_page(markup, "nhs.html", html=True))


HOSPITAL_STYLE = """Inotuzumab ozogamicin for children with relapsed CD22-positive leukaemia

This study is currently recruiting.

Purpose
We want to find out whether inotuzumab ozogamicin is safe for children whose leukaemia has come back.

Key Inclusion Criteria:
1. Aged 1 year and older and younger than 22 years
2. CD22-positive B-cell ALL in second or later relapse
3. Lansky or Karnofsky score of at least 50

Key Exclusion Criteria:
1. Isolated central nervous system relapse
2. Prior inotuzumab ozogamicin

Principal Investigator: Maria Lopez, MD
Protocol number: ABC-2023-07
Clinical trials identifier: NCT01234567
Last reviewed on March 3, 2025
"""


def _check_hospital_style(trial: Trial) -> None:
    assert trial.brief_title == "Inotuzumab ozogamicin for children with relapsed CD22-positive leukaemia"
    assert (trial.overall_status, trial.status_text) == (OverallStatus.RECRUITING, "recruiting")
    assert criteria(trial) == (
        ["Aged 1 year and older and younger than 22 years", "CD22-positive B-cell ALL in second or later relapse",
         "Lansky or Karnofsky score of at least 50"],
        ["Isolated central nervous system relapse", "Prior inotuzumab ozogamicin"])
    assert _age(trial.eligibility.minimum_age) == (1, "Years", "1 year and older")
    assert _age(trial.eligibility.maximum_age) == (22, "Years", "younger than 22 years")
    assert [(i.id, i.type) for i in trial.ids] == [("ABC-2023-07", "ORG_STUDY_ID"), ("NCT01234567", "NCT")]
    assert trial.id == "NCT01234567"
    assert trial.brief_summary == ("We want to find out whether inotuzumab ozogamicin is safe for children whose "
                                   "leukaemia has come back.")
    assert [(o.name, o.role) for o in trial.officials] == [("Maria Lopez, MD", "PRINCIPAL_INVESTIGATOR")]
    assert trial.last_update_posted == "2025-03-03"
    # no intervention list: the vocabulary reads the drug from the title
    assert [(i.name, i.type) for i in trial.interventions] == [("Inotuzumab ozogamicin", "DRUG")]


def test_a_hospital_study_page() -> None:
    _check_hospital_style(trial_from_page(HOSPITAL_STYLE, "hospital.txt"))


def test_html_navigation_before_the_h1_is_not_the_title() -> None:
    lines = HOSPITAL_STYLE.splitlines()
    markup = ("<nav>Children's Hospital Research<br>Find a study<br>Donate</nav>" + "<br>" * 8 +  # a wide gap
              f"<h1>{lines[0]}</h1>" + "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:]))
    _check_hospital_style(trial_from_page(markup, "hospital.html", html=True))


CTGOV_STYLE = """Blinatumomab Versus Chemotherapy for Children With First Relapse of B-ALL

ClinicalTrials.gov ID NCT09876543

Study Overview
Brief Summary
The purpose of this study is to compare blinatumomab with chemotherapy after a first relapse.

Official Title
A Randomized Phase 3 Trial of Blinatumomab Versus Chemotherapy in First Relapse

Conditions
Acute Lymphoblastic Leukemia, Pediatric

Intervention / Treatment
Drug: Blinatumomab
Drug: Chemotherapy

Study Start (Actual)
2021-01-15
Primary Completion (Estimated)
2026-06
Study Completion (Estimated): 2028-12
Enrollment (Estimated)
220
Study Type
Interventional
Phase
Phase 3
Recruitment Status: Recruiting

Eligibility Criteria
Ages Eligible for Study
1 Year to 30 Years (Child, Adult)
Sexes Eligible for Study
All
Accepts Healthy Volunteers
No

Inclusion Criteria:

* First relapse of B-ALL
* Age 1 to 30 years at enrollment

Exclusion Criteria:

* Down syndrome
"""


def test_a_ctgov_study_page_with_qualified_labels() -> None:
    trial = trial_from_page(CTGOV_STYLE, "ctgov.txt")
    assert trial.id == "NCT09876543"
    assert (trial.start_date, trial.primary_completion_date, trial.completion_date) == (
        "2021-01-15", "2026-06", "2028-12")
    assert (trial.enrollment, trial.study_type, trial.phases) == (220, StudyType.INTERVENTIONAL, [Phase.PHASE3])
    assert (trial.overall_status, trial.status_text) == (OverallStatus.RECRUITING, "Recruiting")
    assert trial.conditions == ["Acute Lymphoblastic Leukemia, Pediatric"]
    assert [(i.name, i.type) for i in trial.interventions] == [("Blinatumomab", "DRUG"), ("Chemotherapy", "DRUG")]
    eligibility = trial.eligibility
    assert (_age(eligibility.minimum_age), _age(eligibility.maximum_age)) == (
        (1, "Years", "1 Year to 30 Years"), (30, "Years", "1 Year to 30 Years"))
    assert (eligibility.sex, eligibility.healthy_volunteers) == ("ALL", False)
    assert criteria(trial) == (["First relapse of B-ALL", "Age 1 to 30 years at enrollment"], ["Down syndrome"])
    assert trial.brief_summary == ("The purpose of this study is to compare blinatumomab with chemotherapy after a "
                                   "first relapse.")
    assert trial.official_title == "A Randomized Phase 3 Trial of Blinatumomab Versus Chemotherapy in First Relapse"


# --- untrusted input --------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "   \n\n  ", "\x00\x01\x02", "Inclusion Criteria\n* Age 18 or over",
    "Rate this page:\nShare this page\nLorem ipsum dolor sit amet",
    "1 2 3 4 5 6 7 8 9",
])
def test_pages_without_a_title_are_refused(text: str) -> None:
    with pytest.raises(RecordError, match="title"):
        trial_from_page(text, "junk.txt")


@pytest.mark.parametrize("markup", ["", "   ", "<script>alert(1)</script>", "<html><body></body></html>",
                                    "<?xml version='1.0' encoding='utf-8'?><p>", "<<<>>>"])
def test_empty_or_script_only_html_is_refused(markup: str) -> None:
    with pytest.raises(RecordError):
        trial_from_page(markup, "junk.html", html=True)


def test_non_text_input_is_refused() -> None:
    with pytest.raises(RecordError, match="text"):
        trial_from_page(b"A trial", "x")  # type: ignore[arg-type]


def test_a_50_mb_line_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(RecordError, match="too large"):
        trial_from_page("A" * 50_000_000, "huge.txt")
    with pytest.raises(RecordError, match="too large"):
        trial_from_page("<p>" + "A" * 50_000_000, "huge.html", html=True)
    assert time.perf_counter() - started < 5


def test_a_page_of_too_many_lines_is_refused() -> None:
    with pytest.raises(RecordError, match="lines"):
        trial_from_page("A trial title\n" + "x\n" * 100_000, "long.txt")
    trial_from_page("A trial title\n" + "\n" * 1_000_000 + "Phase 2\n", "gaps.txt")  # blank lines cost nothing


@pytest.mark.parametrize("line", [
    "1 " * 500_000, "Age " + "1-" * 400_000, "Phase " * 250_000, "aged at least " * 100_000,
    "NCT" + "0" * 1_000_000, "(" * 1_000_000, "Last updated:" + " 1" * 400_000,
])
def test_long_adversarial_lines_stay_linear(line: str) -> None:
    started = time.perf_counter()
    for text in (f"A trial title\n\nInclusion Criteria\n\n{line}\n", f"A trial title\n{line}\n"):
        with contextlib.suppress(RecordError):
            trial_from_page(text, "long.txt")
    assert time.perf_counter() - started < 10


def test_binary_junk_gives_a_trial_or_a_record_error() -> None:
    data = bytes(range(256)) * 2000
    for text in (data.decode("latin-1"), data.decode("utf-8", errors="replace"),
                 data.decode("utf-8", errors="surrogateescape")):
        for as_html_ in (False, True):
            try:
                trial = trial_from_page(text, "junk.bin", html=as_html_)
            except RecordError:
                continue
            trial.model_dump_json()  # and it serialises


def test_deeply_nested_html() -> None:
    markup = "<h1>A nested trial page</h1>" + "<div>" * 50_000 + "Inclusion Criteria" + "</div>" * 50_000
    with contextlib.suppress(RecordError):
        trial_from_page(markup, "nested.html", html=True)


_FRAGMENTS = ["\n", "\n\n", "• ", "* ", ": ", "Inclusion Criteria", "Exclusion Criteria", "Phase 2", "NCT01234567",
              "Age 18", "Locations", "Sponsor", "1 Month", "ALL", "No", "<li>", "<h1>", "</p>"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20) | st.sampled_from(_FRAGMENTS), max_size=40).map("".join), st.booleans())
def test_any_text_gives_a_trial_or_a_record_error(text: str, as_html_: bool) -> None:
    try:
        trial = trial_from_page(text, "fuzz", html=as_html_)
    except RecordError:
        return
    assert trial.brief_title
    trial.model_dump_json()
