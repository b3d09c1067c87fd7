"""Server-rendered pages. Each module holds the routes for one page or flow."""

from fastapi import APIRouter

from trialmatch.web.pages import home

router = APIRouter(include_in_schema=False)
router.include_router(home.router)
