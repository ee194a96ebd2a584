"""Each rule of the card and of the municipality on the check screen, in Chromium, by touch,
with the simulated reader: what the citizen learns before queueing, and the ticket it gives."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from kiosk.extensions import office
from tests.live import axe_violations
from tests.sites import site_variant, trusting_fake_register

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def app_config(app_config, tmp_path, clock):
    # the fake cards are issued two years before the office's today: after the PUK-free date
    puk_free_from = clock.now.date() - dt.timedelta(days=3 * 365)
    rules = f'[rules]\npin_reset_without_puk_from = {puk_free_from.isoformat()}\npostcodes = ["9000", "9030"]\n\n'
    site = site_variant(tmp_path, trusting_fake_register(tmp_path), ("[printer]", rules + "[printer]"))
    return {**app_config, "SITE": str(site)}


def accessible(page):
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


def choose(page, visit: str):
    page.locator(".language-choices a[lang=en]").tap()
    page.locator(f".visit-{visit}").tap()
    expect(page).to_have_url(re.compile(rf"/kiosk/identify\?visit={visit}$"))


def insert(page, reader, card_id: str):
    reader.insert(card_id)
    expect(page).to_have_url(re.compile(r"/kiosk/check$"))


def take_ticket(page) -> str:
    for item in page.locator(".check-item").all():
        item.tap()
    page.locator(".take-ticket").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/ticket$"))
    return page.locator(".ticket-number").inner_text()


def issued(app, number):
    with app.app_context():
        return next(t for t in office.queue.waiting() if t.number == number)


def test_activation_on_a_card_from_before_july_2017_is_a_new_card_by_appointment(kiosk, reader, app):
    choose(kiosk, "activation")
    insert(kiosk, reader, "issued-2017")
    expect(kiosk.locator(".notice.stop")).to_contain_text("can no longer receive certificates")
    expect(kiosk.locator(".notice.stop")).to_contain_text("July 1, 2017")  # the profile's date, written the English way
    expect(kiosk.locator(".take-ticket")).to_have_count(0)
    accessible(kiosk)
    with app.app_context():
        assert office.queue.waiting() == []


def test_a_minor_s_card_without_the_signing_certificate_says_what_to_do(kiosk, reader, app):
    choose(kiosk, "activation")
    insert(kiosk, reader, "adult-no-signing")
    expect(kiosk.locator(".note-signing_never_on_this_card")).to_contain_text("apply for a new card")
    accessible(kiosk)
    number = take_ticket(kiosk)
    assert issued(app, number).checkin["notes"] == ["signing_never_on_this_card"]


def test_the_rule_s_note_comes_when_the_certificates_are_read_after_the_screen(kiosk, reader):
    reader.hold_checks = True  # a slow reader: the screen shows before the certificates are read
    choose(kiosk, "activation")
    insert(kiosk, reader, "adult-no-signing")
    note = kiosk.locator(".note-signing_never_on_this_card")
    expect(kiosk.locator(".card-line")).to_be_visible()
    expect(note).to_have_count(0)
    reader.release_checks()
    expect(note).to_be_visible()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))  # the same screen: the card stayed


def test_at_18_the_signing_certificate_can_now_be_activated(kiosk, reader, app):
    choose(kiosk, "activation")
    insert(kiosk, reader, "turned-18")
    expect(kiosk.locator(".note-signing_can_be_activated")).to_be_visible()
    expect(kiosk.locator(".note-minor_authentication_only")).to_have_count(0)
    number = take_ticket(kiosk)
    assert issued(app, number).checkin["notes"] == ["signing_can_be_activated"]


def test_new_codes_for_a_card_reset_without_puk_become_a_free_pin_ticket(kiosk, reader, app):
    choose(kiosk, "new_codes")
    insert(kiosk, reader, "pin-blocked")
    expect(kiosk.locator(".note-codes_not_needed")).to_contain_text("free of charge")
    expect(kiosk.locator("#contact")).to_have_count(0)  # no code request, so no contact to give
    expect(kiosk.locator(".note-fee_and_delay")).to_have_count(0)
    accessible(kiosk)
    number = take_ticket(kiosk)
    assert number.startswith("C")  # the PIN queue
    ticket = issued(app, number)
    assert ticket.service == "pin_reset" and ticket.checkin["visit"] == "pin_reset"
    assert ticket.checkin["notes"] == ["codes_not_needed", "pin_blocked", "no_puk_needed"]
    assert ticket.checkin["confirmed"] == ["card"] and ticket.checkin["code_request"] is None


def test_a_pin_reset_on_such_a_card_asks_for_no_puk(kiosk, reader):
    choose(kiosk, "pin_reset")
    insert(kiosk, reader, "pin-blocked")
    expect(kiosk.locator(".note-no_puk_needed")).to_be_visible()
    expect(kiosk.locator('.check-item input[value="puk"]')).to_have_count(0)


def test_new_codes_with_an_address_elsewhere_are_told_where_the_codes_go(kiosk, reader, app):
    choose(kiosk, "new_codes")
    insert(kiosk, reader, "issued-2017")  # issued before the PUK-free date: codes it is
    expect(kiosk.locator(".note-codes_to_home_municipality")).to_contain_text("municipality where you are registered")
    accessible(kiosk)
    for ch in "a@b.be":
        kiosk.locator(f'.osk-key[data-char="{ch}"]').tap()
    number = take_ticket(kiosk)
    assert issued(app, number).checkin["notes"] == ["fee_and_delay", "codes_to_home_municipality"]


def test_a_card_found_within_seven_days_of_doc_stop_is_reactivated(kiosk, reader, app, clock):
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".lost").tap()
    kiosk.locator(".found-again").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/lost/found$"))
    expect(kiosk.locator(".blocked-days a")).to_have_count(9)  # today, yesterday, 2..7 days, longer
    accessible(kiosk)
    kiosk.locator('.blocked-days a[data-days="3"]').tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify$"))
    insert(kiosk, reader, "adult-f-plus")
    expect(kiosk.locator(".note-doc_stop_reactivation")).to_contain_text("you need no new card")
    accessible(kiosk)
    number = take_ticket(kiosk)
    ticket = issued(app, number)
    assert ticket.service == "activation" and ticket.checkin["notes"] == ["doc_stop_reactivation"]
    assert ticket.checkin["doc_stop"] == (clock.now.date() - dt.timedelta(days=3)).isoformat()


def test_a_card_blocked_longer_ago_cannot_be_reactivated(kiosk, reader, app):
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".lost").tap()
    kiosk.locator(".found-again").tap()
    kiosk.locator('.blocked-days a[data-days="more"]').tap()
    expect(kiosk.locator(".notice.stop")).to_contain_text("only within 7 days")
    accessible(kiosk)
    with app.app_context():
        assert office.queue.waiting() == []


def test_a_card_that_fails_its_checks_is_sent_to_the_counter_kindly(kiosk, reader, app):
    reader.hold_checks = True
    choose(kiosk, "pin_reset")
    insert(kiosk, reader, "tampered-identity")
    notice = kiosk.locator(".note-card_to_be_checked")
    expect(notice).to_have_count(0)
    reader.release_checks()
    expect(notice).to_have_text("The counter will look at your card with you when it is your turn.")
    accessible(kiosk)
    number = take_ticket(kiosk)
    card = issued(app, number).checkin["card"]
    assert card["authenticity"] == "invalid"
