"""The card's verdict on its way to the clerk: in the check-in when the ticket is taken, or
added to it as soon as it is known when the ticket was quicker; shown on the check screen as
"the counter will look at your card", never more; in the desk's and the API's ticket."""

import re

import pytest

from kiosk.extensions import office
from tests.citizen.screens import check_screen, flow_id
from tests.conftest import bearer
from tests.sites import site_variant, trusting_fake_register
from tests.system import wait_until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app_config(app_config, tmp_path):
    site = site_variant(tmp_path, trusting_fake_register(tmp_path))
    return {**app_config, "SITE": str(site), "WTF_CSRF_ENABLED": False}


def take_ticket(client, page: str, **form):
    response = client.post("/kiosk/check", data={"flow_id": flow_id(page), **form})
    assert response.headers["Location"].endswith("/kiosk/ticket")
    return response


def only_ticket(app):
    with app.app_context():
        (ticket,) = office.queue.waiting()
        return ticket


def card_of(app):
    return only_ticket(app).checkin["card"]


def test_a_genuine_card_s_verdict_is_in_the_check_in(app, client, reader):
    page = check_screen(client, reader, "activation", "adult-f-plus")
    assert "data-card-checked" in page and "data-findings" not in page  # known before the screen
    take_ticket(client, page)
    card = card_of(app)
    assert (card["authenticity"], card["photo"]) == ("valid", "matches")
    assert [c["kind"] for c in card["certificates"]] == ["authentication", "signing"]
    assert "card_to_be_checked" not in only_ticket(app).checkin["notes"]


@pytest.mark.parametrize(
    "card_id, verdict",
    [
        ("tampered-identity", ("invalid", "matches")),
        ("tampered-address", ("invalid", "matches")),
        ("other-root", ("invalid", "matches")),
        ("photo-differs", ("valid", "differs")),
    ],
)
def test_a_card_that_fails_still_gets_a_ticket_marked_for_the_clerk(app, client, reader, card_id, verdict):
    client.get("/kiosk/visit?lang=en")  # the texts below are the English ones
    page = check_screen(client, reader, "pin_reset", card_id)
    shown = re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1].split("</main>", 1)[0])  # what the citizen reads
    assert "The counter will look at your card with you" in shown
    assert not re.search(r"\b(fake|false|forged|invalid|genuine)\b", shown, re.IGNORECASE)
    take_ticket(client, page)
    ticket = only_ticket(app)
    assert (ticket.checkin["card"]["authenticity"], ticket.checkin["card"]["photo"]) == verdict
    assert "card_to_be_checked" in ticket.checkin["notes"]


def test_a_ticket_taken_before_the_checks_gets_them_when_they_come(app, client, reader):
    reader.hold_checks = True  # a slow reader: the screen is shown, the checks are still read
    page = check_screen(client, reader, "pin_reset", "tampered-identity")
    assert 'data-findings="/kiosk/check/findings"' in page and "data-card-checked" not in page
    assert "The counter will look at your card" not in page
    take_ticket(client, page)
    assert "authenticity" not in card_of(app)  # not known yet
    reader.release_checks()
    wait_until(lambda: card_of(app).get("authenticity") == "invalid", what="the verdict in the check-in")
    checkin = only_ticket(app).checkin
    assert checkin["card"]["photo"] == "matches" and checkin["notes"] == ["pin_not_blocked", "card_to_be_checked"]


def test_a_card_pulled_before_its_checks_is_not_checked(app, client, reader):
    reader.hold_checks = True
    page = check_screen(client, reader, "pin_reset", "adult-f-plus")
    take_ticket(client, page)
    reader.remove()
    wait_until(lambda: card_of(app).get("authenticity") == "not_checked", what="the ticket marked not checked")
    assert card_of(app)["photo"] == "not_checked"


def test_the_check_screen_s_notes_come_again_with_the_checks(client, reader):
    reader.hold_checks = True
    client.get("/kiosk/visit?lang=en")  # the texts below are the English ones
    page = check_screen(client, reader, "activation", "adult-no-signing")
    assert "cannot receive it later" not in page
    reader.release_checks()
    findings = client.get("/kiosk/check/findings")
    assert findings.status_code == 200 and findings.headers["Cache-Control"] == "no-store"
    assert "cannot receive it later" in findings.get_data(as_text=True)
    assert 'class="notice note-signing_never_on_this_card"' in findings.get_data(as_text=True)
    # another card in the reader: nothing of it
    reader.insert("type-h")
    assert client.get("/kiosk/check/findings").status_code == 404


def test_the_checks_follow_the_card_without_ending_the_screen(client, reader):
    reader.hold_checks = True
    check_screen(client, reader, "activation", "adult-f-plus")
    shown = client.get("/kiosk/card").get_json()
    reader.release_checks()
    checked = client.get(f"/kiosk/card?after={shown['version']}").get_json()
    assert checked["read"] == shown["read"] and checked["checked"] and not shown["checked"]
    assert checked["version"] > shown["version"]


def test_the_desk_and_the_api_show_the_verdict(app, client, reader, tokens):
    take_ticket(client, check_screen(client, reader, "pin_reset", "photo-differs"))
    called = client.post("/api/counters/1/call-next", headers=bearer(tokens["desk"])).get_json()
    card = called["checkin"]["card"]
    assert (card["authenticity"], card["photo"]) == ("valid", "differs")
    assert "photo" not in called["checkin"] and "certificates" in card  # the verdict only, never the photo
    desk = client.get("/desk/1/state", headers={**bearer(tokens["desk"]), "Accept-Language": "en"}).get_json()
    checkin = desk["current"]["checkin"]
    assert checkin["card_checks"][:2] == ["data signature valid", "photo does NOT match"]
    assert any(line.startswith("signing certificate until") for line in checkin["card_checks"])
    assert "The card did not pass the kiosk's check: look at the card itself" in checkin["notes"]


def test_without_trust_anchors_the_desk_sees_not_checked(app_config, tmp_path, database_url):
    from kiosk import create_app
    from kiosk.site import DEMO_PROFILE
    from kiosk.storage import migrate

    app = create_app({**app_config, "SITE": str(DEMO_PROFILE), "DATABASE_URL": database_url})
    with app.app_context():
        migrate(office.engine)
        reader = office.reader
    try:
        client = app.test_client()
        take_ticket(client, check_screen(client, reader, "pin_reset", "tampered-identity"))
        card = card_of(app)
        assert (card["authenticity"], card["photo"]) == ("not_checked", "matches")
    finally:
        reader.stop()
        app.extensions["office"]["engine"].dispose()
