"""ClinicalTrialsGovClient against a loopback HTTP server serving recorded CT.gov API v2 responses.

The study is the real recorded API response NCT02513394.json from shared/. Page responses
are built around it; the other studies in them are DERIVED copies of it with other NCT ids
(not real records), and the error bodies are synthetic.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from trialmatch.trials.ctgov_api import (
    ClinicalTrialsGovClient,
    CtgovApiError,
    CtgovUnavailable,
    StudyNotFound,
)
from trialmatch.trials.record import Trial
from trialmatch.trials.sources import ImportItem, Skipped

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
RECORDED = SHARED / "data" / "ctgov-api-v2" / "NCT02513394.json"
REAL_ID = "NCT02513394"


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    user_agent: str


class FakeCtgov:
    """Replies per path, served in order (the last one repeats); records every request."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self.url = ""

    def on(self, path: str, *replies: Reply) -> None:
        self.replies["/api/v2" + path] = list(replies)

    def next_reply(self, path: str) -> Reply:
        queue = self.replies.get(path)
        if not queue:
            return Reply(404, "no such route in the test server", {"Content-Type": "text/plain"})
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def tokens(self) -> list[str | None]:
        return [s.params.get("pageToken") for s in self.seen]


@pytest.fixture
def server() -> Iterator[FakeCtgov]:
    fake = FakeCtgov()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            fake.seen.append(Seen(url.path, params, self.headers.get("User-Agent", "")))
            reply = fake.next_reply(url.path)
            time.sleep(reply.delay)
            body = reply.payload()
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                headers.setdefault("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (read timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}/api/v2"
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def recorded_text() -> str:
    if not RECORDED.exists():
        pytest.skip(f"recorded study not found at {RECORDED}")
    return RECORDED.read_text()


@pytest.fixture
def study(recorded_text: str) -> Callable[[str], dict[str, Any]]:
    """The recorded study, or a derived copy of it under another NCT id."""

    def make(nct_id: str = REAL_ID) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(recorded_text)
        data["protocolSection"]["identificationModule"]["nctId"] = nct_id
        return data

    return make


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: FakeCtgov, sleeps: list[float]) -> Iterator[ClinicalTrialsGovClient]:
    with ClinicalTrialsGovClient(server.url, timeout=5, max_attempts=4, backoff=0.01, sleep=sleeps.append) as c:
        yield c


def ids(items: Iterable[ImportItem]) -> list[str]:
    """The ids of the trials, failing on any Skipped."""
    out = []
    for item in items:
        assert isinstance(item, Trial), item
        out.append(item.id)
    return out


def page(studies: list[Any], token: str | None = None) -> Reply:
    body: dict[str, Any] = {"studies": studies}
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


# --- fetch_study ---------------------------------------------------------------------------------


def test_fetch_study(server: FakeCtgov, client: ClinicalTrialsGovClient, recorded_text: str) -> None:
    server.on(f"/studies/{REAL_ID}", Reply(body=recorded_text))
    trial = client.fetch_study(REAL_ID.lower())
    assert trial.id == REAL_ID
    assert trial.provenance.location == f"{server.url}/studies/{REAL_ID}"
    assert trial.provenance.source == "ctgov-api"
    assert trial.provenance.source_last_update == "2023-06-15"
    [seen] = server.seen
    assert seen.path == f"/api/v2/studies/{REAL_ID}"
    assert seen.params == {"format": "json"}
    assert seen.user_agent.startswith("TrialMatch/")


@pytest.mark.parametrize("bad", ["", "NCT123", "NCT0251339X", "ISRCTN12345678", "NCT02513394/../x"])
def test_fetch_study_rejects_bad_ids_before_asking(
    server: FakeCtgov, client: ClinicalTrialsGovClient, bad: str
) -> None:
    with pytest.raises(ValueError, match="not an NCT number"):
        client.fetch_study(bad)
    assert server.seen == []


def test_fetch_study_not_found(server: FakeCtgov, client: ClinicalTrialsGovClient) -> None:
    server.on("/studies/NCT99999999", Reply(404, "Study not found", {"Content-Type": "text/plain"}))
    with pytest.raises(StudyNotFound, match="NCT99999999 was not found") as info:
        client.fetch_study("NCT99999999")
    assert info.value.nct_id == "NCT99999999"
    assert isinstance(info.value, LookupError)
    assert len(server.seen) == 1  # a 404 is not retried


def test_bad_request_is_not_retried(server: FakeCtgov, client: ClinicalTrialsGovClient) -> None:
    server.on("/studies", Reply(400, "Invalid filter.advanced", {"Content-Type": "text/plain"}))
    with pytest.raises(CtgovApiError, match=r"HTTP 400 .*Invalid filter.advanced"):
        list(client.search("x"))
    assert len(server.seen) == 1


# --- search and pagination -----------------------------------------------------------------------


def test_search_follows_page_tokens(
    server: FakeCtgov, client: ClinicalTrialsGovClient, study: Callable[..., dict[str, Any]]
) -> None:
    server.on(
        "/studies",
        page([study(), study("NCT90000001")], "tok-2"),
        page([study("NCT90000002")], "tok-3"),
        page([study("NCT90000003")]),
    )
    items = client.search(
        "immunotherapy",
        condition="melanoma",
        statuses=["RECRUITING", "not_yet_recruiting"],
        updated_since=date(2024, 5, 1),
        page_size=2,
    )
    assert ids(items) == [REAL_ID, "NCT90000001", "NCT90000002", "NCT90000003"]
    assert server.tokens() == [None, "tok-2", "tok-3"]
    for seen in server.seen:
        assert seen.path == "/api/v2/studies"
        assert {k: v for k, v in seen.params.items() if k != "pageToken"} == {
            "format": "json",
            "query.term": "immunotherapy",
            "query.cond": "melanoma",
            "filter.overallStatus": "RECRUITING,NOT_YET_RECRUITING",
            "filter.advanced": "AREA[LastUpdatePostDate]RANGE[2024-05-01,MAX]",
            "sort": "LastUpdatePostDate:asc",
            "pageSize": "2",
        }


def test_search_is_lazy(
    server: FakeCtgov, client: ClinicalTrialsGovClient, study: Callable[..., dict[str, Any]]
) -> None:
    server.on("/studies", page([study()], "tok-2"), page([study("NCT90000001")]))
    items = client.search(condition="melanoma")
    assert server.seen == []
    assert ids([next(items)]) == [REAL_ID]
    assert server.tokens() == [None]
    assert ids([next(items)]) == ["NCT90000001"]
    assert server.tokens() == [None, "tok-2"]
    assert "filter.advanced" not in server.seen[0].params


def test_search_max_studies_stops_early(
    server: FakeCtgov, client: ClinicalTrialsGovClient, study: Callable[..., dict[str, Any]]
) -> None:
    server.on(
        "/studies",
        page([study(), study("NCT90000001")], "tok-2"),
        page([study("NCT90000002"), study("NCT90000003")], "tok-3"),
    )
    assert ids(client.search("x", page_size=2, max_studies=3)) == [REAL_ID, "NCT90000001", "NCT90000002"]
    assert server.tokens() == [None, "tok-2"]
    assert [s.params["pageSize"] for s in server.seen] == ["2", "1"]


def test_search_rejects_unknown_status(client: ClinicalTrialsGovClient) -> None:
    with pytest.raises(ValueError, match="RECRUTING"):
        client.search(statuses=["RECRUTING"])


def test_repeated_page_token_is_an_error(
    server: FakeCtgov, client: ClinicalTrialsGovClient, study: Callable[..., dict[str, Any]]
) -> None:
    server.on("/studies", page([study()], "same"))
    with pytest.raises(CtgovApiError, match="repeated its page token"):
        list(client.search("x"))
    assert len(server.seen) == 2


def test_sync_uses_the_store_last_update(
    server: FakeCtgov, client: ClinicalTrialsGovClient, study: Callable[..., dict[str, Any]]
) -> None:
    server.on("/studies", page([study()]))
    assert ids(client.sync(date(2023, 6, 15), condition="lung cancer")) == [REAL_ID]
    assert ids(client.sync(None)) == [REAL_ID]
    incremental, full = server.seen
    assert incremental.params["filter.advanced"] == "AREA[LastUpdatePostDate]RANGE[2023-06-15,MAX]"
    assert incremental.params["sort"] == "LastUpdatePostDate:asc"
    assert incremental.params["query.cond"] == "lung cancer"
    assert "filter.advanced" not in full.params


# --- skipped studies and bad bodies --------------------------------------------------------------


def test_malformed_study_is_skipped_with_reason(
    server: FakeCtgov, client: ClinicalTrialsGovClient, study: Callable[..., dict[str, Any]]
) -> None:
    no_id = study()
    del no_id["protocolSection"]["identificationModule"]["nctId"]
    bad_count = study("NCT90000001")
    bad_count["protocolSection"]["designModule"]["enrollmentInfo"] = {"count": "lots"}
    server.on(
        "/studies",
        page([study(), no_id, "not a study"], "tok-2"),
        page([bad_count, study("NCT90000002")]),
    )
    items = list(client.search("x"))
    assert ids(i for i in items if isinstance(i, Trial)) == [REAL_ID, "NCT90000002"]
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert [s.location for s in skipped] == [
        f"{server.url}/studies#page1[1]",
        f"{server.url}/studies#page1[2]",
        f"{server.url}/studies/NCT90000001",
    ]
    assert "nctId" in skipped[0].reason
    assert "expected a JSON object for a study, found str" in skipped[1].reason
    assert "enrollmentInfo.count" in skipped[2].reason
    assert [type(i).__name__ for i in items] == ["Trial", "Skipped", "Skipped", "Skipped", "Trial"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"studies": [{"protocolSection": {"identificationModule": {"nctId": "NCT0',
        b"<html>Maintenance</html>",
    ],
    ids=["truncated", "html"],
)
def test_garbage_json_is_a_clear_error(server: FakeCtgov, client: ClinicalTrialsGovClient, body: bytes) -> None:
    server.on("/studies", Reply(body=body))
    server.on(f"/studies/{REAL_ID}", Reply(body=body))
    with pytest.raises(CtgovApiError, match="not valid JSON"):
        list(client.search("x"))
    with pytest.raises(CtgovApiError, match="not valid JSON"):
        client.fetch_study(REAL_ID)
    assert len(server.seen) == 2  # not retried


def test_page_without_studies_is_a_clear_error(server: FakeCtgov, client: ClinicalTrialsGovClient) -> None:
    server.on("/studies", Reply(body={"totalCount": 3}))
    with pytest.raises(CtgovApiError, match="no 'studies' list"):
        list(client.search("x"))


# --- retries -------------------------------------------------------------------------------------


def test_retries_503_then_succeeds(
    server: FakeCtgov, client: ClinicalTrialsGovClient, sleeps: list[float], recorded_text: str
) -> None:
    server.on(f"/studies/{REAL_ID}", Reply(503, "busy"), Reply(503, "busy"), Reply(body=recorded_text))
    assert client.fetch_study(REAL_ID).id == REAL_ID
    assert len(server.seen) == 3
    assert len(sleeps) == 2
    assert 0.01 <= sleeps[0] <= 0.02 and 0.02 <= sleeps[1] <= 0.04  # exponential, with jitter


def test_retries_really_sleep(server: FakeCtgov, recorded_text: str) -> None:
    server.on(f"/studies/{REAL_ID}", Reply(502), Reply(body=recorded_text))
    with ClinicalTrialsGovClient(server.url, backoff=0.05) as client:
        started = time.monotonic()
        assert client.fetch_study(REAL_ID).id == REAL_ID
    assert time.monotonic() - started >= 0.05


def test_429_honours_retry_after(
    server: FakeCtgov,
    client: ClinicalTrialsGovClient,
    sleeps: list[float],
    study: Callable[..., dict[str, Any]],
) -> None:
    server.on("/studies", Reply(429, "slow down", {"Retry-After": "7"}), page([study()]))
    assert ids(client.search("x")) == [REAL_ID]
    assert sleeps == [7.0]
    assert server.tokens() == [None, None]  # the same page asked again


def test_retry_after_as_http_date(
    server: FakeCtgov, client: ClinicalTrialsGovClient, sleeps: list[float], study: Callable[..., dict[str, Any]]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server.on("/studies", Reply(503, "maintenance", {"Retry-After": when}), page([study()]))
    assert ids(client.search("x")) == [REAL_ID]
    assert len(sleeps) == 1 and 28 <= sleeps[0] <= 30


def test_too_long_retry_after_fails_at_once(
    server: FakeCtgov, client: ClinicalTrialsGovClient, sleeps: list[float]
) -> None:
    server.on("/studies", Reply(429, "slow down", {"Retry-After": "3600"}))
    with pytest.raises(CtgovUnavailable, match="asks to wait 3600 s"):
        list(client.search("x"))
    assert sleeps == []


def test_persistent_500_gives_up_clearly(
    server: FakeCtgov, client: ClinicalTrialsGovClient, sleeps: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    server.on("/studies", Reply(500, "oops"))
    with (
        caplog.at_level(logging.WARNING, logger="trialmatch.trials.ctgov_api"),
        pytest.raises(CtgovUnavailable, match=r"after 4 attempts \(last: HTTP 500\).*try again later"),
    ):
        list(client.search("secret patient words", condition="lung cancer"))
    assert len(server.seen) == 4
    assert len(sleeps) == 3
    assert "retry 3 of 3" in caplog.text
    assert "secret" not in caplog.text and "lung" not in caplog.text  # query values are never logged


def test_body_cut_short_is_retried(server: FakeCtgov, client: ClinicalTrialsGovClient, sleeps: list[float]) -> None:
    # The connection closes before Content-Length bytes arrive: a network fault, so retried.
    server.on("/studies", Reply(body=b'{"studies": [', headers={"Content-Length": "1000"}))
    with pytest.raises(CtgovUnavailable, match=r"after 4 attempts \(last: RemoteProtocolError"):
        list(client.search("x"))
    assert len(server.seen) == 4


def test_read_timeout_is_retried(server: FakeCtgov, recorded_text: str) -> None:
    server.on(f"/studies/{REAL_ID}", Reply(body=recorded_text, delay=1.0), Reply(body=recorded_text))
    with ClinicalTrialsGovClient(server.url, timeout=0.2, backoff=0.01) as client:
        assert client.fetch_study(REAL_ID).id == REAL_ID
    assert len(server.seen) == 2


def test_connection_refused_gives_up_clearly(sleeps: list[float]) -> None:
    with socket.socket() as sock:  # a free port with nothing listening on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/v2"
    with (
        ClinicalTrialsGovClient(url, max_attempts=3, backoff=0.01, sleep=sleeps.append) as client,
        pytest.raises(CtgovUnavailable, match=r"after 3 attempts \(last: ConnectError"),
    ):
        client.fetch_study(REAL_ID)
    assert len(sleeps) == 2


# --- the CLI over the client -------------------------------------------------------------------


def test_cli_fetch_and_incremental_sync(
    server: FakeCtgov, study: Callable[..., dict[str, Any]], tmp_path: Any
) -> None:
    from typer.testing import CliRunner

    from trialmatch.cli import app

    db = str(tmp_path / "api.db")
    runner = CliRunner()
    server.on(f"/studies/{REAL_ID}", Reply(body=study()))
    fetched = runner.invoke(app, ["fetch", REAL_ID, "NCT00000000", "--base-url", server.url, "--db", db, "--json"])
    assert fetched.exit_code == 0, fetched.output
    report = json.loads(fetched.stdout)
    assert report["imported"] == 1 and report["skipped"] == 1
    assert "not found" in report["skipped_records"][0]["reason"]

    server.on("/studies", page([study("NCT00000101")], "t2"), page([study("NCT00000102")]))
    sync_args = ["sync", "--condition", "breast cancer", "--base-url", server.url, "--db", db, "--json"]
    synced = runner.invoke(app, sync_args)
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["imported"] == 2
    sync_requests = [s for s in server.seen if s.path.endswith("/studies")]
    # Incremental: from the newest last-update date already stored for CT.gov API records.
    assert sync_requests[0].params["filter.advanced"].startswith("AREA[LastUpdatePostDate]RANGE[")
    assert sync_requests[0].params["query.cond"] == "breast cancer"
    assert [s.params.get("pageToken") for s in sync_requests] == [None, "t2"]
