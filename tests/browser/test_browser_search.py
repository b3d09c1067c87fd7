"""The search page, ``/``, in a real browser: filters narrow the list, paging walks it, bad input is explained.

What the page lists is checked against the stored records (status, age limits), so a filter that the form
forgets to send, or the store forgets to apply, shows up here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import OPEN_STATUSES

DAYS_PER_YEAR = 365.25


def listed_ids(page: Page) -> list[str]:
    return page.get_by_test_id("result").evaluate_all("rows => rows.map(row => row.dataset.trialId)")


def results_total(page: Page) -> int:
    heading = page.locator("#results-heading").inner_text()
    if heading.startswith("No trials"):
        return 0
    match = re.match(r"([\d,]+)\+? trials? found", heading)
    assert match, f"unexpected results heading: {heading!r}"
    return int(match.group(1).replace(",", ""))


def search(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()


def admits_age(store: TrialStore, trial_id: str, years: float) -> bool:
    """The stored record's age limits let a person of ``years`` in (a missing limit is no limit)."""
    trial = store.get(trial_id)
    assert trial is not None, trial_id
    low, high = trial.eligibility.minimum_age, trial.eligibility.maximum_age
    days = years * DAYS_PER_YEAR
    # A maximum of "35 Years" admits someone of 35 and a half.
    return (low is None or low.in_days() <= days) and (high is None or days < high.in_days() + DAYS_PER_YEAR)


def test_first_visit_lists_open_trials_with_labelled_form(page: Page, demo_store: TrialStore) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a clinical trial")
    for label in ("Search words", "Condition", "Status", "Phase", "Age in years", "Sex", "Near (town or city)",
                  "Within", "Order results by"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.get_by_label("Status", exact=True)).to_have_value("open")
    ids = listed_ids(page)
    assert len(ids) == 10, ids
    for trial_id in ids:
        trial = demo_store.get(trial_id)
        assert trial is not None and trial.overall_status in OPEN_STATUSES, (trial_id, trial and trial.overall_status)


def test_status_age_and_place_filters_narrow_the_results(page: Page, demo_store: TrialStore) -> None:
    page.goto("/")
    page.get_by_label("Near (town or city)").fill("Boston, Massachusetts")
    page.get_by_label("Within").select_option(label="100 km (62 miles)")
    search(page)
    near_boston = listed_ids(page)
    assert near_boston, "no open trial within 100 km of Boston; the demo corpus has some"
    assert results_total(page) == len(near_boston)
    for row in page.get_by_test_id("result").all():
        distance = row.locator(".nearest-site .distance").inner_text()
        km = float(re.search(r"([\d,.]+) km", distance).group(1).replace(",", ""))  # type: ignore[union-attr]
        assert km <= 100, f"{row.get_attribute('data-trial-id')} is listed at {distance}"
    for trial_id in near_boston:
        assert demo_store.get(trial_id).overall_status in OPEN_STATUSES  # type: ignore[union-attr]

    # The form keeps what was typed, so adding the age refines the same search.
    expect(page.get_by_label("Near (town or city)")).to_have_value("Boston, Massachusetts")
    page.get_by_label("Age in years").fill("40")
    search(page)
    assert "age=40" in page.url and "near=Boston" in page.url, page.url
    for_forty = listed_ids(page)
    assert for_forty and set(for_forty) < set(near_boston), (for_forty, near_boston)
    for trial_id in for_forty:
        assert admits_age(demo_store, trial_id, 40), f"{trial_id} is listed for age 40 but its limits exclude it"
    for trial_id in set(near_boston) - set(for_forty):
        assert not admits_age(demo_store, trial_id, 40), f"{trial_id} admits age 40 but was dropped"

    # Any status instead of open: the list can only grow, and it takes in trials that are not open.
    page.get_by_label("Status", exact=True).select_option(label="Any status")
    search(page)
    any_status = listed_ids(page)
    assert set(for_forty) <= set(any_status)
    assert results_total(page) >= len(for_forty)


def test_paging_walks_the_results_without_repeats(page: Page, demo_store: TrialStore) -> None:
    page.goto("/?status=any")
    total = results_total(page)
    assert total == demo_store.count(), (total, demo_store.count())
    pages = -(-total // 10)
    pagination = page.get_by_role("navigation", name="Pages of results")
    expect(pagination).to_contain_text(f"Page 1 of {pages}")
    expect(page.locator("#results-range")).to_have_text("Showing 1–10.")
    first = listed_ids(page)

    pagination.get_by_role("link", name="Next page →").click()
    expect(pagination).to_contain_text(f"Page 2 of {pages}")
    expect(page.locator("#results-range")).to_have_text("Showing 11–20.")
    second = listed_ids(page)
    assert len(second) == 10 and not set(first) & set(second), (first, second)
    expect(page.get_by_label("Status", exact=True)).to_have_value("any")

    pagination.get_by_role("link", name="← Previous page").click()
    expect(pagination).to_contain_text(f"Page 1 of {pages}")
    assert listed_ids(page) == first

    page.goto(f"/?status=any&page={pages}")
    last = listed_ids(page)
    assert len(last) == total - (pages - 1) * 10
    expect(pagination.get_by_role("link", name="Next page →")).to_have_count(0)


def test_bad_age_and_unknown_place_are_explained_beside_their_fields(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Age in years").fill("ten")
    page.get_by_label("Near (town or city)").fill("Qwxzyville")
    search(page)
    summary = page.get_by_test_id("search-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Give the age in years as a number")
    age = page.get_by_label("Age in years")
    expect(age).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#age-error")).to_contain_text("as a number")
    expect(page.get_by_label("Near (town or city)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#near-error")).to_be_visible()
    # The summary's links take the person to the field to fix.
    summary.get_by_role("link", name=re.compile("as a number")).click()
    assert page.url.endswith("#age")


def test_search_words_find_the_seed_trial_and_link_to_it(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Search words").fill("blinatumomab Chinese pediatric")
    page.get_by_label("Status", exact=True).select_option("any")
    search(page)
    result = page.locator('[data-testid="result"][data-trial-id="NCT06054113"]')
    expect(result).to_be_visible()
    result.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/trials/NCT06054113$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Blinatumomab")


def test_search_page_is_accessible(page: Page, check_accessibility: Callable[[Page], list[dict]]) -> None:
    page.goto("/?q=leukaemia&status=any&age=ten")  # results, paging and an error message all on one page
    expect(page.get_by_test_id("search-errors")).to_be_visible()
    check_accessibility(page)
    page.goto("/?q=leukaemia&status=any")
    expect(page.get_by_test_id("pagination")).to_be_visible()
    check_accessibility(page)
