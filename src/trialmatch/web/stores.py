"""Open stores for the app's worker threads.

A request takes a store from the pool for its whole life and gives it back at the end, so no two requests
ever use one SQLite connection at once (FastAPI may run a dependency and its route on different threads,
which rules out a store per thread).
"""

from __future__ import annotations

import queue
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from trialmatch.store.sqlite import TrialStore, default_db_path


class StorePool:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._idle: queue.SimpleQueue[TrialStore] = queue.SimpleQueue()

    @contextmanager
    def checkout(self) -> Iterator[TrialStore]:
        """A store for this caller alone until the block ends; opened when none is idle."""
        try:
            store = self._idle.get_nowait()
        except queue.Empty:
            store = TrialStore(self.path)
        try:
            yield store
        finally:
            self._idle.put(store)


async def get_store(request: Request) -> AsyncIterator[TrialStore]:
    """FastAPI dependency: a store of the app's pool, held until the response is sent.

    Async because taking a store from the pool doesn't block (only growing the pool opens a file): a plain
    generator would cost two trips to a worker thread per request, one to take the store and one to give it back.
    """
    with request.app.state.stores.checkout() as store:
        yield store


#: Route parameter type for a store: ``def route(store: StoreDep)``.
StoreDep = Annotated[TrialStore, Depends(get_store)]
