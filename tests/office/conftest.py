"""The back office's tests use the desk's staff accounts and signed-in clients, and the
kiosk's simulated reader; `screen(path)` opens a page in a browser context of its own."""

import pytest

from tests.citizen.conftest import reader  # noqa: F401 - fixtures
from tests.desk.conftest import client, staff  # noqa: F401
from tests.office.pages import DESK


@pytest.fixture
def screen(browser, live_server):
    contexts = []

    def open_page(path: str, viewport=DESK, **options):
        contexts.append(browser.new_context(viewport=viewport, locale="en-GB", **options))
        page = contexts[-1].new_page()
        page.goto(live_server.url + path)
        return page

    yield open_page
    for context in contexts:
        context.close()
