"""``trialmatch serve``: the web app and REST API on the store."""

from __future__ import annotations

import http.client
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli import DbOption, _open_store, app, console
from trialmatch.store.sqlite import DB_PATH_ENV


def cpu_count() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


@app.command("serve")
def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 makes it reachable from other machines")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Server processes answering requests side by side [default: one per CPU]")] = None,
) -> None:
    """Start the web app and REST API (loads the bundled demo corpus when the store is empty)."""
    import uvicorn

    from trialmatch.web.app import SECRET_KEY_ENV

    with _open_store(db) as store:
        path: Path = store.path
        count = store.count()
    processes = workers or cpu_count()
    # Each worker process builds its own app from the environment: this store, and one key for the forms'
    # CSRF tokens, so a form served by one worker is accepted by another (fresh per run unless already set).
    os.environ[DB_PATH_ENV] = str(path.resolve())
    os.environ.setdefault(SECRET_KEY_ENV, secrets.token_urlsafe(32))
    console.print(f"Starting TrialMatch on {count} trials with {processes} worker "
                  f"process{'es' if processes > 1 else ''} …")
    # The address is printed once the app answers: the workers load the vocabulary first, for a few seconds.
    threading.Thread(target=_announce_when_ready, args=(host, port), daemon=True).start()
    # No access log: URLs can carry a patient's age, sex or place.
    uvicorn.run("trialmatch.web.app:app_from_environment", factory=True, host=host, port=port, workers=processes,
                http="trialmatch.web.serving:NoDelayHTTPProtocol", access_log=False, log_level="warning")


def _announce_when_ready(host: str, port: int, wait_seconds: float = 300.0) -> None:
    """Print the app's address once ``/api/status`` answers (or say it did not start in time)."""
    probe = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(probe, port, timeout=5)
            connection.request("GET", "/api/status")
            answered = connection.getresponse().status == 200
            connection.close()
        except OSError:
            answered = False
        if answered:
            console.print(f"TrialMatch is running at [bold]http://{host}:{port}/[/bold] "
                          f"(API docs at http://{host}:{port}/api/docs). Press Ctrl+C to stop.")
            return
        time.sleep(0.25)
    console.print(f"[red]TrialMatch did not answer at http://{host}:{port}/ within {wait_seconds:.0f} s.[/red] "
                  "Check that the port is free (--port) and the store can be read (--db).")
