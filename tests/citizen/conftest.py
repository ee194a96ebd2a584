"""The kiosk's touch screens in a real Chromium: portrait 1080x1920, touch only."""

import pytest

from kiosk.extensions import office


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1080, "height": 1920}, "has_touch": True, "locale": "nl-BE"}


@pytest.fixture
def reader(app):
    with app.app_context():
        reader = office.reader
    yield reader
    reader.stop()


@pytest.fixture
def kiosk(live_server, page, reader):
    """The kiosk's browser on the start screen."""
    page.goto(live_server.url + "/kiosk/")
    return page
