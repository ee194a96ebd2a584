"""Every page says where scripts may come from, that it must not be framed, and no sniffing."""

import pytest

from kiosk.app import SECURITY_HEADERS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize("path", ["/", "/kiosk/", "/login", "/board/", "/t/", "/api/queue", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        if name != "Referrer-Policy" or not path.startswith("/t/"):
            assert response.headers.get(name) == value, (path, name)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_status_page_keeps_its_stricter_referrer_policy(client):
    # The status page's address holds the ticket's token: never sent to another site.
    assert client.get("/t/").headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.browser
def test_no_screen_breaks_the_policy(app, live_server, page):
    from tests.desk.conftest import issue, token_of

    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    ticket = issue(app)
    for path in ("/", "/kiosk/", "/kiosk/visit", "/login", "/board/", f"/t/{token_of(ticket)}"):
        page.goto(live_server.url + path)
        # loaded, and a frame drawn after it: the kiosk's screens keep a request open for the
        # card, so the network never falls idle
        page.wait_for_load_state("load")
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
    assert violations == []
