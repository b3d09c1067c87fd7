"""The clinician view, ``/clinician``: upload a real FHIR R4 Bundle (MITRE's mCODE breast-cancer example from
../shared/patients/fhir), see each trial's verdict with per-criterion explanations whose evidence cites the
bundle's own resources, and export the same screening as JSON and CSV.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

BUNDLE = "mitre-eom_patient_1.json"


@pytest.fixture(scope="module")
def bundle(shared_dir: Path) -> Path:
    return shared_dir / "patients" / "fhir" / BUNDLE


def resource_refs(bundle: Path) -> set[str]:
    """Every "Type/id" in the bundle, as evidence cites them."""
    entries = json.loads(bundle.read_text("utf-8"))["entry"]
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in entries if "id" in e["resource"]}


def screen(page: Page, record: Path, status_label: str = "Any status", not_eligible_too: bool = True) -> None:
    page.goto("/clinician")
    page.get_by_label("Upload a file").set_input_files(record)
    page.get_by_label("Trial status").select_option(label=status_label)
    page.get_by_label("Trials to show").fill("60")  # all 37 candidates, so ruled-out ones are listed too
    if not_eligible_too:
        page.get_by_label("Also list trials the patient is not eligible for, with the deciding criteria").check()
    with page.expect_navigation():
        page.get_by_test_id("clinician-submit").click()


def shown_trials(page: Page) -> dict[str, str]:
    return dict(page.get_by_test_id("trial-result").evaluate_all(
        "cards => cards.map(c => [c.dataset.trialId, c.dataset.verdict])"))


def test_fhir_upload_shows_verdicts_with_per_criterion_explanations(page: Page, bundle: Path) -> None:
    screen(page, bundle)
    counts = page.get_by_test_id("match-counts")
    expect(counts).to_contain_text(f"The file {BUNDLE} was judged against")
    numbers = {k: int(counts.get_attribute(f"data-{k}") or "-1")
               for k in ("eligible", "possibly-eligible", "not-eligible", "considered")}
    assert numbers["considered"] == numbers["eligible"] + numbers["possibly-eligible"] + numbers["not-eligible"]
    assert numbers["not-eligible"] > 0 and numbers["possibly-eligible"] > 0, numbers
    # The reader says what it could not use (the bundle's tumour markers and staging), rather than dropping it.
    expect(page.get_by_test_id("reader-warnings")).to_contain_text("Estrogen receptor")

    trials = shown_trials(page)
    assert set(trials.values()) == {"possibly_eligible", "not_eligible"}, trials
    verdicts = list(trials.values())
    order = {"eligible": 0, "possibly_eligible": 1, "not_eligible": 2}
    assert verdicts == sorted(verdicts, key=order.__getitem__), f"not ranked by verdict: {verdicts}"

    # A ruled-out trial names its deciding criteria, and their evidence cites resources in the uploaded bundle.
    refs = resource_refs(bundle)
    ruled_out = page.locator('[data-testid="trial-result"][data-verdict="not_eligible"]').first
    deciding = ruled_out.get_by_test_id("deciding")
    expect(deciding).to_be_visible()
    cited = set(re.findall(r"\(((?:Patient|Observation|Condition|Procedure|MedicationStatement|MedicationRequest)"
                           r"/[^)\s]+)\)", deciding.inner_text()))
    assert cited and cited <= refs, f"deciding evidence cites {cited}, not all in the bundle"

    # Its full table: one row per criterion, each with a verdict, the trial's words and the compiled rule;
    # the deciding rows are marked.
    ruled_out.locator("summary").filter(has_text="criteria, with evidence and rules").click()
    rows = ruled_out.get_by_test_id("criterion")
    total = int(re.search(r"of (\d+) criteria settled", ruled_out.inner_text()).group(1))  # type: ignore[union-attr]
    expect(rows).to_have_count(total)
    assert ruled_out.locator('[data-testid="criterion"][data-decides="true"]').count() >= 1
    for index in range(rows.count()):
        row = rows.nth(index)
        assert row.get_attribute("data-verdict") in {"met", "not_met", "unknown", "not_applicable"}
        assert row.locator(".source-text").inner_text().strip(), f"row {index} has no source text"
        assert row.locator("code.rule").inner_text().strip(), f"row {index} has no rule"

    # A possible match lists the questions left open for the clinician.
    possible = page.locator('[data-testid="trial-result"][data-verdict="possibly_eligible"]').first
    assert possible.get_by_test_id("open-questions").locator("li").count() >= 1


def test_exports_hold_the_screening_shown(page: Page, bundle: Path) -> None:
    screen(page, bundle)
    trials = shown_trials(page)
    export = page.get_by_test_id("export-form")

    with page.expect_download() as json_download:
        export.get_by_role("button", name="Download JSON").click()
    exported = json.loads(Path(json_download.value.path()).read_text("utf-8"))
    assert json_download.value.suggested_filename.endswith(".json")
    found = {m["trial_id"]: m["verdict"] for m in exported["matches"]}
    assert found == trials, (found, trials)
    first = exported["matches"][0]
    assert first["criteria"] and {"id", "verdict", "text", "evidence"} <= set(first["criteria"][0])

    with page.expect_download() as csv_download:
        export.get_by_role("button", name="Download CSV").click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text("utf-8"))))
    assert rows, "the CSV export is empty"
    id_column = next(name for name in rows[0] if "trial" in name.lower() and "id" in name.lower())
    assert {row[id_column] for row in rows} == set(trials)


def test_broken_upload_is_explained(page: Page, tmp_path: Path) -> None:
    broken = tmp_path / "truncated-bundle.json"
    broken.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": ', "utf-8")
    screen(page, broken, not_eligible_too=False)
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("The record could not be screened")
    expect(page.get_by_test_id("clinician-results")).to_have_count(0)


def test_clinician_page_is_accessible(page: Page, bundle: Path,
                                      check_accessibility: Callable[[Page], list[dict]]) -> None:
    page.goto("/clinician")
    check_accessibility(page)
    screen(page, bundle)
    expect(page.get_by_test_id("clinician-results")).to_be_visible()
    check_accessibility(page)
