"""Jinja2 rendering for the pages: autoescaped always, with the CSRF token and cookie handled here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from trialmatch.web.security import CSRF_FIELD, csrf_token, set_csrf_cookie

TEMPLATES = Path(__file__).parent / "templates"

# Autoescape every template: imported trial text can hold hostile HTML.
environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    token = csrf_token(request)
    page = environment.get_template(name).render(request=request, csrf_field=CSRF_FIELD, csrf_token=token,
                                                 **context)
    response = HTMLResponse(page, status_code=status_code)
    set_csrf_cookie(request, response)
    return response
