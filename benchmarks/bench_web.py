"""Web API under load: 50 concurrent clients searching and matching against `trialmatch serve`.

    python benchmarks/bench_web.py [--db PATH] [--clients 50] [--searches 3000] [--matches 300] [--workers N]

The server is started the way users start it, ``trialmatch serve --workers N`` (uvicorn with N worker
processes, default one per CPU, on 127.0.0.1 and a free port), on the bundled demo store or on ``--db``.
The load comes from a second process: asyncio with one keep-alive HTTP/1.1 connection per simulated client,
each sending its next request as soon as the last one answered (closed loop). The client speaks HTTP on raw
sockets because a full client library (httpx) spent twice the server's CPU per request, and on a shared
2-core machine the load generator's CPU is taken from the server. Figures: p50/p95/max latency, throughput
and errors, for

- search: ``GET /api/trials`` with varied queries (words, condition, status, age, place and radius, pages;
  the number of distinct queries is printed);
- match: ``POST /api/match`` with the demo patient (a 10-year-old boy with relapsed B-ALL) as JSON, against
  open trials (the default) and against trials of any status (more trials to judge).

Targets: search p95 ≤ 100 ms, match p95 ≤ 500 ms, with 50 clients. Each endpoint is first measured with one
client alone (its service time), then with all of them: in a closed loop the latency under load is about
clients ÷ throughput. Every response is checked (status 200, a JSON object with the expected key); a failed
request counts as an error, not as a fast answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import queue
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import yaml

from trialmatch.importing import load_demo
from trialmatch.store.sqlite import TrialStore

ROOT = Path(__file__).resolve().parents[1]
DEMO_PATIENT = ROOT / "src" / "trialmatch" / "data" / "patients" / "demo-child-relapsed-b-all.yaml"
SEARCH_TARGET_MS = 100.0
MATCH_TARGET_MS = 500.0

WORDS = ["leukaemia", "acute lymphoblastic leukemia", "B-ALL blinatumomab", "ALL", "AML", "lymphoma",
         "CAR-T", "relapsed refractory", "inotuzumab", "dasatinib Philadelphia", "neuroblastoma", "breast cancer",
         "stem cell transplant", "pancreatic cancer", "NCT06054113", "minimal residual disease", "",
         "Hodgkin lymphoma", "T-cell lymphoblastic", "imatinib", "rituximab", "chemotherapy children",
         "relapsed acute myeloid leukemia", "CD19", "Down syndrome", "graft versus host disease", "asparaginase",
         "venetoclax", "myelodysplastic syndrome", "radiotherapy", "vaccine", "quality of life", ""]
CONDITIONS = ["", "", "", "", "B-ALL", "acute myeloid leukaemia", "leukemia", "lymphoma", "cancer"]
STATUSES = ["", "open", "open", "any", "recruiting", "closed"]
PLACES = [("", ""), ("", ""), ("London", "300"), ("Lyon, France", "100"), ("Boston", "250"), ("Leeds, UK", "500"),
          ("Seoul", "100"), ("New York", "")]


@dataclass(frozen=True)
class Figures:
    name: str
    latencies_ms: list[float]
    errors: list[str]
    seconds: float

    def line(self, target_ms: float) -> str:
        done = len(self.latencies_ms)
        if not done:
            return f"{self.name:>36}: no successful request; errors: {self.errors[:3]}"
        ordered = sorted(self.latencies_ms)
        p95 = ordered[min(done - 1, round(0.95 * (done - 1)))]
        verdict = "meets" if p95 <= target_ms else "MISSES"
        return (f"{self.name:>36}: p50 {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   "
                f"max {ordered[-1]:7.1f} ms   {done / self.seconds:7.1f} req/s   {done} ok, "
                f"{len(self.errors)} errors   ({verdict} p95 ≤ {target_ms:.0f} ms)")


def cpu_count() -> int:
    """CPUs this process may use: trialmatch serve's default number of workers."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def search_params(rng: random.Random) -> dict[str, str]:
    """One realistic search: some words, maybe a condition, status, age, place and radius, sometimes page 2."""
    near, within = rng.choice(PLACES)
    params = {"q": rng.choice(WORDS), "condition": rng.choice(CONDITIONS), "status": rng.choice(STATUSES),
              "age": rng.choice(["", "", "10", "45", "70", "3"]), "near": near, "within": within,
              "page": rng.choice(["1", "1", "1", "2"])}
    return {key: value for key, value in params.items() if value}


def demo_patient() -> dict:
    # YAML dates become strings, as a client sending JSON would send them.
    return json.loads(json.dumps(yaml.safe_load(DEMO_PATIENT.read_text("utf-8")), default=str))


class Connection:
    """One client's keep-alive HTTP/1.1 connection: just enough HTTP for this server's answers."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
        """Send one request; the answer's status and body."""
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        try:
            await writer.drain()
            status_line, *header_lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in header_lines if ": " in line)
            if headers.get("transfer-encoding") == "chunked":
                content = b""
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    content += (await reader.readexactly(size + 2))[:-2]
                await reader.readuntil(b"\r\n")
            else:
                content = await reader.readexactly(int(headers.get("content-length", "0")))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            await self.close()
            raise
        if headers.get("connection") == "close":
            await self.close()
        return int(status_line.split()[1]), content

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


Send = Callable[[Connection], Awaitable[tuple[int, bytes]]]
Check = Callable[[int, bytes], "str | None"]


async def _client_loop(connection: Connection, jobs: itertools.count, total: int, send: Send, check: Check,
                       latencies: list[float], errors: list[str]) -> None:
    while next(jobs) < total:
        started = time.perf_counter()
        try:
            status, content = await send(connection)
            problem = check(status, content)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            problem = f"{type(error).__name__}: {error}"
        elapsed = (time.perf_counter() - started) * 1000
        if problem:
            errors.append(problem)
        else:
            latencies.append(elapsed)


async def _run_phase(base_url: str, clients: int, total: int, send: Send,
                     check: Check) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    jobs = itertools.count()
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    pool = [Connection(host, int(port)) for _ in range(clients)]
    started = time.perf_counter()
    try:
        await asyncio.gather(*(_client_loop(c, jobs, total, send, check, latencies, errors) for c in pool))
    finally:
        await asyncio.gather(*(c.close() for c in pool))
    return latencies, errors, time.perf_counter() - started


def _expect(key: str) -> Check:
    def check(status: int, content: bytes) -> str | None:
        if status != 200:
            return f"status {status}: {content[:200].decode(errors='replace')}"
        answer = json.loads(content)
        if not isinstance(answer, dict) or key not in answer:
            return f"no {key!r} in the answer"
        return None

    return check


def load_generator(base_url: str, clients: int, searches: int, matches: int, workers: int,
                   out: multiprocessing.Queue) -> None:
    """The second process: runs each phase with ``clients`` concurrent clients and sends back the figures."""
    rng = random.Random(20260601)
    patient = json.dumps(demo_patient()).encode()
    distinct: set[str] = set()

    async def search(connection: Connection) -> tuple[int, bytes]:
        target = "/api/trials?" + urlencode(search_params(rng))
        distinct.add(target)
        return await connection.request("GET", target)

    def match(status: str) -> Send:
        async def send(connection: Connection) -> tuple[int, bytes]:
            return await connection.request("POST", f"/api/match?status={status}", patient)

        return send

    async def phases() -> None:
        # Warm-up, enough for every worker process: the first match compiles plans and fills caches, and the
        # first search opens stores; that is start-up cost, not load.
        await _run_phase(base_url, 2 * workers, 20 * workers, search, _expect("results"))
        await _run_phase(base_url, 2 * workers, 4 * workers, match("any"), _expect("matches"))
        distinct.clear()
        for name, send, key, total in (("search GET /api/trials", search, "results", searches),
                                       ("match (open trials)", match("open"), "matches", matches),
                                       ("match (any status)", match("any"), "matches", matches)):
            # One client alone first: the service time, without queueing behind the others.
            for concurrent, count in ((1, max(20, total // 10)), (clients, total)):
                latencies, errors, seconds = await _run_phase(base_url, concurrent, count, send, _expect(key))
                out.put(Figures(f"{name}, {concurrent} client{'s' if concurrent > 1 else ''}", latencies, errors,
                                seconds))
            if send is search:
                out.put(f"{'':>38}{len(distinct)} distinct search queries (words, condition, status, age, "
                        "place, radius, page)")

    asyncio.run(phases())
    out.put(None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(db: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    trialmatch = Path(sys.executable).with_name("trialmatch")
    process = subprocess.Popen([str(trialmatch), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
                                "--workers", str(workers)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"trialmatch serve exited: {process.stderr.read().decode() if process.stderr else ''}")
        try:
            if httpx.get(f"{base_url}/api/status", timeout=2).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"trialmatch serve did not answer at {base_url} within 120 s")


def _next_figures(results: multiprocessing.Queue, generator: multiprocessing.Process) -> Figures | str | None:
    while True:
        try:
            return results.get(timeout=5)
        except queue.Empty:
            if not generator.is_alive():
                raise SystemExit(f"the load generator stopped with exit code {generator.exitcode}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="A store to serve (default: a fresh store with the demo corpus)")
    parser.add_argument("--clients", type=int, default=50, help="Concurrent clients")
    parser.add_argument("--searches", type=int, default=3000, help="Search requests in all")
    parser.add_argument("--matches", type=int, default=300, help="Match requests in all, per status setting")
    parser.add_argument("--workers", type=int, default=cpu_count(),
                        help="Server worker processes (default: one per CPU, as trialmatch serve)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        db = args.db
        if db is None:
            db = Path(scratch) / "demo.db"
            with TrialStore(db) as store:
                load_demo(store)
        with TrialStore(db) as store:
            print(f"store: {store.count():,} trials ({db})")
        server, base_url = start_server(db, args.workers)
        try:
            print(f"server: trialmatch serve --workers {args.workers} (uvicorn, {args.workers} worker "
                  f"process{'es' if args.workers > 1 else ''}) at {base_url}; load: {args.clients} clients in a "
                  f"second process (raw HTTP/1.1 keep-alive); {cpu_count()} CPUs shared by all; load average "
                  f"{os.getloadavg()[0]:.1f} before the run")
            results: multiprocessing.Queue = multiprocessing.Queue()
            generator = multiprocessing.Process(target=load_generator, args=(
                base_url, args.clients, args.searches, args.matches, args.workers, results))
            generator.start()
            while (figures := _next_figures(results, generator)) is not None:
                if isinstance(figures, str):
                    print(figures)
                    continue
                print(figures.line(SEARCH_TARGET_MS if figures.name.startswith("search") else MATCH_TARGET_MS))
                for error in sorted(set(figures.errors))[:3]:
                    print(f"{'':>38}error: {error}")
            generator.join()
            print(f"load average {os.getloadavg()[0]:.1f} after the run")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
