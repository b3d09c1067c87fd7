"""One error shape for the API, and friendly error pages for people.

API errors (paths under ``/api/``) are JSON::

    {"error": {"status": 404, "code": "trial_not_found", "message": "No trial with id NCT0000.",
               "details": []}}

``details`` lists field problems for invalid input (``{"field": "age", "message": "…"}``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_input", 500: "internal_error"}


class ApiError(Exception):
    """Raise in a route to answer with the error shape."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or []


def error_body(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    return {"error": {"status": status, "code": code, "message": message, "details": details or []}}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def respond(request: Request, error: ApiError) -> Response:
    if _wants_json(request):
        return JSONResponse(error_body(error.status, error.code, error.message, error.details), error.status)
    from trialmatch.web.templates import render

    return render(request, "error.html", {"error": error}, status_code=error.status)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        return respond(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        details = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "body", "path")),
                    "message": e.get("msg", "invalid")} for e in error.errors()]
        message = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
        return respond(request, ApiError(422, "invalid_input", message or "Invalid input.", details))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = _CODES.get(error.status_code, "error")
        message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        if error.status_code == 404 and message == "Not Found":
            message = f"Nothing at {request.url.path}. Start from the search page or /api/docs."
        return respond(request, ApiError(error.status_code, code, message))

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> Response:  # pragma: no cover - last resort
        message = "Something went wrong on our side. The request was not saved; try again."
        if _wants_json(request):
            return JSONResponse(error_body(500, "internal_error", message), 500)
        return HTMLResponse(f"<!doctype html><title>Error</title><h1>Error</h1><p>{message}</p>", 500)
