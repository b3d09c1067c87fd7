"""A client for the live ClinicalTrials.gov API v2 (``/studies`` and ``/studies/{nctId}``).

Studies come back as :class:`Trial` records, converted by :func:`trial_from_study`.
Search results stream page by page through ``nextPageToken`` as the same ``Trial | Skipped``
items that :func:`trialmatch.trials.sources.read_sources` yields for files: a study that
fails conversion becomes a ``Skipped`` with where and why, and the search goes on.
Transient failures (connect/read errors, 429, 5xx) are retried with exponential backoff
and jitter, honouring ``Retry-After``.

Nothing here logs response bodies or query values: queries may be derived from a patient.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, Self

import httpx

from trialmatch.trials.ctgov_json import trial_from_study
from trialmatch.trials.errors import RecordError
from trialmatch.trials.record import OverallStatus, Trial
from trialmatch.trials.sources import ImportItem, Skipped

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://clinicaltrials.gov/api/v2"
#: Provenance source of records fetched here (the study JSON is the same as ctgov-v2 files).
SOURCE = "ctgov-api"
NCT_ID_RE = re.compile(r"^NCT\d{8}$", re.IGNORECASE)
#: Sort order of incremental syncs: oldest update first, so an interrupted sync can resume
#: from the newest last-update date the store holds without missing anything.
SORT_BY_LAST_UPDATE = "LastUpdatePostDate:asc"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class CtgovApiError(RuntimeError):
    """The ClinicalTrials.gov API refused a request or answered with something unusable."""


class StudyNotFound(CtgovApiError, LookupError):
    """No study with this NCT number on ClinicalTrials.gov (HTTP 404)."""

    def __init__(self, nct_id: str) -> None:
        super().__init__(f"{nct_id} was not found on ClinicalTrials.gov (HTTP 404): check the NCT number")
        self.nct_id = nct_id


class CtgovUnavailable(CtgovApiError):
    """The API kept failing with transient errors until the retries ran out."""


def _user_agent() -> str:
    try:
        ours = version("trialmatch")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        ours = "dev"
    return f"TrialMatch/{ours} (clinical-trial matching) httpx/{httpx.__version__}"


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (Retry-After as seconds or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _to_trial(study: dict[str, Any], location: str) -> Trial:
    trial = trial_from_study(study, location)
    return trial.model_copy(update={"provenance": trial.provenance.model_copy(update={"source": SOURCE})})


def _study_nct_id(study: Any) -> str | None:
    try:
        nct_id = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None
    return nct_id if isinstance(nct_id, str) else None


class ClinicalTrialsGovClient:
    """ClinicalTrials.gov API v2 client; use as a context manager or call :meth:`close`.

    ``backoff`` is the first retry delay in seconds, doubling each time up to ``max_backoff``,
    plus up to as much again in jitter; ``sleep`` is injectable for tests.
    A ``Retry-After`` longer than ``max_retry_after`` fails at once rather than waiting.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_retry_after: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": _user_agent(), "Accept": "application/json"},
            follow_redirects=True,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def study_url(self, nct_id: str) -> str:
        """The API address of one study: the provenance location of records made here."""
        return f"{self.base_url}/studies/{nct_id}"

    def fetch_study(self, nct_id: str) -> Trial:
        """One study by NCT number; raises StudyNotFound, or RecordError if it can't be converted."""
        if not isinstance(nct_id, str) or not NCT_ID_RE.match(nct_id.strip()):
            raise ValueError(f"not an NCT number: {nct_id!r} (expected NCT and 8 digits, e.g. NCT02513394)")
        nct_id = nct_id.strip().upper()
        study = self._get_json(f"/studies/{nct_id}", {"format": "json"}, not_found=nct_id)
        if not isinstance(study, dict):
            raise CtgovApiError(f"GET /studies/{nct_id}: expected a JSON object, got {type(study).__name__}")
        return _to_trial(study, self.study_url(_study_nct_id(study) or nct_id))

    def search(
        self,
        query: str | None = None,
        *,
        condition: str | None = None,
        statuses: list[str] | None = None,
        updated_since: date | None = None,
        page_size: int = 100,
        max_studies: int | None = None,
    ) -> Iterator[ImportItem]:
        """Stream the studies matching a search, following nextPageToken lazily.

        ``query`` is CT.gov's "other terms" (query.term), ``condition`` its query.cond,
        ``statuses`` OverallStatus values. ``updated_since`` keeps studies whose last update
        was posted on or after that day, oldest first. ``max_studies`` bounds the studies
        read (converted or skipped). Studies that can't be converted come as ``Skipped``.
        """
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        params: dict[str, str | int] = {"format": "json"}
        if query:
            params["query.term"] = query
        if condition:
            params["query.cond"] = condition
        if statuses:
            params["filter.overallStatus"] = ",".join(OverallStatus(str(s).upper()) for s in statuses)
        if updated_since is not None:
            params["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{updated_since:%Y-%m-%d},MAX]"
            params["sort"] = SORT_BY_LAST_UPDATE
        return self._pages(params, page_size, max_studies)

    def sync(
        self,
        store_last_update: date | None,
        *,
        query: str | None = None,
        condition: str | None = None,
        statuses: list[str] | None = None,
        page_size: int = 100,
        max_studies: int | None = None,
    ) -> Iterator[ImportItem]:
        """Studies updated since the newest last-update date the caller already has.

        The day itself is included (more studies may have been posted on it after the last
        sync), so some come again unchanged; ``None`` means a full first sync.
        """
        return self.search(
            query,
            condition=condition,
            statuses=statuses,
            updated_since=store_last_update,
            page_size=page_size,
            max_studies=max_studies,
        )

    def _pages(
        self,
        params: dict[str, str | int],
        page_size: int,
        max_studies: int | None,
    ) -> Iterator[ImportItem]:
        remaining = max_studies
        page_no = 0
        token: str | None = None
        while remaining is None or remaining > 0:
            page_no += 1
            request = {**params, "pageSize": page_size if remaining is None else min(page_size, remaining)}
            if token:
                request["pageToken"] = token
            page = self._get_json("/studies", request)
            studies = page.get("studies") if isinstance(page, dict) else None
            if not isinstance(studies, list):
                raise CtgovApiError(f"GET /studies page {page_no}: no 'studies' list in the response")
            next_token = page.get("nextPageToken")
            del page  # keep one page in memory: release it before the next request
            for index, study in enumerate(studies[:remaining] if remaining is not None else studies):
                yield self._convert(study, page_no, index)
            if remaining is not None:
                remaining -= min(len(studies), remaining)
            del studies
            if not next_token:
                return
            if next_token == token:
                raise CtgovApiError(f"GET /studies page {page_no}: the server repeated its page token")
            token = next_token

    def _convert(self, study: Any, page: int, index: int) -> ImportItem:
        """One study of a page, or a Skipped saying why not; never stops the search."""
        nct_id = _study_nct_id(study)
        location = self.study_url(nct_id) if nct_id else f"{self.base_url}/studies#page{page}[{index}]"
        if not isinstance(study, dict):
            return Skipped(location, f"expected a JSON object for a study, found {type(study).__name__}")
        try:
            return _to_trial(study, location)
        except RecordError as exc:
            return Skipped(location, str(exc))
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            # As in sources.py: a converter bug or an unforeseen shape costs one study, not the sync.
            return Skipped(location, f"unreadable study ({type(exc).__name__}: {exc})"[:500])

    def _get_json(self, path: str, params: dict[str, str | int], not_found: str | None = None) -> Any:
        """GET with retries, then the decoded JSON body.

        Errors name the path, never the query values sent; a 4xx quotes the server's short message.
        """
        response = self._get_with_retries(path, params)
        if response.status_code == 404 and not_found:
            raise StudyNotFound(not_found)
        if response.status_code != 200:
            message = " ".join(response.text.split())[:200]
            raise CtgovApiError(f"GET {path}: HTTP {response.status_code} from ClinicalTrials.gov: {message}")
        try:
            return response.json()
        except ValueError as exc:
            kind = response.headers.get("Content-Type", "no content type")
            raise CtgovApiError(
                f"GET {path}: the response is not valid JSON ({len(response.content)} bytes, {kind}): {exc}; "
                "the API may be down for maintenance or the response was cut short, try again later"
            ) from exc

    def _get_with_retries(self, path: str, params: dict[str, str | int]) -> httpx.Response:
        problem = ""
        for attempt in range(1, self.max_attempts + 1):
            retry_after: float | None = None
            try:
                response = self._http.get(path, params=params)
            except _RETRY_ERRORS as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if response.status_code not in _RETRY_STATUSES:
                    return response
                problem = f"HTTP {response.status_code}"
                retry_after = _retry_after(response)
                response.close()
            if retry_after is not None and retry_after > self.max_retry_after:
                raise CtgovUnavailable(
                    f"GET {path}: {problem}, and the server asks to wait {retry_after:.0f} s before "
                    "retrying; try again later"
                )
            if attempt == self.max_attempts:
                break
            delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            delay += random.uniform(0, delay)
            if retry_after is not None:
                delay = max(delay, retry_after)
            log.warning(
                "GET %s failed (%s); retry %d of %d in %.1f s",
                path,
                problem,
                attempt,
                self.max_attempts - 1,
                delay,
            )
            self._sleep(delay)
        raise CtgovUnavailable(
            f"GET {path}: ClinicalTrials.gov still failing after {self.max_attempts} attempts "
            f"(last: {problem}); check the network and https://clinicaltrials.gov, "
            "then try again later or raise max_attempts"
        )
