"""Keyboard use: the first Tab reaches the skip link, and Enter on it moves focus past the header."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

MAIN_PAGES = ["/", "/find", "/clinician", "/trials/NCT06054113"]


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_tab_reaches_skip_link_and_enter_moves_focus_to_main(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    # Focused, the link must be on screen (skip links hide off-screen until focused).
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["x"] >= 0 and box["width"] > 0, box
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab goes into the page's content, not back to the header's links.
    page.keyboard.press("Tab")
    in_main = page.evaluate("() => document.querySelector('main').contains(document.activeElement)")
    assert in_main, f"Tab after the skip link focused {page.evaluate('() => document.activeElement.outerHTML')}"


def test_questionnaire_can_be_answered_with_the_keyboard(page: Page) -> None:
    page.goto("/trials/NCT06054113")
    hiv = page.get_by_test_id("question").filter(has_text="Do you have HIV")
    yes, no = (hiv.get_by_role("radio", name=name, exact=True) for name in ("Yes", "No"))
    yes.focus()
    page.keyboard.press("Space")
    expect(yes).to_be_checked()
    heading = page.get_by_test_id("prescreen-result").locator(".result-heading")
    expect(heading).to_have_text("Not eligible")
    # Arrow keys move within the Yes / No / Not sure group and choose as they go, as native radios do.
    page.keyboard.press("ArrowRight")
    expect(no).to_be_checked()
    expect(no).to_be_focused()
    expect(heading).to_have_text("Possibly eligible")
    # "Check my answers" by Enter moves focus to the result, so a screen reader reads it next.
    page.get_by_role("button", name="Check my answers").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("prescreen-result")).to_be_focused()
