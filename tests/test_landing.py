"""The landing page, in a real browser."""

import pytest

from tests.live import axe_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_landing_page_links_every_screen_and_is_accessible(live_server, page):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text().startswith("Demostad")
    assert page.get_by_role("link", name="API").get_attribute("href") == "/api/openapi.json"
    # this PC's browser: the simulated reader of the demo profile is linked, and the sign-in
    assert page.get_by_role("link", name="Simulated card reader").get_attribute("href") == "/kiosk/dev/cards"
    assert page.get_by_role("link", name="Sign in").get_attribute("href") == "/login"
    assert axe_violations(page) == []
