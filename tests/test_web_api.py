"""The JSON API over the bundled demo store: search, records, criteria, similar trials, matching, pre-screening.

Requests go through the real app (FastAPI TestClient) to a real SQLite store built from the demo corpus;
patients are the shared FHIR bundles, the bundled demo profile and the fixtures in tests/fixtures/patients.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from trialmatch.matching.trial_plan import build_plan
from trialmatch.prescreening import InvalidAnswer, UnknownQuestion, prescreen, prescreen_stored
from trialmatch.store.similar import similar_trials
from trialmatch.store.sqlite import TrialStore
from trialmatch.trials.record import OPEN_STATUSES
from trialmatch.web.app import create_app
from trialmatch.web.settings import WebSettings

ROOT = Path(__file__).resolve().parents[1]
DEMO_PROFILE = ROOT / "src" / "trialmatch" / "data" / "patients" / "demo-child-relapsed-b-all.yaml"
MCODE_BUNDLE = ROOT / "tests" / "fixtures" / "patients" / "fhir" / "mcode-pediatric-b-all.json"
AS_OF = "2026-06-01"
BLINA = "NCT06054113"  # blinatumomab in children with relapsed/refractory B-ALL: ages 1 month to 204 months
CRUK_BLINA = "CRUK-8795"  # blinatumomab for ALL: no negated criteria, so favourable answers are plain yes/no
MALE_ONLY = "NCT00056407"  # the REDUCE study: male participants only
ERROR_KEYS = {"status", "code", "message", "details"}
JSON_HEADERS = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(demo_store_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(demo_store_path)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def demo_profile() -> dict:
    # YAML reads dates as dates; a JSON client sends them as strings.
    return json.loads(json.dumps(yaml.safe_load(DEMO_PROFILE.read_text("utf-8")), default=str))


def error_of(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    """The error body, after checking the status, the JSON content type and the one error shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == ERROR_KEYS
    assert error["status"] == status and error["message"]
    return error


def favourable(question: dict, negated: set[str]) -> str:
    """The answer that keeps a patient in: "yes" to an inclusion, "no" to an exclusion, turned round when the
    question asks about what the criterion negates ("No prior transplant" asks "Have you had a transplant?")."""
    answer = question["section"] == "inclusion"
    if question["question_id"] in negated:
        answer = not answer
    return "yes" if answer else "no"


def negated_questions(store: TrialStore, trial_id: str) -> set[str]:
    plan = build_plan(store.get(trial_id), store.compiled(trial_id))
    return {c.question_id for c in plan.criteria if c.answer_negates}


# --- GET /api/trials -----------------------------------------------------------------------------------------

def test_search_finds_a_drug_by_name_and_shows_each_hit(client: TestClient, demo_store: TrialStore) -> None:
    body = client.get("/api/trials", params={"q": "blinatumomab", "status": "any", "per_page": 50}).json()
    ids = [hit["id"] for hit in body["results"]]
    assert BLINA in ids and CRUK_BLINA in ids
    assert body["total"] == len(ids) and body["total_is_exact"]
    for hit in body["results"]:
        trial = demo_store.get(hit["id"])
        assert trial is not None
        text = " ".join([trial.title, *(i.name for i in trial.interventions), trial.brief_summary or ""]).lower()
        assert "blinatumomab" in text
    blina = next(hit for hit in body["results"] if hit["id"] == BLINA)
    assert blina["age_range"] == "1 Month to 204 Months"
    assert blina["phases"] == ["PHASE2"] and blina["url"] == f"/api/trials/{BLINA}"
    assert blina["nearest_site"]["country"] == "China"


def test_search_defaults_to_open_trials(client: TestClient) -> None:
    default = client.get("/api/trials", params={"per_page": 100}).json()
    everything = client.get("/api/trials", params={"status": "any", "per_page": 100}).json()
    assert default["results"]
    assert {hit["status"] for hit in default["results"]} <= {s.value for s in OPEN_STATUSES}
    assert everything["total"] > default["total"]
    several = client.get("/api/trials", params={"status": "completed,terminated", "per_page": 100}).json()
    assert {hit["status"] for hit in several["results"]} == {"COMPLETED", "TERMINATED"}


def test_search_condition_and_age_filters(client: TestClient) -> None:
    child = client.get("/api/trials", params={"condition": "B-ALL", "age": 10, "status": "any",
                                              "per_page": 100}).json()
    adult = client.get("/api/trials", params={"condition": "B-ALL", "age": 30, "status": "any",
                                              "per_page": 100}).json()
    assert BLINA in {hit["id"] for hit in child["results"]}
    assert BLINA not in {hit["id"] for hit in adult["results"]}  # 204 months is 17 years
    assert adult["results"], "adult B-ALL trials exist in the demo store"


def test_search_phase_filter(client: TestClient) -> None:
    body = client.get("/api/trials", params={"phase": "3", "status": "any", "per_page": 100}).json()
    assert body["results"] and all("PHASE3" in hit["phases"] for hit in body["results"])


def test_search_near_a_place_sorted_by_distance(client: TestClient) -> None:
    body = client.get("/api/trials", params={"near": "Leeds, UK", "within": 300, "sort": "distance",
                                             "status": "any", "per_page": 20}).json()
    distances = [hit["nearest_site"]["distance_km"] for hit in body["results"]]
    assert distances and all(d <= 300 for d in distances)
    assert distances == sorted(distances)
    assert {hit["nearest_site"]["country"] for hit in body["results"]} == {"United Kingdom"}


def test_search_pages(client: TestClient) -> None:
    first = client.get("/api/trials", params={"status": "any", "per_page": 5, "page": 1}).json()
    second = client.get("/api/trials", params={"status": "any", "per_page": 5, "page": 2}).json()
    assert first["total"] == second["total"] > 10
    assert len(first["results"]) == len(second["results"]) == 5
    assert not {h["id"] for h in first["results"]} & {h["id"] for h in second["results"]}
    assert client.get("/api/trials").json()["per_page"] == 10  # the app's page size


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"phase": "7"}, "phase", "phase1"),
    ({"near": "Atlantisville"}, "near", "latitude,longitude"),
    ({"within": 50}, "within", "near"),
    ({"sex": "robot"}, "sex", "female or male"),
    ({"status": "sleeping"}, "status", "recruiting"),
    ({"age": -1}, "age", "greater than or equal to 0"),
    ({"per_page": 500}, "per_page", "less than or equal to 100"),
    ({"sort": "distance"}, "sort", "place"),
])
def test_bad_search_filters_are_422_naming_the_field(client: TestClient, params: dict, field: str,
                                                     words: str) -> None:
    error = error_of(client.get("/api/trials", params=params), 422)
    assert error["details"][0]["field"] == field
    assert words in error["message"]


# --- GET /api/trials/{id} ------------------------------------------------------------------------------------

def test_trial_record_by_any_registry_id(client: TestClient) -> None:
    record = client.get(f"/api/trials/{BLINA}").json()
    assert record["id"] == BLINA and "Blinatumomab" in record["brief_title"]
    minimum = record["eligibility"]["minimum_age"]
    assert (minimum["value"], minimum["unit"]) == (1, "Months")
    assert client.get("/api/trials/20190359").json()["id"] == BLINA  # Amgen's protocol number
    assert client.get("/api/trials/nct06054113").json()["id"] == BLINA
    assert client.get("/api/trials/BSMMU/2022/4193").json()["id"] == "NCT05380479"  # an id with slashes


def test_missing_trial_is_404_in_the_error_shape(client: TestClient) -> None:
    error = error_of(client.get("/api/trials/NCT00000000"), 404)
    assert error["code"] == "trial_not_found" and "NCT00000000" in error["message"]
    for path in ("criteria", "similar"):
        assert error_of(client.get(f"/api/trials/NCT00000000/{path}"), 404)["code"] == "trial_not_found"


# --- GET /api/trials/{id}/criteria ---------------------------------------------------------------------------

def test_criteria_tree_with_rules_descriptions_and_questions(client: TestClient) -> None:
    body = client.get(f"/api/trials/{BLINA}/criteria").json()
    assert not body["uncompiled"] and body["compiler_version"]
    # The record's "1 Month" to "204 Months" is one question, in the units people say ages in.
    assert [c["id"] for c in body["limits"]] == ["age"]
    assert body["limits"][0]["question"] == "Are you between 1 month and 17 years old?"
    assert body["limits"][0]["structured"]
    by_id = {c["id"]: c for c in body["criteria"]}
    assert [c["section"] for c in body["criteria"]].index("exclusion") == 4  # four inclusions first
    age = by_id["inc-1"]
    assert age["category"] == "age" and age["computable"]
    assert age["rule"]["kind"] in ("all", "any", "age") and "age" in age["description"]
    hiv = by_id["exc-8"]
    assert hiv["question"] == "Do you have HIV, hepatitis B or hepatitis C?" and hiv["question_id"].startswith("q-")
    text = body["criteria_text"]
    for criterion in body["criteria"]:
        start, end = criterion["span"]
        assert criterion["text"].split()[0] in text[start:end]  # spans point into the criteria text
    prescreened = client.post(f"/api/trials/{BLINA}/prescreen", json={}).json()
    listed = {c["question_id"] for c in (*body["limits"], *body["criteria"])}
    assert {q["question_id"] for q in prescreened["questions"]} <= listed


# --- GET /api/trials/{id}/similar ----------------------------------------------------------------------------

def test_similar_trials_share_disease_or_drug(client: TestClient) -> None:
    body = client.get(f"/api/trials/{BLINA}/similar").json()
    results = body["results"]
    assert body["trial_id"] == BLINA and len(results) == 5
    assert BLINA not in {r["trial"]["id"] for r in results}
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    for result in results:
        assert any(reason in ("same drug: Blinatumomab", "same condition: B-ALL", "broader condition: ALL")
                   for reason in result["reasons"]), result
    assert "same drug: Blinatumomab" in results[0]["reasons"]
    assert len(client.get(f"/api/trials/{BLINA}/similar", params={"limit": 2}).json()["results"]) == 2
    assert error_of(client.get(f"/api/trials/{BLINA}/similar", params={"limit": 0}), 422)["details"][0][
        "field"] == "limit"


def test_similar_trials_for_a_trial_not_in_the_store(demo_store: TrialStore) -> None:
    trial = demo_store.get(BLINA)
    assert trial is not None
    copy = trial.model_copy(update={"id": "LOCAL-1"})
    found = similar_trials(demo_store, copy, limit=3)
    original = next(s for s in found if s.trial.id == BLINA)  # the stored original shares everything with its copy
    assert original.score == found[0].score
    assert set(original.reasons) == {"same drug: Blinatumomab", "same condition: B-ALL", "same phase: Phase 2"}


# --- POST /api/match -----------------------------------------------------------------------------------------

def test_match_a_profile_ranks_verdicts_with_evidence(client: TestClient, demo_profile: dict) -> None:
    response = client.post("/api/match", params={"as_of": AS_OF, "status": "any", "limit": 100}, json=demo_profile)
    body = response.json()
    assert response.status_code == 200, body
    assert body["as_of"] == AS_OF
    assert body["considered"] == sum(body["counts"].values()) > 0
    verdicts = [m["verdict"] for m in body["matches"]]
    assert "not_eligible" not in verdicts  # only shown when asked for
    assert len(verdicts) == body["counts"]["eligible"] + body["counts"]["possibly_eligible"]
    blina = next(m for m in body["matches"] if m["trial_id"] == BLINA)
    assert blina["verdict"] == "possibly_eligible"
    minimum = next(c for c in blina["criteria"] if c["id"] == "age")
    assert minimum["verdict"] == "met" and minimum["evidence"] == [{"statement": "born 2016-03-02",
                                                                     "source": "profile"}]
    assert blina["open_questions"] == sum(c["verdict"] == "unknown" for c in blina["criteria"]) > 0
    question = body["next_questions"][0]
    assert question["could_settle"] == len(question["trials"]) > 1


def test_match_can_show_the_trials_ruled_out_and_why(client: TestClient, demo_profile: dict) -> None:
    body = client.post("/api/match", params={"as_of": AS_OF, "status": "any", "limit": 100,
                                             "include_not_eligible": True}, json=demo_profile).json()
    ruled_out = [m for m in body["matches"] if m["verdict"] == "not_eligible"]
    assert ruled_out
    for match in ruled_out:
        deciding = [c for c in match["criteria"] if c["decides"]]
        assert deciding and all(c["evidence"] for c in deciding)


def test_match_a_shared_fhir_bundle(client: TestClient, shared_dir: Path) -> None:
    bundle = json.loads((shared_dir / "patients" / "fhir" / "mitre-patient_data.json").read_text("utf-8"))
    body = client.post("/api/match", params={"status": "any"}, json=bundle).json()
    assert body["considered"] > 0 and body["matches"]
    # FHIR as the body of an envelope with options gives the same verdicts.
    wrapped = client.post("/api/match", json={"patient": bundle, "status": "any", "limit": 3}).json()
    assert [m["trial_id"] for m in wrapped["matches"]] == [m["trial_id"] for m in body["matches"][:3]]


def test_match_an_uploaded_fhir_file_with_form_options(client: TestClient) -> None:
    with MCODE_BUNDLE.open("rb") as handle:
        response = client.post("/api/match", files={"file": ("record.json", handle, "application/fhir+json")},
                               data={"status": "any", "as_of": AS_OF, "limit": "5"})
    body = response.json()
    assert response.status_code == 200, body
    assert len(body["matches"]) == 5 and body["as_of"] == AS_OF
    assert BLINA in {m["trial_id"] for m in body["matches"]}
    assert any("not used" in warning for warning in body["warnings"])  # what the reader could not use


def test_match_an_uploaded_yaml_profile_and_a_note(client: TestClient) -> None:
    with DEMO_PROFILE.open("rb") as handle:
        profile = client.post("/api/match", files={"file": ("child.yaml", handle, "application/yaml")},
                              data={"as_of": AS_OF, "status": "any"}).json()
    assert profile["counts"]["possibly_eligible"] > 0
    note = (ROOT / "tests" / "fixtures" / "notes" / "adult_b_all_second_relapse.txt").read_text("utf-8")
    from_note = client.post("/api/match", json={"note": note, "as_of": AS_OF, "status": "any"}).json()
    assert from_note["considered"] > 0


def test_match_near_a_place_measures_each_trial(client: TestClient, demo_profile: dict) -> None:
    body = client.post("/api/match", params={"as_of": AS_OF, "status": "any", "near": "Tianjin"},
                       json=demo_profile).json()
    assert body["near"]["name"] == "Tianjin"
    blina = next(m for m in body["matches"] if m["trial_id"] == BLINA)
    assert blina["distance_km"] is not None and blina["distance_km"] < 50
    assert "Tianjin" in blina["nearest_site"]


def test_match_body_options_override_the_query(client: TestClient, demo_profile: dict) -> None:
    body = client.post("/api/match", params={"limit": 50, "status": "any"},
                       json={"patient": demo_profile, "limit": 2, "as_of": AS_OF}).json()
    assert len(body["matches"]) == 2 and body["as_of"] == AS_OF


@pytest.mark.parametrize(("body", "status", "code", "words"), [
    (b'{"sex": "male",', 400, "invalid_json", "not valid JSON"),
    (b"", 400, "empty_body", "empty"),
    (b'{"resourceType": "Bundle", "type": "collection", "entry": []}', 422, "invalid_patient", "no entries"),
    (b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}, '
     b'{"resource": {"resourceType": "Patient"}}]}', 422, "invalid_patient", "2 patients"),
    (b'{"age": "old"}', 422, "invalid_patient", "age"),
    (b'{"sex": "male", "favourite_colour": "blue"}', 422, "invalid_patient", "favourite_colour"),
    (b"[1, 2]", 422, "invalid_patient", "must be an object"),
    (b'{"patient": {"sex": "male"}, "note": "a note"}', 422, "invalid_input", "exactly one"),
    (b'{"patient": {"sex": "male"}, "limit": 0}', 422, "invalid_input", "limit"),
    (b'{"patient": {"sex": "male"}, "as_of": "yesterday"}', 422, "invalid_input", "as_of"),
    (b'{"patient": {"sex": "male"}, "near": "Atlantisville"}', 422, "invalid_input", "Atlantisville"),
    (b'{"patient": {"sex": "male"}, "status": "sleeping"}', 422, "invalid_input", "status"),
])
def test_bad_match_bodies_get_the_readers_message(client: TestClient, body: bytes, status: int, code: str,
                                                  words: str) -> None:
    error = error_of(client.post("/api/match", content=body, headers=JSON_HEADERS), status)
    assert error["code"] == code
    assert words in error["message"]


def test_bad_upload_and_query_values(client: TestClient) -> None:
    error = error_of(client.post("/api/match", files={"file": ("p.json", b"{not json", "application/json")}), 422)
    assert "not valid JSON" in error["message"]
    error = error_of(client.post("/api/match", files={"file": ("p.bin", b"\xff\xfe\x00bad", "application/x")}), 422)
    assert "UTF-8" in error["message"]
    error = error_of(client.post("/api/match", files={"other": ("p.json", b"{}", "application/json")}), 422)
    assert error["details"][0]["field"] == "file"
    error = error_of(client.post("/api/match", params={"as_of": "2026-13-45"}, json={"sex": "male"}), 422)
    assert error["details"][0]["field"] == "as_of"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_post_endpoints_refuse_other_content_types(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for path in ("/api/match", f"/api/trials/{BLINA}/prescreen"):
        error = error_of(client.post(path, content=b'{"sex": "male"}', headers=headers), 415)
        assert "application/json" in error["message"]


def test_prescreen_refuses_multipart(client: TestClient) -> None:
    response = client.post(f"/api/trials/{BLINA}/prescreen", files={"file": ("a.json", b"{}", "application/json")})
    assert error_of(response, 415)["code"] == "unsupported_media_type"


def test_oversized_uploads_are_413(demo_store_path: Path) -> None:
    app = create_app(demo_store_path, WebSettings(max_upload_bytes=32 * 1024))
    big = (ROOT / "tests" / "fixtures" / "patients" / "fhir" / "mcode-pediatric-b-all.json").read_bytes()
    assert len(big) > 32 * 1024
    with TestClient(app) as small:
        declared = small.post("/api/match", files={"file": ("big.json", big, "application/json")})
        assert "larger than" in error_of(declared, 413)["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts what arrives
            for start in range(0, len(big), 4096):
                yield big[start : start + 4096]

        streamed = small.post("/api/match", content=chunks(), headers=JSON_HEADERS)
        assert error_of(streamed, 413)["code"] == "payload_too_large"
        assert small.post("/api/match", content=big[:0] + b'{"sex": "male"}', headers=JSON_HEADERS).status_code == 200


def test_hostile_html_stays_data_in_json(client: TestClient) -> None:
    script = "<script>alert(1)</script>"
    response = client.get("/api/trials", params={"phase": script})
    error = error_of(response, 422)
    assert script in error["message"]  # returned as JSON data, never as a page
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    error = error_of(client.post("/api/match", json={"sex": "male", script: 1}), 422)
    assert script in error["message"]
    error = error_of(client.get("/api/trials/<img src=x onerror=alert(1)>"), 404)
    assert "<img src=x onerror=alert(1)>" in error["message"]


# --- POST /api/trials/{id}/prescreen -------------------------------------------------------------------------

def test_prescreen_without_answers_asks_every_question_once(client: TestClient) -> None:
    body = client.post(f"/api/trials/{BLINA}/prescreen", json={}).json()
    assert body["result"] == "possibly_eligible" and not body["deciding"]
    ids = [q["question_id"] for q in body["questions"]]
    assert len(ids) == len(set(ids)) and body["next_questions"] == body["questions"]
    # With no facts, the record's age limits are criteria with questions, first in order.
    assert [q["criterion_ids"] for q in body["questions"][:2]] == [["age"], ["inc-1"]]
    assert body["questions"][0]["question"] == "Are you between 1 month and 17 years old?"
    assert all(q["answer"] is None for q in body["questions"])
    assert "Talk to the study team about" in body["summary"]


def test_prescreen_no_to_an_inclusion_rules_out_naming_it(client: TestClient) -> None:
    questions = client.post(f"/api/trials/{BLINA}/prescreen", json={}).json()["questions"]
    age = next(q for q in questions if q["criterion_ids"] == ["inc-1"])
    body = client.post(f"/api/trials/{BLINA}/prescreen", json={"answers": {age["question_id"]: "no"}}).json()
    assert body["result"] == "not_eligible"
    assert [c["id"] for c in body["deciding"]] == ["inc-1"]
    assert body["deciding"][0]["evidence"][0]["statement"].startswith('answered "No"')
    assert age["text"] in body["summary"]
    answered = next(q for q in body["questions"] if q["question_id"] == age["question_id"])
    assert answered["answer"] == "no" and age["question_id"] not in {q["question_id"] for q in body["next_questions"]}


def test_prescreen_yes_to_an_exclusion_rules_out(client: TestClient) -> None:
    questions = client.post(f"/api/trials/{BLINA}/prescreen", json={}).json()["questions"]
    hiv = next(q for q in questions if q["criterion_ids"] == ["exc-8"])
    body = client.post(f"/api/trials/{BLINA}/prescreen", json={"answers": {hiv["question_id"]: "Yes"}}).json()
    assert body["result"] == "not_eligible" and [c["id"] for c in body["deciding"]] == ["exc-8"]


def test_prescreen_not_sure_never_rules_out(client: TestClient) -> None:
    for trial_id in (BLINA, CRUK_BLINA, MALE_ONLY):
        questions = client.post(f"/api/trials/{trial_id}/prescreen", json={}).json()["questions"]
        body = client.post(f"/api/trials/{trial_id}/prescreen",
                           json={"answers": {q["question_id"]: "not sure" for q in questions}}).json()
        assert body["result"] == "possibly_eligible" and not body["deciding"]
        assert {q["answer"] for q in body["questions"]} == {"not_sure"} and not body["next_questions"]
        assert len(body["open"]) >= len(questions)


def test_prescreen_favourable_answers_give_likely_eligible(client: TestClient, demo_store: TrialStore) -> None:
    rules = negated_questions(demo_store, CRUK_BLINA)
    questions = client.post(f"/api/trials/{CRUK_BLINA}/prescreen", json={}).json()["questions"]
    answers = {q["question_id"]: favourable(q, rules) for q in questions}
    body = client.post(f"/api/trials/{CRUK_BLINA}/prescreen", json={"answers": answers}).json()
    assert body["result"] == "likely_eligible", body["deciding"]
    assert not body["open"] and not body["next_questions"]
    assert all(c["verdict"] in ("met", "not_met", "not_applicable") for c in body["criteria"])


def test_prescreen_favourable_answers_to_negated_criteria(client: TestClient, demo_store: TrialStore) -> None:
    rules = negated_questions(demo_store, BLINA)
    questions = client.post(f"/api/trials/{BLINA}/prescreen", json={}).json()["questions"]
    answers = {q["question_id"]: favourable(q, rules) for q in questions}
    body = client.post(f"/api/trials/{BLINA}/prescreen", json={"answers": answers}).json()
    assert body["result"] == "likely_eligible", [c["id"] for c in body["deciding"]]


def test_prescreen_sex_limit_is_a_question_until_facts_settle_it(client: TestClient) -> None:
    questions = client.post(f"/api/trials/{MALE_ONLY}/prescreen", json={}).json()["questions"]
    sex = next(q for q in questions if q["criterion_ids"] == ["sex"])
    refused = client.post(f"/api/trials/{MALE_ONLY}/prescreen", json={"answers": {sex["question_id"]: "no"}}).json()
    assert refused["result"] == "not_eligible" and [c["id"] for c in refused["deciding"]] == ["sex"]
    woman = client.post(f"/api/trials/{MALE_ONLY}/prescreen", json={"facts": {"sex": "female"}}).json()
    assert woman["result"] == "not_eligible" and "sex" not in {c for q in woman["questions"]
                                                               for c in q["criterion_ids"]}
    man = client.post(f"/api/trials/{MALE_ONLY}/prescreen", json={"facts": {"sex": "male"}}).json()
    assert man["result"] == "possibly_eligible" and len(man["questions"]) == len(questions) - 1


def test_prescreen_with_a_profile_asks_only_what_facts_leave_open(client: TestClient, demo_profile: dict) -> None:
    alone = client.post(f"/api/trials/{BLINA}/prescreen", json={"as_of": AS_OF}).json()
    body = client.post(f"/api/trials/{BLINA}/prescreen", json={"facts": demo_profile, "as_of": AS_OF}).json()
    assert body["as_of"] == AS_OF and body["result"] == "possibly_eligible"
    asked = {c for q in body["questions"] for c in q["criterion_ids"]}
    assert not asked & {"age", "inc-1"}  # the birth date settles them
    assert 0 < len(body["questions"]) < len(alone["questions"])
    met = {c["id"] for c in body["criteria"] if c["verdict"] == "met"}
    assert {"age", "inc-1"} <= met


@pytest.mark.parametrize(("payload", "status", "code", "field"), [
    ({"answers": {"q-nope": "yes"}}, 422, "unknown_question", "answers.q-nope"),
    ({"answers": {"q-d276855750d7": "maybe"}}, 422, "invalid_answer", "answers.q-d276855750d7"),
    ({"answers": {"q-d276855750d7": True}}, 422, "invalid_answer", "answers.q-d276855750d7"),
    ({"answers": ["yes"]}, 422, "invalid_input", "answers"),
    ({"answer": {}}, 422, "invalid_input", "answer"),
    ({"facts": {"age": "old"}}, 422, "invalid_patient", None),
    ({"as_of": "soon"}, 422, "invalid_input", "as_of"),
])
def test_bad_prescreen_bodies(client: TestClient, payload: dict, status: int, code: str, field: str | None) -> None:
    error = error_of(client.post(f"/api/trials/{BLINA}/prescreen", json=payload), status)
    assert error["code"] == code
    if field:
        assert error["details"][0]["field"] == field


def test_unknown_question_lists_the_valid_ids(client: TestClient) -> None:
    error = error_of(client.post(f"/api/trials/{BLINA}/prescreen", json={"answers": {"q-nope": "yes"}}), 422)
    assert "q-d276855750d7" in error["message"] and "q-d4f10a6c96bb" in error["message"]


def test_prescreen_of_a_missing_trial_and_broken_json(client: TestClient) -> None:
    assert error_of(client.post("/api/trials/NCT00000000/prescreen", json={}), 404)["code"] == "trial_not_found"
    broken = client.post(f"/api/trials/{BLINA}/prescreen", content=b'{"answers": ', headers=JSON_HEADERS)
    assert error_of(broken, 400)["code"] == "invalid_json"


def test_api_stores_nothing(client: TestClient, demo_store_path: Path, demo_profile: dict) -> None:
    def fingerprint() -> str:
        files = sorted(demo_store_path.parent.glob(demo_store_path.name + "*"))
        return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()

    before = fingerprint()
    client.post("/api/match", params={"as_of": AS_OF}, json=demo_profile)
    client.post(f"/api/trials/{BLINA}/prescreen", json={"facts": demo_profile, "answers": {"q-d4f10a6c96bb": "no"}})
    assert fingerprint() == before


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operations = {(method.upper(), path): op for path, ops in spec["paths"].items() for method, op in ops.items()}
    for key in [("GET", "/api/trials"), ("GET", "/api/trials/{trial_id}"), ("GET", "/api/trials/{trial_id}/criteria"),
                ("GET", "/api/trials/{trial_id}/similar"), ("POST", "/api/match"),
                ("POST", "/api/trials/{trial_id}/prescreen")]:
        operation = operations[key]
        assert operation["summary"] and "200" in operation["responses"]
        assert operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "/ErrorResponse")
    assert set(operations[("POST", "/api/match")]["requestBody"]["content"]) == {"application/json",
                                                                               "multipart/form-data"}


# --- the library under the endpoints -------------------------------------------------------------------------

def test_prescreen_errors_are_value_errors(demo_store: TrialStore) -> None:
    trial = demo_store.get(BLINA)
    assert trial is not None
    with pytest.raises(UnknownQuestion) as unknown:
        prescreen(trial, demo_store.compiled(BLINA), {"q-nope": "yes"})
    assert isinstance(unknown.value, ValueError) and "q-d276855750d7" in unknown.value.valid
    with pytest.raises(InvalidAnswer, match="yes, no, not_sure"):
        prescreen_stored(demo_store, BLINA, {"q-d276855750d7": "perhaps"})


def test_prescreen_answers_replace_the_facts_own_answers(demo_store: TrialStore) -> None:
    from trialmatch.patients.facts import PatientFacts

    qid = "q-d4f10a6c96bb"  # HIV, hepatitis B or C: an exclusion
    facts = PatientFacts().with_answer(qid, "yes")
    assert prescreen_stored(demo_store, BLINA, {}, facts).result == "not_eligible"
    assert prescreen_stored(demo_store, BLINA, {qid: "no"}, facts, dt.date(2026, 6, 1)).result == "possibly_eligible"


def test_prescreen_words_questions_for_a_carer_with_the_same_ids(client: TestClient) -> None:
    own = client.post(f"/api/trials/{BLINA}/prescreen", json={}).json()
    carer = client.post(f"/api/trials/{BLINA}/prescreen", json={"perspective": "carer"}).json()
    assert carer["perspective"] == "carer" and own["perspective"] == "self"
    assert [q["question_id"] for q in carer["questions"]] == [q["question_id"] for q in own["questions"]]
    assert carer["questions"][0]["question"] == "Is the patient between 1 month and 17 years old?"
    hiv = next(q for q in carer["questions"] if q["criterion_ids"] == ["exc-8"])
    assert hiv["question"] == "Does the patient have HIV, hepatitis B or hepatitis C?"
    # A carer's "Yes" means what the patient's own "Yes" means.
    answered = client.post(f"/api/trials/{BLINA}/prescreen",
                           json={"perspective": "carer", "answers": {hiv["question_id"]: "yes"}}).json()
    assert answered["result"] == "not_eligible" and [c["id"] for c in answered["deciding"]] == ["exc-8"]
    error = error_of(client.post(f"/api/trials/{BLINA}/prescreen", json={"perspective": "parent"}), 422)
    assert "perspective" in json.dumps(error)
