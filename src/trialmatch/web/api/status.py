"""``GET /api/status``: is the app up, and what does its store hold?"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from trialmatch.web.stores import StoreDep

router = APIRouter(tags=["status"])


class Status(BaseModel):
    status: str
    trials: int


@router.get("/status", response_model=Status, summary="Health check and store size")
def status(store: StoreDep) -> Status:
    return Status(status="ok", trials=store.count())
