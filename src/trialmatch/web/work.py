"""Run the store's CPU-bound work (searches, screenings) a few at a time, in the order requests arrive.

Each worker process runs a request's search or screening on its thread pool. Dozens at once share one core
through the interpreter lock in no particular order: each takes as long as all of them together, and the
unlucky ones far longer. Admitting a few at a time, first come first served (an asyncio semaphore queues
its waiters in order), does the same work at the same rate while every request waits only its turn, so
under many concurrent clients the slowest answers come much sooner.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")

#: Each app's turnstile, per event loop (tests may drive one app from several loops).
_TURNSTILES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary())


async def in_turn(app: FastAPI, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` on the thread pool, once one of the app's work slots is free."""
    loop = asyncio.get_running_loop()
    slots = _TURNSTILES.setdefault(loop, {})
    turnstile = slots.get(id(app))
    if turnstile is None:
        turnstile = slots[id(app)] = asyncio.Semaphore(app.state.settings.concurrent_work)
    async with turnstile:
        return await run_in_threadpool(work, *args, **kwargs)
