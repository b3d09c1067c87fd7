"""The trial page, ``/trials/{id}``, on the seed trial NCT06054113 (blinatumomab for Chinese children with
relapsed B-ALL): what it shows, checked against the stored record, and its pre-screening questionnaire
answered into each of the three results, live (JavaScript) and by plain form posts (no JavaScript).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from trialmatch.store.sqlite import TrialStore

SEED = "NCT06054113"
#: The questionnaire's chosen answers (not the "I am answering for" choice).
ANSWERED = "#prescreen-form input[type=radio][name^='q-']:checked"


def words(text: str) -> str:
    return " ".join(text.split())


def question(page: Page, wording: str) -> Locator:
    """The questionnaire's fieldset whose question (its legend) contains ``wording``."""
    found = page.get_by_test_id("question").filter(has=page.locator("legend", has_text=wording))
    expect(found).to_have_count(1)
    return found


def choose(fieldset: Locator, answer: str) -> None:
    fieldset.get_by_role("radio", name=answer, exact=True).check()


def result(page: Page) -> Locator:
    return page.get_by_test_id("prescreen-result")


def expect_result(page: Page, heading: str) -> list[str]:
    """Wait for the result called ``heading``; its listed criteria, as shown."""
    expect(result(page).locator(".result-heading")).to_have_text(heading)
    return [words(item) for item in result(page).locator(".result-items li").all_inner_texts()]


def sections(page: Page) -> dict[str, str]:
    """Each question's section, from the heading it sits under: who can (inclusion) or cannot (exclusion)."""
    return page.evaluate("""() => {
        const out = {};
        let section = null;
        for (const el of document.querySelectorAll('#prescreen-form h3, #prescreen-form [data-testid=question]')) {
            if (el.tagName === 'H3') section = /cannot/.test(el.textContent) ? 'exclusion' : 'inclusion';
            else out[el.dataset.questionId] = section;
        }
        return out;
    }""")


def answer_all_to_be_eligible(page: Page, check: Callable[[], list[str]]) -> list[str]:
    """Answer as someone who fits: Yes to who-can questions and No to who-cannot ones, then flip any answer the
    result names as ruling them out (some exclusions are asked the other way round: "are you willing to …")."""
    by_section = sections(page)
    assert by_section and None not in by_section.values(), by_section
    for question_id, section in by_section.items():
        choose(page.locator(f'[data-question-id="{question_id}"]'), "Yes" if section == "inclusion" else "No")
    for _ in range(len(by_section)):
        named = check()
        if not named:
            return []
        fieldsets = page.get_by_test_id("question")
        flipped = False
        for index in range(fieldsets.count()):
            fieldset = fieldsets.nth(index)
            if named[0][:60] in words(fieldset.inner_text()):
                current = fieldset.locator("input:checked").get_attribute("value")
                choose(fieldset, "No" if current == "yes" else "Yes")
                flipped = True
                break
        assert flipped, f"the result names {named[0]!r}, which no question on the page shows"
    return check()


@pytest.fixture
def page_without_script(browser: Browser, server_url: str) -> Iterator[Page]:
    """A tab with JavaScript off: the questionnaire must work by plain form posts."""
    context = browser.new_context(base_url=server_url, java_script_enabled=False, viewport={"width": 1280,
                                                                                               "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_trial_page_shows_summary_criteria_sites_and_similar_trials(page: Page, demo_store: TrialStore) -> None:
    trial, compiled = demo_store.get(SEED), demo_store.compiled(SEED)
    assert trial is not None and compiled is not None
    page.goto(f"/trials/{SEED}")
    expect(page.get_by_role("heading", level=1)).to_have_text(words(trial.title))
    expect(page).to_have_title(re.compile(r"Blinatumomab .* · TrialMatch"))
    facts = page.get_by_test_id("key-facts")
    expect(facts).to_contain_text(SEED)
    expect(facts).to_contain_text("Phase 2")

    summary = page.get_by_test_id("summary")
    expect(summary.get_by_role("heading", name="About this trial")).to_be_visible()
    expect(summary).to_contain_text("blinatumomab", ignore_case=True)
    assert summary.locator(".plain-summary li").count() >= 3

    # Who can / cannot take part: one line per compiled criterion, in plain words.
    expect(page.get_by_role("heading", name="Who can take part", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Who cannot take part", exact=True)).to_be_visible()
    expect(page.get_by_test_id("who-can").locator("li")).to_have_count(len(compiled.inclusion()))
    expect(page.get_by_test_id("who-cannot").locator("li")).to_have_count(len(compiled.exclusion()))
    expect(page.get_by_test_id("who-cannot")).to_contain_text("HIV")

    # Sites: every stored site, by facility and city.
    sites = page.get_by_test_id("site")
    expect(sites).to_have_count(len(trial.sites))
    shown = words(page.get_by_test_id("sites").inner_text())
    for site in trial.sites:
        assert (site.city or "") in shown and (site.facility or "") in shown, site

    # Similar trials link to other trials in the store, and the links work.
    similar = page.get_by_test_id("similar").get_by_role("link")
    assert similar.count() >= 1
    href = similar.first.get_attribute("href") or ""
    other_id = href.split("/trials/", 1)[1].split("?")[0]
    assert other_id != SEED and demo_store.get(other_id) is not None, href
    similar.first.click()
    expect(page).to_have_url(re.compile(rf"/trials/{re.escape(other_id)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(words(demo_store.get(other_id).title))  # type: ignore[union-attr]


def test_sites_sort_nearest_first_from_a_town(page: Page) -> None:
    page.goto(f"/trials/{SEED}")
    page.get_by_label("Your town or city").fill("Shanghai")
    with page.expect_navigation():
        page.get_by_role("button", name="Sort by distance").click()
    distances = [float(re.match(r"([\d,.]+) km", text).group(1).replace(",", ""))  # type: ignore[union-attr]
                 for text in page.get_by_test_id("site-distance").all_inner_texts()]
    assert len(distances) >= 2 and distances == sorted(distances), distances
    assert distances[0] < 50, f"the Shanghai site is listed {distances[0]} km from Shanghai"
    expect(page.get_by_test_id("site").first).to_contain_text("Shanghai")


def test_questionnaire_live_results_not_eligible_possibly_and_likely(page: Page) -> None:
    page.goto(f"/trials/{SEED}")
    expect(result(page)).to_be_empty()

    # One answer that rules someone out: the result says so and names that criterion.
    hiv = question(page, "Do you have HIV")
    trial_words = words(hiv.locator(".question-source").inner_text()).removeprefix("The trial says: ")
    choose(hiv, "Yes")
    named = expect_result(page, "Not eligible")
    assert named == [trial_words], named
    expect(result(page)).to_contain_text("can’t take part in this trial because of")

    # Changing it to "No" with nothing else answered leaves the rest open, and the result lists them.
    choose(hiv, "No")
    open_items = expect_result(page, "Possibly eligible")
    assert len(open_items) > 10, open_items
    assert trial_words not in open_items, "the answered HIV criterion is still listed as open"
    expect(result(page)).to_contain_text(re.compile(r"\d+ questions not answered yet"))

    # "Not sure" never rules out.
    choose(hiv, "Not sure")
    expect_result(page, "Possibly eligible")

    # Everything answered as someone who fits: likely eligible, with nothing left open.
    def check() -> list[str]:
        # Empty the result first, so a result shown for earlier answers is never read as this click's.
        page.wait_for_timeout(300)  # the live check of the last change has been sent
        page.evaluate("document.getElementById('prescreen-result').replaceChildren()")
        page.get_by_role("button", name="Check my answers").click()
        expect(result(page).locator(".result-heading")).to_have_text(
            re.compile("Likely eligible|Not eligible|Possibly eligible"))
        heading = result(page).locator(".result-heading").inner_text()
        return expect_result(page, heading) if heading == "Not eligible" else []

    remaining = answer_all_to_be_eligible(page, check)
    assert remaining == []
    expect_result(page, "Likely eligible")
    expect(result(page)).to_contain_text("The study team makes the final decision")
    expect(result(page)).not_to_contain_text("not answered yet")
    expect(result(page)).to_be_focused()  # "Check my answers" moves focus to the result for screen readers


def test_clear_my_responses_empties_the_form_and_the_result(page: Page) -> None:
    page.goto(f"/trials/{SEED}")
    choose(question(page, "Do you have HIV"), "Yes")
    choose(question(page, "Are you between 1 month and 17 years old?"), "Yes")
    expect_result(page, "Not eligible")
    page.get_by_role("button", name="Clear my responses").click()
    expect(page.locator(ANSWERED)).to_have_count(0)
    expect(result(page)).to_have_text("Your responses have been cleared.")
    # Nothing was kept: a reload shows an empty questionnaire.
    page.reload()
    expect(page.locator(ANSWERED)).to_have_count(0)
    expect(result(page).locator(".result-heading")).to_have_count(0)


def test_questionnaire_works_without_javascript(page_without_script: Page) -> None:
    page = page_without_script
    page.goto(f"/trials/{SEED}")
    choose(question(page, "Do you have HIV"), "Yes")
    with page.expect_navigation():
        page.get_by_role("button", name="Check my answers").click()
    assert page.url.endswith("/prescreen#prescreen-result"), page.url
    named = expect_result(page, "Not eligible")
    assert len(named) == 1 and "human immunodeficiency virus" in named[0], named
    # The answers come back checked, so they can be changed.
    expect(question(page, "Do you have HIV").get_by_role("radio", name="Yes", exact=True)).to_be_checked()

    choose(question(page, "Do you have HIV"), "No")
    with page.expect_navigation():
        page.get_by_role("button", name="Check my answers").click()
    expect_result(page, "Possibly eligible")

    with page.expect_navigation():
        page.get_by_role("button", name="Clear my responses").click()
    expect(result(page)).to_contain_text("Your responses have been cleared.")
    expect(page.locator(ANSWERED)).to_have_count(0)


def test_unknown_trial_id_gets_a_page_that_says_what_to_do(page: Page) -> None:
    response = page.goto("/trials/NCT00000000")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("alert")).to_contain_text("Search for it by name")


def test_trial_page_is_accessible(page: Page, check_accessibility: Callable[[Page], list[dict]]) -> None:
    page.goto(f"/trials/{SEED}?near=Shanghai")
    check_accessibility(page)
    choose(question(page, "Do you have HIV"), "Yes")  # with a live result shown
    expect_result(page, "Not eligible")
    check_accessibility(page)


def test_answering_for_someone_else_rewords_the_questions_live(page: Page) -> None:
    page.goto(f"/trials/{SEED}")
    expect(page.locator("#perspective-submit")).to_be_hidden()  # the script rewords at once
    question_id = question(page, "Do you have HIV").get_attribute("data-question-id")
    hiv = page.locator(f'[data-question-id="{question_id}"]')  # found by id: its wording changes
    choose(hiv, "Yes")
    expect(result(page)).to_contain_text("From your answers, you can’t take part")
    page.get_by_role("radio", name="Someone I care for").check()
    expect(hiv.locator("legend")).to_have_text("Does the patient have HIV, hepatitis B or hepatitis C?")
    expect(question(page, "Is the patient between 1 month and 17 years old?")).to_be_visible()
    expect(result(page)).to_contain_text("From your answers, the patient can’t take part")
    # The answer stays, and the live check still works.
    expect(hiv.get_by_role("radio", name="Yes", exact=True)).to_be_checked()
    choose(hiv, "No")
    expect_result(page, "Possibly eligible")
    expect(result(page)).to_contain_text("rules the patient out")
    page.get_by_role("radio", name="Myself").check()
    expect(hiv.locator("legend")).to_have_text("Do you have HIV, hepatitis B or hepatitis C?")


def test_answering_for_someone_else_without_javascript(page_without_script: Page) -> None:
    page = page_without_script
    page.goto(f"/trials/{SEED}")
    choose(question(page, "Do you have HIV"), "No")
    page.get_by_role("radio", name="Someone I care for").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Word the questions for this").click()
    expect(question(page, "Does the patient have HIV").get_by_role("radio", name="No", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="Someone I care for")).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Check my answers").click()
    expect_result(page, "Possibly eligible")
    expect(result(page)).to_contain_text("rules the patient out")
