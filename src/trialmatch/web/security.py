"""Security middleware: response headers, request size limits, and CSRF tokens for the HTML forms.

The JSON API takes no cookies and only ``application/json`` or multipart bodies, so a cross-site form
can't drive it; the HTML forms carry a signed token tied to a cookie (double submit).
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trialmatch.web.errors import ApiError, error_body

CSRF_COOKIE = "tm_csrf"
CSRF_FIELD = "csrf_token"
_HEADERS = {
    b"content-security-policy": (
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=(), interest-cohort=()",
    b"cross-origin-opener-policy": b"same-origin",
}
# The OpenAPI page loads its own inline script; it is served with a policy of its own.
_DOCS_CSP = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
             b"img-src 'self' data:; frame-ancestors 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith("/api/docs")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _HEADERS]
                for key, value in _HEADERS.items():
                    headers.append((key, _DOCS_CSP if docs and key == b"content-security-policy" else value))
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Refuse bodies over ``max_bytes`` with 413, whether or not they declare their length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        import json

        limit_mb = self.max_bytes / (1024 * 1024)
        message = f"The upload is larger than {limit_mb:g} MB. Send a smaller file (one patient's record)."
        body = json.dumps(error_body(413, "payload_too_large", message)).encode()
        content_type = b"application/json"
        if not scope["path"].startswith("/api/"):
            body = (f"<!doctype html><html lang=en><title>Upload too large</title><main><h1>Upload too large</h1>"
                    f"<p>{message}</p><p><a href=\"javascript:history.back()\">Go back</a></p></main></html>").encode()
            content_type = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="csrf")


def csrf_token(request: Request) -> str:
    """The token for this browser's forms; the page sets the cookie with ``set_csrf_cookie``."""
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw or len(raw) > 100:
        raw = request.state.__dict__.setdefault("new_csrf", secrets.token_urlsafe(24))
    return _serializer(request).dumps(raw)


def set_csrf_cookie(request: Request, response: object) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict", path="/")  # type: ignore[attr-defined]


def check_csrf(request: Request, token: str | None) -> None:
    """Raise 403 unless ``token`` was signed by this server for this browser's cookie (within 12 hours)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not token or not cookie:
        raise ApiError(403, "csrf_failed", "This form has expired. Reload the page and try again.")
    try:
        raw = _serializer(request).loads(token, max_age=12 * 3600)
    except BadSignature:
        raise ApiError(403, "csrf_failed", "This form has expired. Reload the page and try again.") from None
    if not hmac.compare_digest(str(raw), cookie):
        raise ApiError(403, "csrf_failed", "This form has expired. Reload the page and try again.")
