"""Searches and screenings run a few at a time per worker, first come first served (``web.work``)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from trialmatch.web.app import create_app
from trialmatch.web.settings import WebSettings
from trialmatch.web.work import in_turn


def test_work_runs_at_most_the_configured_number_at_once_in_arrival_order(tmp_path: Path) -> None:
    app = create_app(tmp_path / "trials.db", WebSettings(concurrent_work=2))
    running, most, started = 0, 0, []
    lock = threading.Lock()

    def work(number: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            started.append(number)
        time.sleep(0.02)
        with lock:
            running -= 1
        return number * 10

    async def many() -> list[int]:
        tasks = []
        for number in range(12):
            tasks.append(asyncio.create_task(in_turn(app, work, number)))
            await asyncio.sleep(0)  # they arrive one after another
        return await asyncio.gather(*tasks)

    # A loop of its own, on a thread of its own: the browser tests' Playwright keeps a loop running on this one.
    results: list[list[int]] = []
    runner = threading.Thread(target=lambda: results.append(asyncio.run(many())))
    runner.start()
    runner.join()
    assert results == [[n * 10 for n in range(12)]]
    assert most == 2
    # First come, first served: with two slots, each starts at most one place from its arrival (two that get
    # their slots together may start in either order on the thread pool).
    assert sorted(started) == list(range(12))
    assert all(abs(started.index(number) - number) <= 1 for number in range(12)), started
