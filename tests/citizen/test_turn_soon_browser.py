"""The message when the turn is near, asked for at the kiosk in a real Chromium, by touch: the
check screen's own keyboard, the main action still in view below it, the ticket screen saying
the message will come; axe-core on both screens."""

import re

import pytest
from playwright.sync_api import expect

from kiosk import turn_soon
from kiosk.extensions import office
from tests.live import axe_violations
from tests.sites import site_variant

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "SITE": str(site_variant(tmp_path, ("[kiosk]\n", "[kiosk]\nturn_soon_ahead = 2\n")))}


def test_a_walk_in_types_a_mobile_number_on_the_screen_and_is_told_the_message_will_come(app, kiosk, reader):
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".visit-pin_reset").tap()
    reader.insert("adult-f-plus")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))
    expect(kiosk.locator("#contact-hint")).to_have_text(
        "We use it only to send you a message today when 2 people are ahead of you."
    )
    for key in "0470123456":
        kiosk.locator(f'.osk-key[data-char="{key}"]').tap()
    expect(kiosk.locator("#contact")).to_have_value("0470123456")
    assert axe_violations(kiosk) == []
    expect(kiosk.locator(".take-ticket")).to_be_in_viewport()
    kiosk.locator(".take-ticket").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))
    expect(kiosk.locator(".turn-soon")).to_have_text("You will get a message when 2 people are ahead of you.")
    assert axe_violations(kiosk) == []
    with app.app_context():
        (ticket,) = office.queue.waiting()
        assert turn_soon.subscribed(office.engine, ticket.id)
