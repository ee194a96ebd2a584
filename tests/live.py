"""A real waitress server in a thread, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import waitress
from waitress import wasyncore

from kiosk.server import KIOSK, Side
from tests.system import require_debian_packages

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LiveServer:
    """waitress serving `app` from a thread of this process, so tests can reach the app's
    objects (reader, clock) while a browser talks to it over real sockets. By default as the
    kiosk's own listener (kiosk.server), which serves every screen to the kiosk PC."""

    def __init__(self, app, threads: int = 8, side: str = KIOSK):
        self.app = app
        self._server = waitress.create_server(Side(app, side), host="127.0.0.1", port=0, threads=threads)
        self.url = f"http://127.0.0.1:{self._server.effective_port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        # waitress's own run() loops until its sockets are closed; closing them from another
        # thread makes select() or a worker's wake-up fail on a closed descriptor. So the loop
        # runs in short turns here, and this thread closes everything when asked to stop.
        server = self._server
        while not self._stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
        wasyncore.close_all(server._map)

    def stop(self):
        # Running requests (a card long-poll lasts up to 5 s) finish before the sockets close.
        self._server.task_dispatcher.shutdown(timeout=10)
        self._stopping.set()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()


@contextmanager
def pages_of_their_own(browser, base_url: str, **defaults) -> Iterator[Callable]:
    """`open_page(path, **options)`: a page in a browser context of its own (a desk PC, the TV,
    a phone), with `defaults` for new_context unless `options` say otherwise. All are closed
    at the end, before the server stops, so no poll outlives the test."""
    contexts = []

    def open_page(path: str, **options):
        contexts.append(browser.new_context(**{**defaults, **options}))
        page = contexts[-1].new_page()
        page.goto(base_url + path)
        return page

    try:
        yield open_page
    finally:
        for context in contexts:
            context.close()


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright's launch arguments: Debian's Chromium, installed when missing."""
    require_debian_packages("chromium")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in results.response["violations"]]
