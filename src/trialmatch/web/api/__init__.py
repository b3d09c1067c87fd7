"""The JSON API under ``/api``. Each module holds the routes for one resource."""

from fastapi import APIRouter

from trialmatch.web.api import matching, prescreening, status, trials

router = APIRouter(prefix="/api")
router.include_router(status.router)
# Prescreening first: its path ends in /prescreen, which the trial record's {trial_id:path} would also match.
router.include_router(prescreening.router)
router.include_router(trials.router)
router.include_router(matching.router)
