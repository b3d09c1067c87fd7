"""Build the FastAPI app: routes, templates, static files, security and error handling."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from trialmatch.places import locate_city
from trialmatch.vocabulary import load_vocabulary
from trialmatch.web import errors
from trialmatch.web.api import router as api_router
from trialmatch.web.pages import router as pages_router
from trialmatch.web.security import BodySizeLimit, SecurityHeaders
from trialmatch.web.settings import WebSettings
from trialmatch.web.stores import StorePool

STATIC = Path(__file__).parent / "static"
#: The key that signs the forms' CSRF tokens, shared by every worker process of one ``trialmatch serve``
#: (a token from one worker must pass in another); ``serve`` sets a fresh one for each run.
SECRET_KEY_ENV = "TRIALMATCH_WEB_SECRET"


def create_app(db_path: str | Path | None = None, settings: WebSettings | None = None) -> FastAPI:
    """The TrialMatch app over the store at ``db_path`` (default: ``$TRIALMATCH_DB`` or the user store)."""
    settings = settings or WebSettings()
    app = FastAPI(
        title="TrialMatch API",
        summary="Which clinical trials can this patient join?",
        description=(
            "Search trials, read their compiled eligibility criteria, match a patient record against the "
            "store and pre-screen one trial with Yes / No / Not sure answers. Every error has the shape "
            '`{"error": {"status": …, "code": …, "message": …, "details": […]}}`.'
        ),
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.stores = StorePool(db_path)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api_router)
    app.include_router(pages_router)
    errors.install(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for one worker process: the store in ``$TRIALMATCH_DB``, the forms' key in ``$TRIALMATCH_WEB_SECRET``.

    ``trialmatch serve --workers N`` hands uvicorn this factory by name, so each worker builds its own app.
    """
    secret = os.environ.get(SECRET_KEY_ENV)
    app = create_app(settings=WebSettings(secret_key=secret) if secret else WebSettings())
    # Read now, before the worker takes requests, what its first searches would otherwise wait seconds for.
    load_vocabulary()
    locate_city("London")
    return app
