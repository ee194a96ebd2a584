"""A message when the turn is near: asked for on the status page or at the kiosk (with any
visit, a site's own service too, a code request's contact too), written once when the site's number of people are
still ahead, and sent."""

import contextlib
import re
from pathlib import Path

import pytest

from kiosk import code_requests, outbox, ticketing, turn_soon
from kiosk.checkin import CheckIn
from kiosk.extensions import office
from kiosk.housekeeping import close_day
from kiosk.schema import outbox as outbox_table
from tests.citizen.conftest import reader  # noqa: F401 - fixture
from tests.citizen.screens import SITE_SERVICE, check_screen, flow_id
from tests.citizen.test_code_requests import contact_error, csrf_token
from tests.conftest import bearer
from tests.mail import mail_config
from tests.sites import site_variant

ADDRESS = "alex.citizen@example.org"


@pytest.fixture
def app_config(tmp_path, clock, mailbox, monkeypatch):
    mailbox.start()
    return mail_config(tmp_path, clock, monkeypatch, mailbox.port, kiosk="turn_soon_ahead = 2\n")


def issue(client, language="en") -> dict:
    response = client.post("/api/tickets", json={"service": "pickup", "language": language})
    assert response.status_code == 201
    return response.get_json()


def status_path(ticket: dict) -> str:
    return "/t/" + ticket["status_url"].rsplit("/", 1)[1]


def ask(client, ticket: dict, contact: str):
    page = client.get(status_path(ticket)).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(status_path(ticket) + "/alert", data={"csrf_token": csrf, "contact": contact})


def call_next(client, tokens, current: int | None = None) -> int:
    """Counter 1 finishes `current` and calls the next ticket; its id."""
    response = client.post("/api/counters/1/call-next", headers=bearer(tokens["desk"]), json={"current": current})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def written(app) -> list:
    with app.app_context(), office.engine.connect() as conn:
        return conn.execute(outbox_table.select().where(outbox_table.c.template == "turn_soon")).all()


def look(app) -> int:
    with app.app_context():
        return turn_soon.write_due(office, office.site.kiosk.turn_soon_ahead)


def test_asked_on_the_status_page_written_once_and_sent(app, client, tokens, mailbox, clock):
    mine = [issue(client) for _ in range(4)][-1]  # three people ahead
    refused = ask(client, mine, "not an address")
    assert refused.status_code == 400 and "not a phone number we can send a text message to" in refused.get_data(
        as_text=True
    )
    assert ask(client, mine, ADDRESS).status_code == 303
    page = client.get(status_path(mine)).get_data(as_text=True)
    assert "You will get a message when 2 people are ahead of you." in page and ADDRESS not in page
    assert look(app) == 0  # three ahead
    called = call_next(client, tokens)
    assert "Your turn is near" in client.get(status_path(mine) + "/status").get_data(as_text=True)
    assert look(app) == 1
    assert look(app) == 0  # once
    clock.advance(minutes=3)  # the clerk helps the first citizen
    call_next(client, tokens, called)
    assert look(app) == 0
    (message,) = written(app)
    assert (message.params, message.language) == ({"number": mine["number"], "ahead": 2}, "en")
    assert outbox.Worker(app).work_once() == 1
    assert mailbox.count() == 1 and mailbox.received[0]["To"] == ADDRESS
    assert mine["number"] in mailbox.received[0].get_content()


def test_a_ticket_called_before_its_turn_came_near_gets_nothing(app, client, tokens, clock):
    first = issue(client)
    assert ask(client, first, "+32470123456").status_code == 303
    call_next(client, tokens)
    assert look(app) == 0 and written(app) == []
    with app.app_context():
        assert turn_soon.subscribed(office.engine, first["id"])  # marked, so never looked at again


def test_the_contact_of_a_code_request_asks_for_it_too_and_is_forgotten_with_the_day(app, clock):
    with app.app_context():
        # as the kiosk issues the ticket of a code request
        issued = ticketing.issue_and_print(
            office, "screen", "new_codes", "nl", CheckIn(visit="new_codes"), ADDRESS, lambda issued: None
        )
        assert code_requests.for_ticket(office.engine, issued.ticket_id).contact_kind == "email"
        assert turn_soon.subscribed(office.engine, issued.ticket_id)
        clock.advance(days=1)
        close_day(office)
        assert not turn_soon.subscribed(office.engine, issued.ticket_id)


def checked_in(client, page: str, contact: str, screen: str = "check"):
    """The screen before the ticket (`check`, or `confirm` for a site's own service) posted
    with everything ticked and `contact`."""
    ticked = re.findall(r'name="confirmed" value="([^"]+)"', page)
    form = {"csrf_token": csrf_token(page), "flow_id": flow_id(page), "confirmed": ticked, "contact": contact}
    return client.post(f"/kiosk/{screen}", data=form)


def test_a_walk_in_leaves_a_contact_at_the_kiosk_and_gets_the_message(app, client, reader, mailbox):  # noqa: F811
    client.get("/kiosk/visit?lang=en")
    page = check_screen(client, reader, "pin_reset")
    assert "We use it only to send you a message today when 2 people are ahead of you." in page
    refused = checked_in(client, page, "0470 12")
    assert refused.status_code == 200 and contact_error(refused.get_data(as_text=True)) == (
        "This phone number does not look right."
    )
    taken = checked_in(client, refused.get_data(as_text=True), ADDRESS)
    assert taken.status_code == 302 and taken.headers["Location"].endswith("/kiosk/ticket")
    screen = client.get("/kiosk/ticket").get_data(as_text=True)
    assert "You will get a message when 2 people are ahead of you." in screen and ADDRESS not in screen
    assert look(app) == 1  # nobody ahead
    assert outbox.Worker(app).work_once() == 1
    assert mailbox.count() == 1 and mailbox.received[0]["To"] == ADDRESS


@contextlib.contextmanager
def own_app(tmp_path, clock, database_url, site: Path | None = None):
    """An app of the test's own, with `site` (the demo's without mail by default)."""
    from kiosk import create_app
    from kiosk.storage import migrate

    config = {"DATA_DIR": str(tmp_path), "CLOCK": clock, "TESTING": True, "DATABASE_URL": database_url}
    app = create_app({**config, **({"SITE": str(site)} if site else {})})
    with app.app_context():
        migrate(office.engine)
    try:
        yield app
    finally:
        app.extensions["office"]["engine"].dispose()


def test_without_the_setting_the_status_page_offers_nothing(tmp_path, clock, database_url):
    with own_app(tmp_path, clock, database_url) as app:
        client = app.test_client()
        ticket = issue(client)
        assert "A message when" not in client.get(status_path(ticket)).get_data(as_text=True)
        assert client.post(status_path(ticket) + "/alert", data={"contact": ADDRESS}).status_code in (400, 404)


def test_a_sites_own_service_asks_for_it_on_its_confirm_screen(tmp_path, clock, database_url):
    site = site_variant(tmp_path, SITE_SERVICE, ("[kiosk]\n", "[kiosk]\nturn_soon_ahead = 2\n"))
    with own_app(tmp_path, clock, database_url, site) as app:
        client = app.test_client()
        client.get("/kiosk/visit?lang=en")
        page = client.get("/kiosk/confirm?visit=residence_certificate").get_data(as_text=True)
        assert "We use it only to send you a message today when 2 people are ahead of you." in page
        taken = checked_in(client, page, ADDRESS, screen="confirm")
        assert taken.status_code == 302 and taken.headers["Location"].endswith("/kiosk/ticket")
        assert "You will get a message when 2 people are ahead of you." in client.get("/kiosk/ticket").get_data(
            as_text=True
        )
        with app.app_context():
            (ticket,) = office.queue.waiting()
            assert ticket.service == "residence_certificate" and turn_soon.subscribed(office.engine, ticket.id)
