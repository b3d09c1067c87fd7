"""The JSON API under ``/api``. Each module holds the routes for one resource."""

from fastapi import APIRouter

from trialmatch.web.api import status

router = APIRouter(prefix="/api")
router.include_router(status.router)
