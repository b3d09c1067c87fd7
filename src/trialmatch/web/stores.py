"""One open store per worker thread: SQLite connections are cheap to keep and unsafe to share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from trialmatch.store.sqlite import TrialStore, default_db_path


class StorePool:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._local = threading.local()

    def get(self) -> TrialStore:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = TrialStore(self.path)
        return store


def get_store(request: Request) -> Iterator[TrialStore]:
    """FastAPI dependency: this thread's store."""
    yield request.app.state.stores.get()


#: Route parameter type for this thread's store: ``def route(store: StoreDep)``.
StoreDep = Annotated[TrialStore, Depends(get_store)]
