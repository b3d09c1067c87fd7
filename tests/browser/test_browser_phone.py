"""Phone-width pages (375 × 812 CSS pixels): nothing may make the page scroll sideways, results included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

PAGES = ["/", "/?q=leukaemia&status=any&age=10", "/trials/NCT06054113?near=Shanghai", "/find", "/clinician",
         "/trials/NCT00000000"]


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_phone(phone_page: Page, path: str, check_fits_width: Callable[[Page], None]) -> None:
    phone_page.goto(path)
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    check_fits_width(phone_page)
    # The main navigation stays reachable on a phone.
    navigation = phone_page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Find trials for me")).to_be_visible()


def test_find_results_fit_a_phone(phone_page: Page, check_fits_width: Callable[[Page], None]) -> None:
    page = phone_page
    page.goto("/find")
    page.get_by_label("Age", exact=True).fill("10")
    page.get_by_label("Diagnosis", exact=True).select_option(label="B-cell acute lymphoblastic leukemia (B-ALL)")
    page.get_by_label("Also show trials that are no longer taking new people").check()
    with page.expect_navigation():
        page.get_by_test_id("find-submit").click()
    expect(page.get_by_test_id("match").first).to_be_visible()
    check_fits_width(page)


def test_clinician_results_fit_a_phone(phone_page: Page, shared_dir: Path,
                                      check_fits_width: Callable[[Page], None]) -> None:
    page = phone_page
    page.goto("/clinician")
    page.get_by_label("Upload a file").set_input_files(shared_dir / "patients" / "fhir" / "mitre-eom_patient_1.json")
    page.get_by_label("Trial status").select_option(label="Any status")
    with page.expect_navigation():
        page.get_by_test_id("clinician-submit").click()
    table = page.get_by_test_id("criteria-table").first
    expect(table).to_be_visible()  # the first trial's criteria table is open: wide, so it must scroll in its box
    check_fits_width(page)


def test_trial_questionnaire_fits_a_phone(phone_page: Page, check_fits_width: Callable[[Page], None]) -> None:
    page = phone_page
    page.goto("/trials/NCT06054113")
    page.get_by_test_id("question").filter(has_text="Do you have HIV").get_by_role("radio", name="Yes").check()
    expect(page.get_by_test_id("prescreen-result").locator(".result-heading")).to_have_text("Not eligible")
    page.locator("#criteria-readings > summary").click()  # the criteria in detail, open
    check_fits_width(page)
