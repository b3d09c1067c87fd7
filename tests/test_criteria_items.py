"""Criteria text split into an item tree: sections, nesting, groups, notes, exact spans.

Real texts: the five seed pages, rows of both criteria corpora in ../shared and one API v2 record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.criteria import CriteriaItem, CriteriaTree, split_criteria
from trialmatch.trials.web_page import trial_from_page


def _texts(items: tuple[CriteriaItem, ...]) -> list[str]:
    return [item.text for item in items]


def _find(tree: CriteriaTree, start: str) -> CriteriaItem:
    return next(item for item in tree.walk() if item.text.startswith(start))


def _uncovered(tree: CriteriaTree) -> list[int]:
    """Offsets of non-whitespace characters that no span covers."""
    covered = bytearray(len(tree.text))
    for span in tree.spans():
        covered[span.start : span.end] = b"\x01" * (span.end - span.start)
    return [i for i, ch in enumerate(tree.text) if not covered[i] and not ch.isspace()]


def _check_invariants(tree: CriteriaTree) -> None:
    text = tree.text
    for span in tree.spans():
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end].strip()
    for item in tree.walk():
        assert " ".join(text[item.span.start : item.span.end].split()) == item.text
    ids = [item.id for item in tree.walk()]
    assert len(ids) == len(set(ids))
    assert _uncovered(tree) == []


# --- the five seeds ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_trees(shared_dir: Path) -> dict[str, CriteriaTree]:
    trees = {}
    for path in sorted((shared_dir / "seeds").glob("*.txt")):
        trial = trial_from_page(path.read_text("utf-8"), str(path))
        trees[path.name[:3]] = split_criteria(trial.eligibility.criteria_text or "")
    return trees


SEED_000_INCLUSION = [
    "Have pre B cell acute lymphoblastic leukaemia that has gone away but some cells remain in your bone marrow (MRD)",
    "Have satisfactory blood test results",
    "Are well enough to carry out all your normal activities, apart from heavy physical work "
    "(performance status of 0 or 1)",
    "Are willing to use reliable contraception during the study and for 3 months afterwards if there is any chance "
    "that you or your partner could become pregnant",
    "Are at least 18 years old",
]
SEED_000_EXCLUSION_COUNT = 12

SEED_001_INCLUSION = [
    "Aged 18 years or older",
    "Participants with B-precursor ALL with any of the following",
    "Eastern Cooperative Oncology Group (ECOG) Performance Status less than or equal to 2",
    "Relapsed or Refractory at any time after first salvage therapy",
    "Relapse at any time after allogenic hematopoietic stem cell transplant (HSCT)",
    "Greater than or equal to 5% blasts in the Bone Marrow",
]
SEED_001_GROUP = [
    "Either refractory to primary induction therapy or refractory to first, second, third, or more than third "
    "salvage therapy OR",
    "In untreated first, second, third or greater relapse or refractory relapse",
]
SEED_001_DEFINITIONS = {
    "First Relapse is defined as": "In untreated first",
    "Primary Refractory disease is defined as": "Either refractory",
    "Second relapse or later relapse is defined as": "In untreated first",
    "Refractory relapse is defined as": "In untreated first",
    "Refractory to salvage is defined as": "Either refractory",
}
SEED_001_EXCLUSION_STARTS = [
    "History or presence of clinically relevant CNS pathology", "History of malignancy (with certain exceptions)",
    "Allogeneic HSCT within 12 weeks", "Immunotherapy within 4 weeks", "Currently receiving treatment in",
    "Abnormal screening laboratory parameters", "Active ALL in the central nervous system (CNS).",
    "Female participant: Expected to breastfeed", "Symptoms and/or signs that indicate",
    "Cancer chemotherapy within 2 weeks",
]


def test_seed_000_plain_lists(seed_trees: dict[str, CriteriaTree]) -> None:
    tree = seed_trees["000"]
    assert _texts(tree.inclusion()) == SEED_000_INCLUSION
    assert len(tree.exclusion()) == SEED_000_EXCLUSION_COUNT
    assert tree.exclusion()[0].text == ("Have any other cancer, apart from carcinoma in situ of the cervix or non "
                                        "melanoma skin cancer")
    assert tree.exclusion()[-1].text == "Are pregnant or breastfeeding"
    assert [item.id for item in tree.inclusion()] == [f"inc-{n}" for n in range(1, 6)]
    assert all(item.kind == "criterion" and item.marker == "*" for item in tree.walk())
    assert [tree.text[h.start : h.end] for h in tree.headers] == ["Inclusion Criteria:", "Exclusion Criteria:"]


def test_seed_001_items_group_and_definitions(seed_trees: dict[str, CriteriaTree]) -> None:
    tree = seed_trees["001"]
    assert _texts(tree.inclusion()) == SEED_001_INCLUSION
    group = tree.inclusion()[1]
    assert (group.kind, group.combine) == ("group", "any")
    assert _texts(group.children) == SEED_001_GROUP
    assert [item.text[: len(s)] for item, s in zip(tree.exclusion(), SEED_001_EXCLUSION_STARTS, strict=True)] == (
        SEED_001_EXCLUSION_STARTS)
    every_text = [item.text for item in tree.walk()]
    for start, target in SEED_001_DEFINITIONS.items():
        assert not any(text.startswith(start) for text in every_text), start
        note = next(n for item in tree.walk() for n in item.notes if n.text.startswith(start))
        assert note.kind == "definition"
        holder = next(item for item in tree.walk() if note in item.notes)
        assert holder.text.startswith(target), (start, holder.text)


def test_seed_001_disclaimers_and_ph_exception(seed_trees: dict[str, CriteriaTree]) -> None:
    tree = seed_trees["001"]
    assert [(n.kind, n.text) for n in tree.notes] == [
        ("disclaimer", "The above is a summary, other inclusion criteria details may apply"),
        ("disclaimer", "The above is a summary, other exclusion criteria details may apply"),
    ]
    # "… Ph+ … are eligible" widens the disease criteria: a note, never an extra inclusion
    ph_notes = [n for item in tree.walk() for n in item.notes if "Ph+" in n.text]
    assert [n.kind for n in ph_notes] == ["exception"]
    assert not any("Ph+" in item.text for item in tree.walk())


def test_seed_004_nested_any_group(seed_trees: dict[str, CriteriaTree]) -> None:
    tree = seed_trees["004"]
    group = tree.inclusion()[1]
    assert group.text.startswith("Relapsed or/refractory precursor B-cell")
    assert (group.kind, group.combine) == ("group", "any")
    assert _texts(group.children) == [
        "Second or later bone marrow relapse;",
        "Any marrow relapse after allogeneic hematopoietic stem cell transplant (alloHSCT);",
        "Refractory to other treatments:",
    ]
    refractory = group.children[2]
    assert refractory.kind == "group"
    assert [c.text[:40] for c in refractory.children] == [
        "For participants in first relapse: failu", "For participants who have not achieved a"]
    assert _texts(tree.inclusion())[2:] == ["Karnofsky performance status ≥ 50% for participants ≥ 16 years",
                                            "Lansky performance status ≥ 50% for participants < 16 years"]
    assert len(tree.inclusion()) == 4
    assert tree.exclusion()[-1].text.startswith("Male participants unwilling to abstain from donating sperm")


def test_seed_003_inline_exception_stays_in_its_criterion(seed_trees: dict[str, CriteriaTree]) -> None:
    tree = seed_trees["003"]
    assert len(tree.inclusion()) == 8 and len(tree.exclusion()) == 12
    cns = tree.exclusion()[1]
    assert cns.text.endswith("with the except of CNS leukemia that is well controlled with intrathecal therapy")
    assert cns.notes == ()
    # an inline "defined as" in a criterion is part of it, not a definition note
    assert tree.inclusion()[2].text.startswith("B cell precursor ALL in first or later hematologic complete")
    assert not tree.notes


def test_seed_002_label_value_is_one_criterion(seed_trees: dict[str, CriteriaTree]) -> None:
    tree = seed_trees["002"]
    assert _texts(tree.inclusion())[1] == "Age: 0-1 year at diagnosis."
    assert tree.exclusion() == ()


# --- exceptions listed as their own bullets ------------------------------------------------------

CNS_TEXT = """Inclusion Criteria:

* Relapsed or refractory CD19-positive B-ALL
* Age 18 years or older

Exclusion Criteria:

* Active CNS involvement by leukemia (CNS-3)
* Subjects with CNS relapse at the time of relapse are eligible if CNS is successfully treated prior to enrollment
* Known infection with HIV
* Exception: prophylactic intrathecal chemotherapy
"""


def test_standalone_exception_attaches_to_the_exclusion_it_relaxes() -> None:
    tree = split_criteria(CNS_TEXT)
    assert _texts(tree.exclusion()) == ["Active CNS involvement by leukemia (CNS-3)", "Known infection with HIV"]
    cns, hiv = tree.exclusion()
    assert [(n.kind, n.text) for n in cns.notes] == [
        ("exception", "Subjects with CNS relapse at the time of relapse are eligible if CNS is successfully treated "
                      "prior to enrollment")]
    note = cns.notes[0]
    assert CNS_TEXT[note.span.start : note.span.end] == note.text
    assert note.marker_span is not None and CNS_TEXT[note.marker_span.start : note.marker_span.end] == "*"
    assert [n.text for n in hiv.notes] == ["Exception: prophylactic intrathecal chemotherapy"]
    _check_invariants(tree)


def test_no_headers_means_inclusion_and_nested_markdown() -> None:
    text = ("* Age 18 or older\n* Any one of the following:\n  * ANC \\> 1000\n  * Platelets \\> 50,000\n"
            "\\- Not pregnant")
    tree = split_criteria(text)
    assert [item.section for item in tree.walk()] == ["inclusion"] * 5
    group = tree.items[1]
    assert (group.kind, group.combine, group.id) == ("group", "any", "inc-2")
    assert [(c.id, c.text, c.marker) for c in group.children] == [
        ("inc-2.1", "ANC \\> 1000", "*"), ("inc-2.2", "Platelets \\> 50,000", "*")]
    assert (tree.items[2].marker, tree.items[2].text) == ("\\-", "Not pregnant")
    _check_invariants(tree)


def test_numbering_styles_and_wrapped_lines() -> None:
    text = ("Key Inclusion Criteria\n1) Age between 18 and 75 years, who have\n   completed chemotherapy\n"
            "2) Adequate organ function, all of the following:\n   a. ANC >= 1.5 x 10^9/L\n   b. Bilirubin < 1.5 x\n"
            "      ULN\n   i. not a roman child here\n\nWho cannot enter\n• Pregnancy\n+ Prior CD19 therapy\n"
            "o Active infection\n")
    tree = split_criteria(text)
    assert _texts(tree.inclusion()) == ["Age between 18 and 75 years, who have completed chemotherapy",
                                        "Adequate organ function, all of the following:"]
    organ = tree.inclusion()[1]
    assert organ.combine == "all"
    assert [(c.marker, c.text) for c in organ.children] == [
        ("a.", "ANC >= 1.5 x 10^9/L"), ("b.", "Bilirubin < 1.5 x ULN"), ("i.", "not a roman child here")]
    assert [(i.marker, i.text) for i in tree.exclusion()] == [
        ("•", "Pregnancy"), ("+", "Prior CD19 therapy"), ("o", "Active infection")]
    _check_invariants(tree)


# --- the legacy CT.gov layout (hint-trials.jsonl) ------------------------------------------------


@pytest.fixture(scope="module")
def hint_rows(shared_dir: Path) -> dict[str, str]:
    path = shared_dir / "data" / "criteria-corpus" / "hint-trials.jsonl"
    rows = (json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip())
    return {row["nct_id"]: row["criteria"] for row in rows}


def test_legacy_numbered_with_nested_dashes_and_hard_wraps(hint_rows: dict[str, str]) -> None:
    tree = split_criteria(hint_rows["NCT00174785"])
    first = tree.inclusion()[0]
    assert first.marker == "-  1."
    assert first.text == ("Patients aged 75 years or older (70 years before protocol amendment 1), or patients aged "
                          "at least 70 years (any age before protocol amendment 1) with one or more of the following "
                          "risk factors at baseline:")
    assert (first.kind, first.combine) == ("group", "any")
    assert _texts(first.children)[2] == ("Prior cerebrovascular accident (stroke or transient ischemic attack) or "
                                         "systemic embolism")
    assert len(first.children) == 5 and len(tree.inclusion()) == 3
    # exclusion sub-headings label their numbered items
    headings = [item for item in tree.items if item.kind == "heading"]
    assert [h.text for h in headings] == ["General criteria:", "Criteria Related to a cardiac condition:",
                                          "Criteria Related to Concomitant Medications:",
                                          "Criteria Related to Laboratory Abnormalities:"]
    assert len(tree.exclusion()) == 15
    assert tree.exclusion()[-1].text.endswith("<10 ml/min using the Cockroft Gault formula")
    _check_invariants(tree)


def test_legacy_nci_layout(hint_rows: dict[str, str]) -> None:
    tree = split_criteria(hint_rows["NCT00004031"])
    text = tree.text
    assert [text[h.start : h.end] for h in tree.headers] == [
        "DISEASE CHARACTERISTICS:", "PATIENT CHARACTERISTICS:", "PRIOR CONCURRENT THERAPY:"]
    assert tree.inclusion()[0].text == "Histologically proven intermediate- or high-grade non-Hodgkin's lymphoma"
    no_cns = _find(tree, "No CNS involvement")
    assert (no_cns.section, no_cns.negated) == ("exclusion", True)
    age = _find(tree, "Age:")
    assert age.kind == "heading" and [(c.kind, c.section, c.text) for c in age.children] == [
        ("criterion", "inclusion", "15 to 65")]
    assert _find(tree, "Performance status:").children[0].kind == "note"  # "Not specified"
    hepatic = _find(tree, "Hepatic:")
    assert [(c.section, c.text) for c in hepatic.children] == [
        ("inclusion", "Bilirubin no greater than 1.5 times upper limit of normal (ULN)"),
        ("exclusion", "No nonlymphoma-related hepatic dysfunction")]
    assert "Not pregnant or nursing" in _texts(tree.exclusion())
    assert "Creatinine no greater than 2 times ULN" in _texts(tree.inclusion())  # a limit, not a negation
    chemo = _find(tree, "No prior chemotherapy for lymphoma")
    assert [(n.kind, n.text) for n in chemo.notes] == [("exception", "Prior corticosteroids allowed")]
    assert not any(item.text == "Prior corticosteroids allowed" for item in tree.walk())
    _check_invariants(tree)


def test_legacy_or_chains_and_nested_stage_list(hint_rows: dict[str, str]) -> None:
    tree = split_criteria(hint_rows["NCT00003652"])
    anal = tree.inclusion()[0]
    assert anal.text == "Histologically proven nonmetastatic anal cancer"
    stage = anal.children[-1]
    assert (stage.text, stage.kind, stage.combine) == ("Stage II or III", "group", "any")
    assert _texts(stage.children) == ["T2 at least 4 cm OR", "T3 OR", "T4, N0-3, M0 OR", "T1, N1-3 OR",
                                      "T2 (less than 4 cm), N1-3"]
    assert [c.id for c in stage.children][:2] == ["inc-1.5.1", "inc-1.5.2"]
    _check_invariants(tree)


# --- lct-criteria.jsonl: numbered and lettered lists ---------------------------------------------


@pytest.fixture(scope="module")
def lct_rows(shared_dir: Path) -> dict[str, str]:
    path = shared_dir / "data" / "criteria-corpus" / "lct-criteria.jsonl"
    rows = (json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip())
    return {row["nct_id"]: row["criteria"] for row in rows}


def test_lct_numbered_lists(lct_rows: dict[str, str]) -> None:
    tree = split_criteria(lct_rows["NCT03928015"])
    assert [i.marker for i in tree.inclusion()] == ["1.", "2.", "3.", "4.", "5."]
    assert tree.inclusion()[4].text == ("Willing to divulge habitual marijuana usage (yes or no. Yes, habitual/chronic "
                                        "usage; no, recreational, former, or never usage)")
    assert _texts(tree.exclusion())[-2:] == ["Pregnancy or breast feeding", "Incarceration"]
    _check_invariants(tree)


def test_lct_lettered_parent_with_numbered_children(lct_rows: dict[str, str]) -> None:
    tree = split_criteria(lct_rows["NCT03924609"])
    first, second = tree.inclusion()
    assert (first.marker, first.text) == ("A.", "Histologically proven breast cancer confirmed by biopsy or "
                                                "pathological examination of the resected tumor.")
    assert (second.marker, second.kind, second.combine) == ("B.", "group", "any")
    assert [c.marker for c in second.children] == ["1.", "2.", "3.", "4.", "5."]
    assert second.children[3].text == ". Bone metastases indicated by PET-CT"
    _check_invariants(tree)


def test_lct_disclaimer_only_when_it_leads_the_item(lct_rows: dict[str, str]) -> None:
    tree = split_criteria(lct_rows["NCT03924427"])
    assert _texts(tree.exclusion())[-1].startswith("Prior exposure to BMS-986165")
    assert [n.kind for n in tree.notes] == ["disclaimer", "disclaimer"]


# --- the API v2 record ---------------------------------------------------------------------------


def test_v2_record(shared_dir: Path) -> None:
    record = json.loads((shared_dir / "data" / "ctgov-api-v2" / "NCT02513394.json").read_text("utf-8"))
    text = record["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    tree = split_criteria(text)
    # 21 inclusion lines: 20 items, the "… are eligible if …" and "… are eligible as long as …" bullets
    # are exceptions, the unbulleted "FFPE tumor tissue block …" paragraph is an item of its own
    assert len(tree.inclusion()) == 19
    assert len(tree.exclusion()) == 13
    assert _find(tree, "FFPE tumor tissue block").marker is None
    multicentric = [n for item in tree.walk() for n in item.notes if n.text.startswith("Patients with multicentric")]
    assert [n.kind for n in multicentric] == ["exception"]
    # the record has no nested "  * " lines: every item is top-level
    assert all(not item.children for item in tree.walk())
    _check_invariants(tree)


# --- any text at all -----------------------------------------------------------------------------

_PIECES = st.sampled_from([
    "Inclusion Criteria:", "Exclusion criteria", "DISEASE CHARACTERISTICS:", "Age:", "* ", "  * ", "- ", "\\- ",
    "          -  ", "1. ", "2) ", "(3) ", "a. ", "ii. ", "• ", "+ ", "o ", "No prior chemotherapy", "Not specified",
    "with any of the following:", "is defined as relapse", "are eligible if treated", "The above is a summary",
    "Exception: ", " OR", ";", ":", "\n", "\n\n", "\r\n", "\t", "   ", "x", "Age > 18", "\x00", "\u2028", "é",
])
_TEXTS = st.one_of(st.text(max_size=300), st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40).map("".join))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_any_text_splits_with_full_coverage(text: str) -> None:
    tree = split_criteria(text)
    for span in tree.spans():
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end].strip()
    ids = [item.id for item in tree.walk()]
    assert len(ids) == len(set(ids))
    assert _uncovered(tree) == []
    json.dumps(tree.to_dict())


@pytest.mark.parametrize("text", ["", "   \n\n", "\x00\xff\ufffd" * 50, "-\n" * 2000, " " * 30 + "*" * 5000,
                                  "".join(f"{' ' * (i % 40)}- item {i}\n" for i in range(3000))])
def test_odd_inputs_never_raise(text: str) -> None:
    tree = split_criteria(text)
    assert _uncovered(tree) == []
    assert max((len(item.id.split(".")) for item in tree.walk()), default=0) <= 8


def test_a_megabyte_splits_whole() -> None:
    # How fast is measured in benchmarks/bench_criteria.py; here, that nothing is lost at this size.
    text = ("Inclusion Criteria:\n\n" + "* Age 18 years or older and some more words here\n" * 20000
            + "Exclusion Criteria:\n" + "x" * 100_000)
    tree = split_criteria(text)
    assert len(tree.inclusion()) == 20000 and len(tree.exclusion()) == 1


# --- both corpora --------------------------------------------------------------------------------


def test_every_corpus_row_splits_with_full_coverage(hint_rows: dict[str, str], lct_rows: dict[str, str]) -> None:
    for nct_id, text in [*hint_rows.items(), *lct_rows.items()]:
        tree = split_criteria(text)
        assert _uncovered(tree) == [], nct_id
        ids = [item.id for item in tree.walk()]
        assert len(ids) == len(set(ids)), nct_id


def test_abbreviated_section_headers_inc_and_exc_criteria(shared_dir: Path) -> None:
    """NCT01160926 heads its sections "Inc Criteria:", "Exc Criteria:" and "EXC CRITERIA (AZD6244 cohorts)":
    its exclusions (among them "Age<18") were read as inclusions."""
    from trialmatch.criteria.compiler import compile_criteria

    rows = (json.loads(line) for line in (shared_dir / "data" / "criteria-corpus" / "hint-trials.jsonl").open())
    text = next(row["criteria"] for row in rows if row.get("nct_id") == "NCT01160926")
    compiled = compile_criteria(text)
    section = {c.text.strip(): c.section for c in compiled.criteria}
    assert section["Histologically confirmed rectal adenocarcinoma"] == "inclusion"
    assert section["Age<18"] == "exclusion"
    assert section["Prior treatment with a MEK inhibitor"] == "exclusion"  # under "EXC CRITERIA (AZD6244 cohorts)"
    assert sum(s == "exclusion" for s in section.values()) > sum(s == "inclusion" for s in section.values())
    tree = split_criteria("Incl. criteria (phase II):\n- Adults\nExcl criteria:\n- Pregnant")
    assert [(item.section, item.text) for item in tree.walk() if item.kind == "criterion"] == [
        ("inclusion", "Adults"), ("exclusion", "Pregnant")]
