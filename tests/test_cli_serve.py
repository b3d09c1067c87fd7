"""``trialmatch serve`` prints the app's address only once the app answers there."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_address_is_printed_when_the_app_answers(demo_store_path: Path, tmp_path: Path) -> None:
    port = _free_port()
    trialmatch = Path(sys.executable).with_name("trialmatch")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(trialmatch), "serve", "--db", str(demo_store_path), "--port", str(port),
                                    "--workers", "2"], stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + 120
        while "running at" not in log.read_text() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        printed = log.read_text()
        assert f"TrialMatch is running at http://127.0.0.1:{port}/" in printed, printed
        # Asked at once: it answers (before, the address came first and the port refused for a few seconds).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=5) as answer:
            assert answer.status == 200
        assert printed.index("Starting TrialMatch on") < printed.index("running at")
    finally:
        process.terminate()
        process.wait(timeout=15)
