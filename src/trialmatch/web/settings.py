"""Settings for one running app."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WebSettings:
    #: Uploads (FHIR bundles, profiles) and form posts larger than this are refused with 413.
    max_upload_bytes: int = 5 * 1024 * 1024
    #: Signs CSRF tokens; a fresh one per process unless given, so tokens die with the server.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    page_size: int = 10
    #: Searches and screenings a worker process runs at once; more requests wait their turn in order.
    concurrent_work: int = 2
