"""The search and trial pages, through the real app on the demo store (FastAPI's TestClient, no browser).

Pages are parsed with lxml and checked by their landmarks, ids and test ids, so the tests read what a
person (or a screen reader) gets. Expected values come from the store and the compiled criteria, never
from copies of the page's own wording.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from lxml import html

from trialmatch.criteria.questions import shown as shown_question
from trialmatch.importing import import_paths
from trialmatch.places import distance_km, parse_place
from trialmatch.prescreening import prescreen
from trialmatch.store.sqlite import TrialStore, site_location
from trialmatch.trials.record import OPEN_STATUSES, Phase, Trial
from trialmatch.trials.sources import read_sources
from trialmatch.web.app import create_app

SEED = "NCT06054113"  # Amgen's blinatumomab trial in Chinese children, imported from its web page
PAGE_SIZE = 10


@pytest.fixture(scope="module")
def client(demo_store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(demo_store_path)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def store(demo_store_path: Path) -> Iterator[TrialStore]:
    with TrialStore(demo_store_path) as trial_store:
        yield trial_store


def page(response) -> html.HtmlElement:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    return html.fromstring(response.text)


def text(element: html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def result_ids(doc: html.HtmlElement) -> list[str]:
    return [li.get("data-trial-id") for li in doc.xpath('//li[@data-testid="result"]')]


def assert_headings_in_order(doc: html.HtmlElement) -> None:
    """One h1 first, and no level skipped on the way down."""
    levels = [int(h.tag[1]) for h in doc.xpath("//main//*[self::h1 or self::h2 or self::h3 or self::h4]")]
    assert levels[0] == 1 and levels.count(1) == 1, levels
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels


def one(doc: html.HtmlElement, xpath: str) -> html.HtmlElement:
    found = doc.xpath(xpath)
    assert len(found) == 1, f"{xpath}: {len(found)} matches"
    return found[0]


# --- search ----------------------------------------------------------------------------------------------


def test_front_page_is_the_search_form_with_open_trials(client: TestClient, store: TrialStore) -> None:
    doc = page(client.get("/"))
    form = one(doc, '//form[@role="search"]')
    assert form.get("method") == "get"
    # Every input has a label.
    for control in form.xpath(".//input[@type!='hidden'] | .//select"):
        assert doc.xpath(f'//label[@for="{control.get("id")}"]'), control.get("name")
    assert one(doc, '//select[@name="status"]/option[@selected]').get("value") == "open"
    assert_headings_in_order(doc)
    ids = result_ids(doc)
    assert len(ids) == PAGE_SIZE
    for trial_id in ids:
        assert store.get(trial_id).overall_status in OPEN_STATUSES, trial_id


def test_search_finds_the_seed_trial_and_links_to_its_page(client: TestClient) -> None:
    doc = page(client.get("/", params={"q": "blinatumomab", "status": "any"}))
    assert SEED in result_ids(doc)
    hit = one(doc, f'//li[@data-trial-id="{SEED}"]')
    assert one(hit, ".//h3/a").get("href") == f"/trials/{SEED}"
    assert "1 month to 17 years" in text(hit)  # 1 Month to 204 Months in the record
    assert "Phase 2" in text(hit)


def test_phase_age_and_sex_filters_hold_for_every_result(client: TestClient, store: TrialStore) -> None:
    doc = page(client.get("/", params={"status": "any", "phase": "phase3"}))
    ids = result_ids(doc)
    assert ids
    assert all(Phase.PHASE3 in store.get(i).phases for i in ids)

    doc = page(client.get("/", params={"status": "any", "age": "8", "q": "leukemia"}))
    ids = result_ids(doc)
    assert ids
    for trial_id in ids:
        eligibility = store.get(trial_id).eligibility
        if eligibility.minimum_age:
            assert eligibility.minimum_age.in_days() <= 8 * 365.25, trial_id

    prostate = page(client.get("/", params={"status": "any", "q": "prostate"}))
    assert "NCT00056407" in result_ids(prostate)  # REDUCE: men only
    women = page(client.get("/", params={"status": "any", "q": "prostate", "sex": "female"}))
    assert "NCT00056407" not in result_ids(women)


def test_place_and_radius_show_the_nearest_site_with_its_distance(client: TestClient, store: TrialStore) -> None:
    doc = page(client.get("/", params={"status": "any", "near": "Leeds, UK", "radius": "250", "sort": "distance"}))
    rows = doc.xpath('//li[@data-testid="result"]')
    assert rows
    leeds = parse_place("Leeds, UK")
    distances = []
    for row in rows:
        shown = one(row, './/span[@class="distance"]').text_content()
        km = float(re.search(r"([\d,]+) km", shown).group(1).replace(",", ""))
        distances.append(km)
        # The distance shown is the trial's nearest site to Leeds.
        trial = store.get(row.get("data-trial-id"))
        nearest = min(distance_km(leeds.lat, leeds.lon, g.lat, g.lon)
                      for s in trial.sites if (g := site_location(s)) is not None)
        assert abs(km - nearest) <= 1, (row.get("data-trial-id"), km, nearest)
        assert km <= 250
    assert distances == sorted(distances)


def test_bad_filters_are_explained_on_the_page(client: TestClient) -> None:
    response = client.get("/", params={"near": "Nowhereville-on-Sea", "age": "about ten"})
    assert response.status_code == 200
    doc = page(response)
    summary = one(doc, '//*[@data-testid="search-errors"]')
    assert "Nowhereville-on-Sea" in text(summary)
    assert_headings_in_order(doc)
    assert one(doc, '//input[@name="age"]').get("aria-invalid") == "true"
    assert one(doc, '//input[@name="near"]').get("aria-describedby") == "near-hint near-error"
    assert "Give the age in years" in text(one(doc, '//p[@id="age-error"]'))
    assert not doc.xpath('//*[@data-testid="results"]')  # no search ran on bad input
    # What was typed stays in the form, to be corrected.
    assert one(doc, '//input[@name="near"]').get("value") == "Nowhereville-on-Sea"

    doc = page(client.get("/", params={"radius": "100"}))
    assert "needs a place" in text(one(doc, '//p[@id="near-error"]'))
    doc = page(client.get("/", params={"phase": "phase9"}))
    assert "Choose one of" in text(one(doc, '//p[@id="phase-error"]'))


def test_empty_results_suggest_how_to_widen_the_search(client: TestClient) -> None:
    # No blinatumomab phase 2 trial in the demo store is open; the closed ones are found by widening.
    doc = page(client.get("/", params={"q": "blinatumomab", "phase": "phase2"}))
    assert result_ids(doc) == []
    assert text(one(doc, '//h2[@id="results-heading"]')) == "No trials found"
    help_box = one(doc, '//*[@data-testid="no-results"]')
    links = {text(a): a.get("href") for a in help_box.xpath(".//a")}
    drop_phase = next(href for label, href in links.items() if "phase" in label)
    assert parse_qs(urlparse(drop_phase).query) == {"q": ["blinatumomab"], "status": ["open"]}
    widen = next(href for label, href in links.items() if "any status" in label)
    assert parse_qs(urlparse(widen).query) == {"q": ["blinatumomab"], "status": ["any"], "phase": ["phase2"]}
    assert SEED in result_ids(page(client.get(widen)))


def test_results_are_paged_with_previous_and_next_links(client: TestClient, store: TrialStore) -> None:
    first = page(client.get("/", params={"status": "any"}))
    pages = -(-store.count() // PAGE_SIZE)
    nav = one(first, '//nav[@data-testid="pagination"]')
    assert f"Page 1 of {pages}" in text(nav)
    next_href = one(nav, './/a[@rel="next"]').get("href")
    assert parse_qs(urlparse(next_href).query) == {"status": ["any"], "page": ["2"]}

    second = page(client.get(next_href))
    assert f"Page 2 of {pages}" in text(one(second, '//nav[@data-testid="pagination"]'))
    assert one(second, '//ol[@class="results"]').get("start") == str(PAGE_SIZE + 1)
    assert not set(result_ids(first)) & set(result_ids(second))
    prev_href = one(second, '//a[@rel="prev"]').get("href")
    assert result_ids(page(client.get(prev_href))) == result_ids(first)

    last = page(client.get("/", params={"status": "any", "page": str(pages)}))
    assert not last.xpath('//a[@rel="next"]')
    assert len(result_ids(last)) == store.count() - (pages - 1) * PAGE_SIZE

    beyond = page(client.get("/", params={"status": "any", "page": str(pages + 5)}))
    assert one(beyond, '//p[@data-testid="no-results"]//a').get("href").endswith(f"page={pages}")
    junk = page(client.get("/", params={"status": "any", "page": "two"}))
    assert result_ids(junk) == result_ids(first)
    assert "whole number" in text(one(junk, '//*[@data-testid="search-errors"]'))


# --- the trial page --------------------------------------------------------------------------------------


def test_trial_page_has_every_section(client: TestClient, store: TrialStore) -> None:
    doc = page(client.get(f"/trials/{SEED}"))
    trial, compiled = store.get(SEED), store.compiled(SEED)
    assert text(one(doc, "//h1")) == trial.title
    assert_headings_in_order(doc)
    for section in ("summary", "who-can", "who-cannot", "prescreen", "sites", "criteria", "details", "similar"):
        assert doc.xpath(f'//section[@id="{section}"]'), section

    summary = text(one(doc, '//section[@id="summary"]'))
    assert "Blinatumomab" in summary and "phase 2" in summary and "18 people" in summary

    who_can = [text(li) for li in doc.xpath('//ul[@data-testid="who-can"]/li')]
    who_cannot = [text(li) for li in doc.xpath('//ul[@data-testid="who-cannot"]/li')]
    assert len(who_can) == len(compiled.inclusion()) and len(who_cannot) == len(compiled.exclusion())
    for criterion, shown in zip(compiled.exclusion(), who_cannot, strict=True):
        plain = criterion.question if not criterion.question.startswith("Does this apply") else criterion.text
        assert " ".join(plain.split()) in shown

    rows = doc.xpath('//li[@data-testid="criterion"]')
    top = [r for r in rows if "." not in r.get("data-criterion-id")]
    assert [r.get("data-criterion-id") for r in top] == [c.id for c in compiled.criteria]
    for row, criterion in zip(top, compiled.criteria, strict=True):
        assert " ".join(criterion.text.split()) in text(one(row, './p[contains(@class, "criterion-text")]'))
        assert ("is-question" in row.get("class")) == (not criterion.computable)

    details = text(one(doc, '//section[@id="details"]'))
    assert "Amgen" in details and "20190359" in details and "2025-11-13" in details
    assert "demo-corpus.zip" not in details and "/work/" not in details  # no server paths on the page
    assert one(doc, '//a[@data-testid="print-link"]').get("href") == f"/trials/{SEED}/print"
    similar = doc.xpath('//section[@id="similar"]//a/@href')
    assert similar and f"/trials/{SEED}" not in similar


def test_sites_are_listed_nearest_first_with_a_place(client: TestClient, store: TrialStore) -> None:
    doc = page(client.get(f"/trials/{SEED}", params={"near": "Beijing"}))
    shown = [float(d.text_content().split(" km")[0].replace(",", ""))
             for d in doc.xpath('//p[@data-testid="site-distance"]')]
    assert len(shown) == len(store.get(SEED).sites)
    assert shown == sorted(shown) and shown[0] < 150  # Tianjin is next door

    unsorted = page(client.get(f"/trials/{SEED}"))
    assert not unsorted.xpath('//p[@data-testid="site-distance"]')
    facilities = [text(h) for h in unsorted.xpath('//li[@data-testid="site"]/h3')]
    assert facilities == [s.facility for s in store.get(SEED).sites]  # the record's order

    lost = page(client.get(f"/trials/{SEED}", params={"near": "Atlantis Under The Sea"}))
    assert "Atlantis Under The Sea" in text(one(lost, '//p[@id="near-error"]'))
    assert len(lost.xpath('//li[@data-testid="site"]')) == len(store.get(SEED).sites)


def test_every_demo_trial_page_renders(client: TestClient, store: TrialStore) -> None:
    for trial in store.iter_trials():
        response = client.get(f"/trials/{trial.id}")
        assert response.status_code == 200, trial.id
        doc = page(response)
        assert text(one(doc, "//h1")) == " ".join(trial.title.split()), trial.id
        assert len(doc.xpath('//li[@data-testid="site"]')) == min(len(trial.sites), 25), trial.id


def test_a_record_without_criteria_text_says_so(shared_dir: Path, tmp_path: Path) -> None:
    trial = next(iter(read_sources([shared_dir / "data" / "ctgov-api-v2" / "NCT02513394.json"])))
    assert isinstance(trial, Trial)
    bare = trial.model_copy(update={"eligibility": trial.eligibility.model_copy(update={"criteria_text": None}),
                                    "sites": []})
    with TrialStore(tmp_path / "bare.db") as trial_store:
        trial_store.save(bare)
    with TestClient(create_app(tmp_path / "bare.db")) as bare_client:
        doc = page(bare_client.get("/trials/NCT02513394"))
    assert "gives no eligibility criteria beyond its age range (18 years and over)" in text(
        one(doc, '//section[@id="who-can"]'))
    assert "no criteria text" in text(one(doc, '//section[@id="criteria"]'))
    assert "lists no sites" in text(one(doc, '//section[@id="sites"]'))
    # Only the record's own age limit is left to ask.
    assert list(questions(doc).values()) == ["Are you 18 years or older?"]


def test_unknown_trial_is_a_404_page(client: TestClient) -> None:
    response = client.get("/trials/NCT00000000")
    assert response.status_code == 404
    doc = page(response)
    assert text(one(doc, "//h1")) == "Not found"
    assert "NCT00000000" in text(one(doc, '//*[@role="alert"]'))


def test_a_trial_found_by_its_sponsor_number_moves_to_its_own_address(client: TestClient) -> None:
    response = client.get("/trials/20190359", params={"near": "Beijing"}, follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == f"/trials/{SEED}?near=Beijing"


def test_print_version_has_the_handout_sections(client: TestClient) -> None:
    doc = page(client.get(f"/trials/{SEED}/print"))
    for section in ("summary", "who-can", "who-cannot", "sites", "details"):
        assert doc.xpath(f'//section[@id="{section}"]'), section
    assert not doc.xpath('//form[@id="prescreen-form"]')
    assert doc.xpath('//link[@rel="stylesheet" and @href="/static/print.css"]')


# --- hostile text ----------------------------------------------------------------------------------------


HOSTILE_TITLE = '<script>alert("title")</script> Palbociclib <b onmouseover="x()">study</b>'
HOSTILE_ITEM = '<img src=x onerror="alert(1)"> Age 18 or older'


@pytest.fixture(scope="module")
def hostile_client(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A store holding a real CT.gov record edited to carry HTML and script in its text fields."""
    study = json.loads((shared_dir / "data" / "ctgov-api-v2" / "NCT02513394.json").read_text())
    study = copy.deepcopy({k: v for k, v in study.items() if k != "resultsSection"})
    protocol = study["protocolSection"]
    protocol["identificationModule"]["briefTitle"] = HOSTILE_TITLE
    eligibility = protocol["eligibilityModule"]
    eligibility["eligibilityCriteria"] = eligibility["eligibilityCriteria"].replace(
        "Inclusion Criteria:", f"Inclusion Criteria:\n\n* {HOSTILE_ITEM}\n", 1)
    protocol["conditionsModule"]["conditions"].insert(0, "<svg onload=alert(2)>")
    location = protocol["contactsLocationsModule"]["locations"][0]
    location["facility"] = '"><script>alert(3)</script>'
    folder = tmp_path_factory.mktemp("hostile")
    source = folder / "NCT02513394.json"
    source.write_text(json.dumps(study))
    db = folder / "hostile.db"
    with TrialStore(db) as trial_store:
        report = import_paths(trial_store, [source])
        assert report.counts["imported"] == 1, report.as_dict()
    with TestClient(create_app(db)) as test_client:
        yield test_client


def test_hostile_text_in_a_record_is_escaped(hostile_client: TestClient) -> None:
    for url in ("/trials/NCT02513394", "/trials/NCT02513394/print", "/?q=palbociclib&status=any"):
        body = hostile_client.get(url).text
        doc = html.fromstring(body)
        scripts = doc.xpath("//script")
        assert all(s.get("src") == "/static/prescreen.js" and not (s.text or "").strip() for s in scripts), url
        assert not doc.xpath("//img | //svg | //*[@onerror or @onload or @onmouseover]"), url
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in body or "&lt;script&gt;" in body, url
    doc = page(hostile_client.get("/trials/NCT02513394"))
    assert text(one(doc, "//h1")) == HOSTILE_TITLE  # shown as the text it is
    assert any(HOSTILE_ITEM in text(li) for li in doc.xpath('//ul[@data-testid="who-can"]/li'))
    assert any('"><script>alert(3)</script>' in text(h) for h in doc.xpath('//li[@data-testid="site"]/h3'))
    # What a person types is echoed back as text too.
    typed = '"><script>alert(4)</script>'
    doc = page(hostile_client.get("/", params={"q": typed, "near": typed}))
    assert not doc.xpath("//script")
    assert one(doc, '//input[@name="q"]').get("value") == typed
    assert typed in text(one(doc, '//*[@data-testid="search-errors"]'))


# --- pre-screening without JavaScript --------------------------------------------------------------------


def form_fields(doc: html.HtmlElement) -> dict[str, str]:
    form = one(doc, '//form[@id="prescreen-form"]')
    return {i.get("name"): i.get("value") for i in form.xpath('.//input[@type="hidden"]')}


def questions(doc: html.HtmlElement) -> dict[str, str]:
    """Question id -> the question (the legend of its fieldset)."""
    fieldsets = doc.xpath('//fieldset[@data-testid="question"]')
    return {f.get("data-question-id"): text(one(f, "./legend")) for f in fieldsets}


def post_answers(client: TestClient, trial_id: str, answers: dict[str, str], action: str = "check",
                 token: str | None = None) -> html.HtmlElement:
    doc = page(client.get(f"/trials/{trial_id}"))
    fields = form_fields(doc)
    if token is not None:
        fields["csrf_token"] = token
    response = client.post(f"/trials/{trial_id}/prescreen", data={**fields, **answers, "action": action})
    assert response.status_code == 200, response.text[:500]
    return page(response)


def result_box(doc: html.HtmlElement) -> html.HtmlElement:
    return one(doc, '//*[@id="prescreen-result"]')


def test_prescreen_questions_are_fieldsets_with_three_labelled_choices(client: TestClient, store: TrialStore) -> None:
    doc = page(client.get(f"/trials/{SEED}"))
    expected = prescreen(store.get(SEED), store.compiled(SEED)).questions
    fieldsets = doc.xpath('//fieldset[@data-testid="question"]')
    assert [f.get("data-question-id") for f in fieldsets] == [q.question_id for q in expected]
    for fieldset, question in zip(fieldsets, expected, strict=True):
        # A long criterion asked as written shows its first sentence; the whole text is under it.
        assert text(one(fieldset, "./legend")) == " ".join(shown_question(question.question).split())
        radios = fieldset.xpath('.//input[@type="radio"]')
        assert [r.get("value") for r in radios] == ["yes", "no", "not_sure"]
        labels = [text(one(doc, f'//label[@for="{r.get("id")}"]')) for r in radios]
        assert labels == ["Yes", "No", "Not sure"]
        assert not any(r.get("checked") is not None for r in radios)
        quoted_whole = question.question.startswith("Does this apply")
        if shown_question(question.question) != question.question or not quoted_whole:
            source = one(fieldset, './/p[contains(@class, "question-source")]')
            assert " ".join(question.text.split()) in text(source)
            assert source.get("id") in fieldset.get("aria-describedby")
    assert text(one(doc, '//button[@id="prescreen-submit"]')) == "Check my answers"
    assert text(one(doc, '//button[@id="prescreen-clear"]')) == "Clear my responses"
    region = result_box(doc)
    assert region.get("aria-live") == "polite" and not text(region)


#: An adult with B-ALL relapsed after salvage therapy and after a donor transplant over a year ago, fit and
#: otherwise well (NCT04521231's questions).
ADULT_RELAPSE = {
    "Are you 18 years or older?": "yes",
    "(ECOG performance status 0, 1 or 2)": "yes",
    "Do you have the illness this trial is for after salvage treatment": "yes",
    "Is your share of leukaemia cells (blasts) in your bone marrow at least 5 %?": "yes",
    "with any of the following": "yes",
    "Do you have the illness this trial is for that came back after a stem cell transplant": "yes",
}


def adult_answers(doc: html.HtmlElement) -> dict[str, str]:
    answers = {}
    for qid, question in questions(doc).items():
        given = next((answer for start, answer in ADULT_RELAPSE.items() if start in question), None)
        answers[qid] = given or "no"  # every other question asks about something that would rule them out
    return answers


def test_prescreen_answers_give_likely_eligible(client: TestClient) -> None:
    trial_id = "NCT04521231"
    answers = adult_answers(page(client.get(f"/trials/{trial_id}")))
    doc = post_answers(client, trial_id, answers)
    box = result_box(doc)
    assert one(box, ".//h3").get("data-result") == "likely_eligible"
    assert text(one(box, ".//h3")) == "Likely eligible"
    # The answers stay in the form, and nothing else is chosen.
    checked = {r.get("name"): r.get("value") for r in doc.xpath('//input[@type="radio"][@checked]')}
    assert checked == {**answers, "perspective": "self"}


def test_prescreen_answer_that_rules_out_names_the_criterion(client: TestClient) -> None:
    trial_id = "NCT04521231"
    doc = page(client.get(f"/trials/{trial_id}"))
    answers = adult_answers(doc)
    cns = next(qid for qid, q in questions(doc).items() if "brain or spinal fluid" in q)
    answers[cns] = "yes"
    box = result_box(post_answers(client, trial_id, answers))
    assert one(box, ".//h3").get("data-result") == "not_eligible"
    items = [text(li) for li in box.xpath('.//ul[@class="result-items"]/li')]
    source = text(one(doc, f'//fieldset[@data-question-id="{cns}"]//p[contains(@class, "question-source")]'))
    assert items == [source.removeprefix("The trial says: ")]


def test_prescreen_not_sure_gives_possibly_eligible_listing_what_is_open(client: TestClient) -> None:
    trial_id = "NCT04521231"
    doc = page(client.get(f"/trials/{trial_id}"))
    answers = adult_answers(doc)
    unsure = next(qid for qid, q in questions(doc).items() if "ECOG" in q)
    answers[unsure] = "not_sure"
    box = result_box(post_answers(client, trial_id, answers))
    assert one(box, ".//h3").get("data-result") == "possibly_eligible"
    assert "talk to the study team" in text(box).lower()
    items = [text(li) for li in box.xpath('.//ul[@class="result-items"]/li')]
    assert len(items) == 1 and "ECOG" in items[0]


def test_clear_my_responses_empties_the_form(client: TestClient) -> None:
    doc = page(client.get(f"/trials/{SEED}"))
    first = next(iter(questions(doc)))
    cleared = post_answers(client, SEED, {first: "yes"}, action="clear")
    assert not cleared.xpath('//input[@type="radio"][starts-with(@name, "q-")][@checked]')
    assert "cleared" in text(result_box(cleared))
    assert not result_box(cleared).xpath(".//h3")


def test_prescreen_post_without_a_valid_token_is_refused(client: TestClient, demo_store_path: Path) -> None:
    doc = page(client.get(f"/trials/{SEED}"))
    first = next(iter(questions(doc)))
    response = client.post(f"/trials/{SEED}/prescreen", data={first: "yes"})
    assert response.status_code == 403
    assert "expired" in text(one(page(response), '//*[@role="alert"]'))
    forged = client.post(f"/trials/{SEED}/prescreen", data={first: "yes", "csrf_token": "forged.token"})
    assert forged.status_code == 403
    # A token from another browser (another cookie) is refused too.
    with TestClient(create_app(demo_store_path)) as other:
        other_token = form_fields(page(other.get(f"/trials/{SEED}")))["csrf_token"]
    refused = client.post(f"/trials/{SEED}/prescreen", data={first: "yes", "csrf_token": other_token})
    assert refused.status_code == 403


def test_live_prescreen_script_is_a_static_file_under_the_csp(client: TestClient) -> None:
    response = client.get(f"/trials/{SEED}")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    doc = page(response)
    assert [s.get("src") for s in doc.xpath("//script")] == ["/static/prescreen.js"]
    assert not doc.xpath("//*[@style]")
    form = one(doc, '//form[@id="prescreen-form"]')
    assert form.get("data-api") == f"/api/trials/{SEED}/prescreen"
    wording = json.loads(result_box(doc).get("data-wording"))
    assert wording["not_eligible"][0] == "Not eligible"
    script = client.get("/static/prescreen.js")
    assert script.status_code == 200
    assert "textContent" in script.text and "innerHTML" not in script.text


# --- who is answering -------------------------------------------------------------------------------------


def test_a_carer_sees_the_same_questions_in_the_third_person(client: TestClient, store: TrialStore) -> None:
    own = page(client.get(f"/trials/{SEED}"))
    carer = page(client.get(f"/trials/{SEED}?perspective=carer"))
    mine, theirs = questions(own), questions(carer)
    assert list(mine) == list(theirs)  # same ids, same order: an answer means the same whoever gives it
    assert theirs[next(iter(theirs))] == "Is the patient between 1 month and 17 years old?"
    for qid, question in theirs.items():
        outside_quotes = re.sub(r'"[^"]*"', "", question)
        assert not re.search(r"\b(you|your)\b", outside_quotes, re.IGNORECASE), question
        legend = one(carer, f'//fieldset[@data-question-id="{qid}"]/legend')
        assert legend.get("data-self") == mine[qid] and legend.get("data-carer") == question
    chosen = one(carer, '//input[@name="perspective"][@checked]')
    assert chosen.get("value") == "carer"
    assert one(own, '//input[@name="perspective"][@checked]').get("value") == "self"


def test_switching_to_carer_wording_keeps_the_answers_without_javascript(client: TestClient) -> None:
    trial_id = "NCT04521231"
    doc = page(client.get(f"/trials/{trial_id}"))
    answers = adult_answers(doc)
    fields = form_fields(doc)
    response = client.post(f"/trials/{trial_id}/prescreen",
                           data={**fields, **answers, "perspective": "carer", "action": "perspective"})
    switched = page(response)
    checked = {r.get("name"): r.get("value") for r in switched.xpath('//input[@type="radio"][@checked]')}
    assert checked == {**answers, "perspective": "carer"}
    assert all(q.startswith(("Is the patient", "Has the patient", "Does the patient", "Was the patient",
                             "Are the patient", "If the patient", "Does this apply to the patient"))
               for q in questions(switched).values()), questions(switched)
    box = result_box(switched)
    assert one(box, ".//h3").get("data-result") == "likely_eligible" and "the patient" in text(box)
