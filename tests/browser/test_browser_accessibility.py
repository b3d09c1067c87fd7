"""axe-core (WCAG 2.1 A and AA rules) on every main page as first opened; the pages' own test files also audit
them with results shown. And a check of the checker: a page with a known violation must fail the audit.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

MAIN_PAGES = ["/", "/trials/NCT06054113", "/find", "/clinician", "/trials/NCT00000000"]


@pytest.mark.parametrize("path", MAIN_PAGES)
def test_page_has_no_serious_accessibility_problems(page: Page, path: str,
                                                   check_accessibility: Callable[[Page], list[dict]]) -> None:
    page.goto(path)
    expect(page.locator("main#main")).to_be_visible()
    check_accessibility(page)


def test_the_audit_fails_a_page_with_an_unlabelled_field(page: Page,
                                                         check_accessibility: Callable[[Page], list[dict]]) -> None:
    page.goto("/")
    # Take the label away from the age field, as a careless template change would.
    page.evaluate("() => document.querySelector('label[for=age]').remove()")
    with pytest.raises(AssertionError, match=r"label .*#age"):
        check_accessibility(page)
