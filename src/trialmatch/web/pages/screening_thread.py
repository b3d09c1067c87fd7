"""Run a screening off the event loop, on a worker thread with that thread's own store.

The form pages read their (multipart) bodies asynchronously, so they are ``async`` routes; judging every
candidate trial is CPU work that would stall every other request if it ran on the loop; it waits its turn
(``web.work``). The store is taken
from the pool inside the worker thread and held only while it works.
"""

from __future__ import annotations

from fastapi import Request

from trialmatch.patients.facts import PatientFacts
from trialmatch.screening import Screening, ScreeningQuery, screen
from trialmatch.web.stores import StorePool
from trialmatch.web.work import in_turn


def _screen(pool: StorePool, facts: PatientFacts, query: ScreeningQuery) -> Screening:
    with pool.checkout() as store:
        return screen(store, facts, query)


async def screen_in_thread(request: Request, facts: PatientFacts, query: ScreeningQuery) -> Screening:
    return await in_turn(request.app, _screen, request.app.state.stores, facts, query)
