"""Server-rendered pages. Each module holds the routes for one page or flow."""

from fastapi import APIRouter

from trialmatch.web.pages import clinician, find, prescreen, search, trial

router = APIRouter(include_in_schema=False)
router.include_router(search.router)
router.include_router(find.router)
router.include_router(clinician.router)
# The pre-screening routes end in "/prescreen" and must be tried before the trial page's catch-all id.
router.include_router(prescreen.router)
router.include_router(trial.router)
