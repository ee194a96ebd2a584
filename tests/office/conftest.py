"""The back office's tests use the desk's staff accounts and signed-in clients, and the
kiosk's simulated reader; `screen(path)` opens a page in a browser context of its own."""

import pytest

from tests.citizen.conftest import reader  # noqa: F401 - fixtures
from tests.desk.conftest import client, staff  # noqa: F401
from tests.live import pages_of_their_own
from tests.office.pages import DESK


@pytest.fixture
def screen(browser, live_server):
    with pages_of_their_own(browser, live_server.url, viewport=DESK, locale="en-GB") as open_page:
        yield open_page
