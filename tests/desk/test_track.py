"""The status page behind the ticket's QR code."""

import pytest

from tests.desk.conftest import PERSONAL, SignedIn, issue, token_of

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_token_is_short_and_unguessable(app):
    token = token_of(issue(app))
    assert 12 <= len(token) <= 16 and len(token) * 6 >= 64  # url-safe base64: 6 bits a character


def test_the_status_page_follows_the_ticket(app, client, staff):
    first, mine = issue(app), issue(app, language="en")
    token = token_of(mine)
    page = client.get(f"/t/{token}")
    assert page.status_code == 200 and 'lang="en"' in text(page)
    assert "A002" in text(page) and "Place in line: 2" in text(page)
    assert "Estimated wait: about 12 minutes" in text(page)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"

    desk = SignedIn(app.test_client(), "clerk")
    desk.post("/api/counters/2/call-next")  # calls A001
    assert "You are next." in text(client.get(f"/t/{token}/status"))
    desk.post("/api/counters/1/call-next")
    called = text(client.get(f"/t/{token}/status"))
    assert "Your number is called — go to Loket 1" in called and 'data-status="called"' in called
    desk.post(f"/api/tickets/{mine['id']}/park")
    assert 'data-status="parked"' in text(client.get(f"/t/{token}/status"))
    desk.post(f"/api/tickets/{mine['id']}/return")
    back = text(client.get(f"/t/{token}/status"))
    assert 'data-status="waiting"' in back and "You are next." in back  # A001 is at counter 2
    desk.post(f"/api/tickets/{first['id']}/finish")
    desk.post("/api/counters/2/call-next")
    desk.post(f"/api/tickets/{mine['id']}/finish")
    assert "Your visit is finished" in text(client.get(f"/t/{token}/status"))


def test_the_status_page_speaks_the_tickets_language_unless_asked(app, client):
    token = token_of(issue(app, language="fr"))
    assert 'lang="fr"' in text(client.get(f"/t/{token}"))
    assert 'lang="de"' in text(client.get(f"/t/{token}?lang=de"))
    assert 'lang="fr"' in text(client.get(f"/t/{token}?lang=xx"))


def test_an_unknown_token_and_yesterdays_ticket_are_not_valid(app, client, clock):
    token = token_of(issue(app))
    assert client.get("/t/AAAAAAAAAAAA").status_code == 404
    assert client.get(f"/t/{token}").status_code == 200
    clock.advance(days=1)
    gone = client.get(f"/t/{token}")
    assert gone.status_code == 404 and "not valid" in text(gone)
    assert client.get(f"/t/{token}/status").status_code == 404


def test_the_page_without_a_token_explains_the_qr_code(client):
    response = client.get("/t/")
    assert response.status_code == 200 and "QR code" in text(response)


def test_no_personal_data_on_the_status_page(app, client, staff):
    ticket = issue(app)
    token = token_of(ticket)
    pages = [client.get(f"/t/{token}"), client.get(f"/t/{token}/status")]
    desk = SignedIn(app.test_client(), "clerk")
    desk.post("/api/counters/1/call-next")
    pages += [client.get(f"/t/{token}"), client.get(f"/t/{token}/status")]
    for page in pages:
        assert not any(personal in text(page) for personal in PERSONAL)
