"""One visit end to end through the real card path: pcscd, vsmartcard's reader, the
virtual residence card, the PC/SC reader service, the kiosk in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from kiosk.extensions import office
from tests.pcsc import VIRTUAL_READER
from tests.sites import site_variant

pytestmark = [pytest.mark.browser, pytest.mark.pcsc, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def app_config(app_config, tmp_path, pcscd):
    site = site_variant(
        tmp_path, ('[reader]\nkind = "simulated"', f'[reader]\nkind = "pcsc"\nname_filter = "{VIRTUAL_READER}"')
    )
    return {**app_config, "SITE": str(site)}


def test_pin_reset_with_a_card_read_through_pcscd(kiosk, reader, virtual_card, app):
    card = virtual_card("pin-blocked")
    kiosk.locator(".language-choices a[lang=fr]").tap()
    kiosk.locator(".visit-pin_reset").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify\?visit=pin_reset$"))
    card.insert()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"), timeout=10_000)
    expect(kiosk.locator(".note-pin_blocked")).to_be_visible()
    kiosk.locator(".take-ticket").tap()
    expect(kiosk.locator(".ticket-number")).to_have_text("C001")
    with app.app_context():
        ticket = office.queue.waiting()[0]
    assert ticket.checkin["pin_tries_left"] == 0 and ticket.checkin["card"]["type"] == "EU"
    card.remove()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))  # the ticket stays until done or idle


def test_the_identify_screen_says_when_the_reader_service_is_down(kiosk, reader, pcscd):
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".visit-activation").tap()
    message = kiosk.locator(".reader-message")
    expect(message).to_contain_text("Put your card in")
    pcscd.stop()
    expect(message).to_have_text("The card reader is not working. Please ask at the counter.", timeout=10_000)
    pcscd.start()
    expect(message).to_contain_text("Put your card in", timeout=10_000)


@pytest.fixture
def trusting_site(tmp_path, pcscd):
    from hardware.card.fake_register import fake_register

    roots = tmp_path / "fake-roots.pem"
    roots.write_bytes(fake_register().trust_anchors_pem())
    reader = f'[reader]\nkind = "pcsc"\nname_filter = "{VIRTUAL_READER}"\ntrust_anchors = ["{roots}"]'
    return site_variant(tmp_path, ('[reader]\nkind = "simulated"', reader), name="trusting.toml")


@pytest.fixture
def trusting_app(app_config, trusting_site, database_url):
    from kiosk import create_app
    from kiosk.storage import migrate

    app = create_app({**app_config, "SITE": str(trusting_site), "DATABASE_URL": database_url})
    with app.app_context():
        migrate(office.engine)
    yield app
    app.extensions["office"]["engine"].dispose()


def test_a_tampered_card_through_pcscd_reaches_the_clerk_marked(trusting_app, page, virtual_card):
    from tests.live import LiveServer

    server = LiveServer(trusting_app)
    with trusting_app.app_context():
        reader = office.reader
    try:
        card = virtual_card("tampered-address")
        page.goto(server.url + "/kiosk/")
        page.locator(".language-choices a[lang=en]").tap()
        page.locator(".visit-pin_reset").tap()
        card.insert()
        expect(page).to_have_url(re.compile(r"/kiosk/check$"), timeout=10_000)
        expect(page.locator(".note-card_to_be_checked")).to_be_visible()
        page.locator(".take-ticket").tap()
        expect(page.locator(".ticket-number")).to_be_visible()
        with trusting_app.app_context():
            checkin = office.queue.waiting()[0].checkin
        assert checkin["card"]["authenticity"] == "invalid" and checkin["card"]["photo"] == "matches"
        card.remove()
    finally:
        server.stop()
        reader.stop()
