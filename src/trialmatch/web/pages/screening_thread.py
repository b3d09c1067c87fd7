"""Run a screening off the event loop, on a worker thread with that thread's own store.

The form pages read their (multipart) bodies asynchronously, so they are ``async`` routes; judging every
candidate trial is CPU work that would stall every other request if it ran on the loop. The store is taken
from the pool inside the worker thread and held only while it works.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from trialmatch.patients.facts import PatientFacts
from trialmatch.screening import Screening, ScreeningQuery, screen
from trialmatch.web.stores import StorePool


def _screen(pool: StorePool, facts: PatientFacts, query: ScreeningQuery) -> Screening:
    with pool.checkout() as store:
        return screen(store, facts, query)


async def screen_in_thread(request: Request, facts: PatientFacts, query: ScreeningQuery) -> Screening:
    return await run_in_threadpool(_screen, request.app.state.stores, facts, query)
