"""Screenshots of the main pages, desktop and phone, each under 300 KB.

They go to a temporary folder; to refresh the README's pictures, run

    TRIALMATCH_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest tests/browser/test_browser_screenshots.py
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 300 * 1024


@pytest.fixture(scope="module")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("TRIALMATCH_SCREENSHOTS")
    folder = (ROOT / chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(page: Page, folder: Path, name: str, anchor: str | None = None, block: str = "start") -> Path:
    """Save the viewport, scrolled so the element ``anchor`` (a CSS selector) is at the top or ``block``."""
    if anchor:
        page.locator(anchor).first.evaluate("(el, block) => el.scrollIntoView({block})", block)
    path = folder / f"{name}.png"
    page.screenshot(path=path, animations="disabled", caret="hide")
    size = path.stat().st_size
    assert 10_000 < size <= MAX_BYTES, f"{path.name} is {size / 1024:.0f} KB"
    return path


def search_results(page: Page) -> None:
    page.goto("/?q=acute+lymphoblastic+leukaemia&status=any&age=10")
    expect(page.get_by_test_id("result").first).to_be_visible()


def trial_with_result(page: Page) -> None:
    page.goto("/trials/NCT06054113?near=Shanghai")
    page.get_by_test_id("question").filter(has_text="Do you have HIV").get_by_role("radio", name="Yes").check()
    expect(page.get_by_test_id("prescreen-result").locator(".result-heading")).to_have_text("Not eligible")


def find_results(page: Page) -> None:
    page.goto("/find")
    page.get_by_label("Age", exact=True).fill("10")
    page.get_by_role("radio", name="Male", exact=True).check()
    page.get_by_label("Diagnosis", exact=True).select_option(label="B-cell acute lymphoblastic leukemia (B-ALL)")
    page.get_by_role("radio", name="First relapse: the disease came back once").check()
    page.get_by_label("Also show trials that are no longer taking new people").check()
    with page.expect_navigation():
        page.get_by_test_id("find-submit").click()
    expect(page.get_by_test_id("next-question")).to_be_visible()


def clinician_results(page: Page, shared_dir: Path) -> None:
    page.goto("/clinician")
    page.get_by_label("Upload a file").set_input_files(shared_dir / "patients" / "fhir" / "mitre-eom_patient_1.json")
    page.get_by_label("Trial status").select_option(label="Any status")
    with page.expect_navigation():
        page.get_by_test_id("clinician-submit").click()
    expect(page.get_by_test_id("trial-result").first).to_be_visible()


@pytest.fixture
def desktop(browser: Browser, server_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser, server_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server_url, viewport={"width": 375, "height": 812}, device_scale_factor=1,
                                  is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


SHOTS: list[tuple[str, Callable[..., None], str | None, str]] = [
    ("search", search_results, "#results", "start"),
    ("trial", trial_with_result, None, "start"),
    ("trial-prescreen", trial_with_result, "#prescreen-result", "end"),
    ("find", find_results, "#results", "start"),
    ("clinician", clinician_results, '[data-testid="trial-result"]', "start"),
]


@pytest.mark.parametrize(("name", "open_page", "anchor", "block"), SHOTS, ids=[shot[0] for shot in SHOTS])
def test_desktop_screenshot(desktop: Page, screenshot_dir: Path, shared_dir: Path, name: str,
                            open_page: Callable[..., None], anchor: str | None, block: str) -> None:
    open_page(desktop, shared_dir) if open_page is clinician_results else open_page(desktop)
    save(desktop, screenshot_dir, f"desktop-{name}", anchor, block)


def test_phone_screenshots(phone: Page, screenshot_dir: Path) -> None:
    search_results(phone)
    save(phone, screenshot_dir, "phone-search")
    trial_with_result(phone)
    save(phone, screenshot_dir, "phone-trial")
    save(phone, screenshot_dir, "phone-trial-prescreen", "#prescreen-result", "end")
