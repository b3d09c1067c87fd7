""""Find trials for me", ``/find``, end to end in a real browser: a few facts, ranked matches, one question at
a time, and the list re-ranked after each answer. Nothing is kept on the server, so clearing the answers must
bring back exactly the first list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from trialmatch.store.sqlite import TrialStore


@dataclass(frozen=True)
class FindState:
    """What the page shows after one step: the counts, the listed trials and the question asked next."""

    counts: dict[str, int]
    rows: list[tuple[str, str, str]]  # (trial id, verdict, "Checked n of m requirements")
    question: str | None
    question_id: str | None


def read_state(page: Page) -> FindState:
    counts = page.get_by_test_id("match-counts")
    expect(counts).to_be_visible()
    numbers = {name: int(counts.get_attribute(f"data-{name}") or "-1")
               for name in ("eligible", "possibly-eligible", "not-eligible", "considered")}
    rows = page.get_by_test_id("match").evaluate_all(
        "rows => rows.map(r => [r.dataset.trialId, r.dataset.verdict,"
        " r.querySelector('.match-settled label').textContent.trim()])")
    question = page.get_by_test_id("question-text")
    if question.count():
        return FindState(numbers, [tuple(r) for r in rows], question.inner_text(),
                         question.get_attribute("data-question-id"))
    return FindState(numbers, [tuple(r) for r in rows], None, None)


def fill_child_with_relapsed_b_all(page: Page) -> None:
    """The bundled demo patient in the words a parent would use: a 10-year-old boy, B-ALL, first relapse."""
    page.goto("/find")
    page.get_by_label("Age", exact=True).fill("10")
    page.get_by_role("radio", name="Male", exact=True).check()
    page.get_by_label("Diagnosis", exact=True).select_option(label="B-cell acute lymphoblastic leukemia (B-ALL)")
    page.get_by_role("radio", name="First relapse: the disease came back once").check()
    # The demo corpus has few open trials; closed ones give the ranking something to do.
    page.get_by_label("Also show trials that are no longer taking new people").check()


def answer(page: Page, words: str) -> None:
    with page.expect_navigation():
        page.get_by_test_id("next-question").get_by_role("button", name=words, exact=True).click()


def test_facts_give_ranked_matches_and_answers_rerank_them(page: Page, demo_store: TrialStore) -> None:
    fill_child_with_relapsed_b_all(page)
    with page.expect_navigation():
        page.get_by_test_id("find-submit").click()
    first = read_state(page)
    counts = first.counts
    assert counts["considered"] > 20, counts
    assert counts["considered"] == counts["eligible"] + counts["possibly-eligible"] + counts["not-eligible"], counts
    assert counts["not-eligible"] > 0, "a 10-year-old in relapse is ruled out of some ALL trials (adult-only ones)"
    assert first.rows, "no trial listed"
    assert {verdict for _, verdict, _ in first.rows} <= {"eligible", "possibly_eligible"}, first.rows
    for trial_id, _, _ in first.rows:
        assert demo_store.get(trial_id) is not None, f"{trial_id} is listed but not in the store"
    # Best first: likely matches before possible ones.
    verdicts = [verdict for _, verdict, _ in first.rows]
    assert verdicts == sorted(verdicts, key=lambda v: v != "eligible"), verdicts
    assert first.question, "no question asked after the first results"
    expect(page.get_by_test_id("answered")).to_contain_text("No answers yet")
    # The facts stay in the form, for the next step.
    expect(page.get_by_label("Age", exact=True)).to_have_value("10")

    answer(page, "Yes")
    second = read_state(page)
    answered = page.get_by_test_id("answer")
    expect(answered).to_have_count(1)
    expect(answered).to_have_attribute("data-question-id", first.question_id or "")
    expect(answered).to_have_attribute("data-answer", "yes")
    expect(answered).to_contain_text(first.question)
    expect(page.get_by_test_id("match-counts")).to_contain_text("Based on 1 answer")
    assert second.question_id != first.question_id, "the same question was asked again after it was answered"
    assert second.rows != first.rows, f"answering {first.question!r} changed nothing in the list"

    # "Not sure" never rules a trial out, as the page promises.
    answer(page, "Not sure")
    third = read_state(page)
    assert third.counts["not-eligible"] <= second.counts["not-eligible"], (second.counts, third.counts)
    expect(page.get_by_test_id("answer")).to_have_count(2)

    # Clearing both answers brings back the first list and the first question: no state stays on the server.
    for _ in range(2):
        with page.expect_navigation():
            page.get_by_test_id("answer").first.get_by_role("button", name="Clear this answer").click()
    cleared = read_state(page)
    assert cleared.rows == first.rows
    assert cleared.question_id == first.question_id
    expect(page.get_by_test_id("answered")).to_contain_text("No answers yet")


def test_answers_that_rule_trials_out_shrink_the_list(page: Page) -> None:
    """Answering with what excludes people (Yes to exclusion questions, No to inclusion ones) rules trials out."""
    fill_child_with_relapsed_b_all(page)
    with page.expect_navigation():
        page.get_by_test_id("find-submit").click()
    before = read_state(page)
    for _ in range(4):
        state = read_state(page)
        if state.question is None or state.counts["not-eligible"] > before.counts["not-eligible"]:
            break
        answer(page, "No")
    after = read_state(page)
    assert after.counts["not-eligible"] > before.counts["not-eligible"], (
        "four answers of No ruled out no trial", before.counts, after.counts)
    assert after.counts["considered"] == before.counts["considered"]
    assert after.counts["possibly-eligible"] + after.counts["eligible"] < (
        before.counts["possibly-eligible"] + before.counts["eligible"])


def test_missing_age_is_explained_and_keeps_what_was_typed(page: Page) -> None:
    page.goto("/find")
    page.get_by_label("Diagnosis", exact=True).select_option(label="B-cell acute lymphoblastic leukemia (B-ALL)")
    page.get_by_label("Where do you live? (optional)").fill("Leeds, UK")
    with page.expect_navigation():
        page.get_by_test_id("find-submit").click()
    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Enter an age in years")
    expect(page.get_by_label("Age", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Where do you live? (optional)")).to_have_value("Leeds, UK")
    expect(page.get_by_test_id("find-results")).to_have_count(0)


def test_find_page_is_accessible(page: Page, check_accessibility: Callable[[Page], list[dict]]) -> None:
    page.goto("/find")
    check_accessibility(page)
    fill_child_with_relapsed_b_all(page)
    with page.expect_navigation():
        page.get_by_test_id("find-submit").click()
    answer(page, "Yes")  # results, a question, and one answer with its change buttons
    expect(page.get_by_test_id("answer")).to_have_count(1)
    check_accessibility(page)
