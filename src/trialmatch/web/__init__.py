"""The web app and REST API: FastAPI routes over the store, screening and pre-screening.

``create_app(db_path)`` builds the app; ``trialmatch serve`` runs it with uvicorn. The JSON API lives in
``web.api``, the server-rendered pages in ``web.pages``; both call the same library functions the CLI does.
"""

from trialmatch.web.app import create_app

__all__ = ["create_app"]
