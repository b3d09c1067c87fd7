"""Browser tests: the real app in its own process, driven by Debian's headless Chromium through Playwright.

The server is ``trialmatch serve`` on a store holding the bundled demo corpus, started once per session on a
free loopback port. Each test gets a fresh browser context (no cookies or answers carried over), and fails if
the page throws a script error or the browser blocks something under the Content Security Policy.

Chromium and axe-core are installed by scripts/test.sh; when either is missing these tests FAIL with what to
do, they never skip: CI must not pass a web app it never opened.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Response, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 812}
#: WCAG 2.1 level A and AA rules; best-practice rules are advice, not a pass mark.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
_SUBRESOURCES = {"stylesheet", "script", "image", "font"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"trialmatch serve exited with {process.returncode} before answering:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/api/status", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"trialmatch serve did not answer {base_url}/api/status within {timeout:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def server_url(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``trialmatch serve`` running in a subprocess on the demo store."""
    log = tmp_path_factory.mktemp("server") / "serve.log"
    port = _free_port()
    trialmatch = Path(sys.executable).with_name("trialmatch")  # the console script pip put beside this Python
    if not trialmatch.exists():
        pytest.fail(f"no `trialmatch` command beside {sys.executable}: install the package with "
                    "`pip install -e '.[test]'` (scripts/test.sh does)")
    command = [str(trialmatch), "serve", "--db", str(demo_store_path),
               "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                   env={**os.environ, "NO_COLOR": "1"})
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base_url, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's Chromium at {CHROMIUM}: run `bash scripts/test.sh` "
                    "(it installs it as root) or `sudo apt-get install -y chromium`")
    with sync_playwright() as playwright:
        # Chromium's sandbox refuses to run as root, which CI is; the pages are our own, served on loopback.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What the browser complained about while a test ran: script errors and CSP refusals fail the test."""

    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("pageerror", self._script_error)
        page.on("console", self._console)
        page.on("response", self._response)

    def _script_error(self, error: Error) -> None:
        self.errors.append(f"script error: {error}")

    def _response(self, response: Response) -> None:
        # A page's own style sheets, scripts and images must load; Chromium's own favicon probe may 404.
        kind = response.request.resource_type
        if response.status >= 400 and kind in _SUBRESOURCES and not response.url.endswith("/favicon.ico"):
            self.errors.append(f"{kind} {response.url} answered {response.status}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(f"blocked by the Content Security Policy: {message.text}")


def _open_page(browser: Browser, server_url: str, viewport: ViewportSize) -> Iterator[Page]:
    context = browser.new_context(base_url=server_url, viewport=viewport, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    yield page
    context.close()
    assert not problems.errors, "the browser reported problems:\n" + "\n".join(problems.errors)


@pytest.fixture
def page(browser: Browser, server_url: str) -> Iterator[Page]:
    """A fresh desktop-sized tab; relative URLs go to the test server."""
    yield from _open_page(browser, server_url, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser, server_url: str) -> Iterator[Page]:
    """A fresh tab the size of a phone (375 × 812 CSS pixels)."""
    yield from _open_page(browser, server_url, PHONE)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` in {ROOT} (scripts/test.sh does)")
    return AXE.read_text("utf-8")


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} at {targets}\n"
                     f"  {violation['helpUrl']}")
    return "\n".join(lines)


@pytest.fixture
def check_accessibility(axe_source: str) -> Callable[[Page], list[dict]]:
    """Run axe-core on the page as it stands; fail on serious or critical WCAG 2.1 A/AA violations.

    axe is evaluated through the DevTools protocol (``page.evaluate``), which the page's Content Security
    Policy does not govern, so the page is audited with its real policy in force: ``add_script_tag`` would
    insert an inline ``<script>`` that ``script-src 'self'`` refuses, and ``bypass_csp`` would audit a page
    other than the one people get.
    """

    def check(page: Page) -> list[dict]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            WCAG_TAGS)
        blocking = [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe found serious accessibility problems on {page.url}:\n{_describe(blocking)}"
        return results["violations"]

    return check


_OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width > 0 && box.right > width && getComputedStyle(el).position !== 'fixed') {
            const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '';
            const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls;
            wide.push(`${name} reaches x=${Math.round(box.right)}`);
        }
    }
    return {scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 8)};
}"""


@pytest.fixture
def check_fits_width() -> Callable[[Page], None]:
    """Fail if the page scrolls sideways: everything must fit the viewport's width (phones included)."""

    def check(page: Page) -> None:
        overflow = page.evaluate(_OVERFLOW)
        assert overflow["scroll"] <= 0, (f"{page.url} scrolls {overflow['scroll']} px sideways at "
                                         f"{page.viewport_size}; too wide: {json.dumps(overflow['wide'])}")

    return check
