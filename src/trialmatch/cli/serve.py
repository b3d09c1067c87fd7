"""``trialmatch serve``: the web app and REST API on the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trialmatch.cli import DbOption, _open_store, app, console


@app.command("serve")
def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on; 0.0.0.0 makes it reachable from other machines")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Start the web app and REST API (loads the bundled demo corpus when the store is empty)."""
    import uvicorn

    from trialmatch.web import create_app

    with _open_store(db) as store:
        path: Path = store.path
        count = store.count()
    console.print(f"TrialMatch is running at [bold]http://{host}:{port}/[/bold] "
                  f"({count} trials; API docs at http://{host}:{port}/api/docs). Press Ctrl+C to stop.")
    # No access log: URLs can carry a patient's age, sex or place.
    uvicorn.run(create_app(path), host=host, port=port, access_log=False, log_level="warning")
