"""The four visits end to end in Chromium, by touch, with the simulated reader and printer."""

import re

import pytest
from playwright.sync_api import expect

from hardware.printer.fake_printer import FakeNetworkPrinter
from kiosk.demo import demo_pickups_csv
from kiosk.extensions import office
from kiosk.pickups import import_pickups
from tests.citizen.screens import SITE_SERVICE
from tests.live import axe_violations
from tests.sites import site_variant
from tests.system import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def accessible(page):
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


def choose(page, language: str, visit: str):
    page.locator(f".language-choices a[lang={language}]").tap()
    expect(page).to_have_url(re.compile(rf"/kiosk/visit\?lang={language}$"))
    assert page.locator("html").get_attribute("lang") == language
    page.locator(f".visit-{visit}").tap()
    expect(page).to_have_url(re.compile(rf"/kiosk/identify\?visit={visit}$"))


def insert(page, reader, card_id: str):
    reader.insert(card_id)
    expect(page).to_have_url(re.compile(r"/kiosk/check$"))


def take_ticket(page, tick_all=True) -> str:
    if tick_all:
        for item in page.locator(".check-item").all():
            item.tap()
    page.locator(".take-ticket").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/ticket$"))
    return page.locator(".ticket-number").inner_text()


def waiting(app):
    with app.app_context():
        return office.queue.waiting()


def issued(app, number):
    return next(t for t in waiting(app) if t.number == number)


@pytest.fixture
def register(app):
    with app.app_context():
        today = office.queue.today()
        import_pickups(office.engine, demo_pickups_csv(today), today, office.clock())


@pytest.mark.parametrize("language", ["nl", "ar"])
def test_pickup_of_a_card_that_is_ready(kiosk, reader, app, register, language):
    accessible(kiosk)
    choose(kiosk, language, "pickup")
    accessible(kiosk)
    insert(kiosk, reader, "adult-f-plus")
    expect(kiosk.locator(".notice.ok")).to_be_visible()
    assert kiosk.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    accessible(kiosk)
    number = take_ticket(kiosk)
    assert number == "A001"
    accessible(kiosk)
    ticket = issued(app, number)
    assert ticket.language == language
    assert ticket.checkin["pickup"]["storage"] == "Kast A, lade 2"
    # codes, whatever the citizen's language: the desk shows them in the clerk's
    assert ticket.checkin["confirmed"] == ["current_card", "code_letter"] and ticket.checkin["missing"] == []
    expect(kiosk.locator(".ticket-preview img")).to_be_visible()  # the QR code


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_certificate_activation_at_17_only_authentication(kiosk, reader, app, language):
    choose(kiosk, language, "activation")
    insert(kiosk, reader, "minor-17")
    expect(kiosk.locator(".note-minor_authentication_only")).to_be_visible()
    accessible(kiosk)
    number = take_ticket(kiosk)
    assert issued(app, number).checkin["notes"] == ["minor_authentication_only"]


@pytest.mark.parametrize("language", ["de", "ar"])
def test_new_pin_shows_the_tries_left(kiosk, reader, app, language):
    choose(kiosk, language, "pin_reset")
    insert(kiosk, reader, "pin-blocked")
    expect(kiosk.locator(".note-pin_blocked")).to_be_visible()
    number = take_ticket(kiosk, tick_all=False)
    checkin = issued(app, number).checkin
    assert checkin["pin_tries_left"] == 0 and checkin["confirmed"] == [] and checkin["missing"] == ["card", "puk"]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_new_codes_records_a_code_request_with_a_checked_contact(kiosk, reader, app, language):
    choose(kiosk, language, "new_codes")
    insert(kiosk, reader, "type-h")
    expect(kiosk.locator(".note-fee_and_delay")).to_be_visible()
    for ch in "alex@":
        kiosk.locator(f'.osk-key[data-char="{ch}"]').tap()
    kiosk.locator(".take-ticket").tap()
    expect(kiosk.locator("#contact-error")).to_be_visible()  # not an e-mail address yet
    accessible(kiosk)
    for ch in "ex.be":
        kiosk.locator(f'.osk-key[data-char="{ch}"]').tap()
    number = take_ticket(kiosk)
    code_request = issued(app, number).checkin["code_request"]
    assert code_request["contact"] == "email"


def test_lost_card_pickup_with_the_keypad(kiosk, reader, app, register):
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".lost").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/lost$"))
    accessible(kiosk)
    kiosk.get_by_role("link", name=re.compile("without my old card")).tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify/number\?visit=pickup$"))
    for key in "85073099238":  # last digit wrong
        kiosk.locator(f'.key[data-key="{key}"]').tap()
    kiosk.get_by_role("button", name="Continue").tap()
    expect(kiosk.locator("#number-error")).to_be_visible()
    kiosk.wait_for_load_state()
    accessible(kiosk)
    kiosk.locator('.key[data-key="back"]').tap()
    kiosk.locator('.key[data-key="9"]').tap()
    assert kiosk.locator("#national_number").input_value() == "85.07.30-992.39"
    kiosk.get_by_role("button", name="Continue").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))
    number = take_ticket(kiosk)
    checkin = issued(app, number).checkin
    assert checkin["lost_card"] and checkin["card"] is None and checkin["pickup"]


def test_a_card_not_in_the_pickup_register_gets_no_ticket(kiosk, reader, app):
    choose(kiosk, "nl", "pickup")
    insert(kiosk, reader, "type-m")
    expect(kiosk.locator(".notice.stop")).to_be_visible()
    expect(kiosk.locator(".take-ticket")).to_have_count(0)
    accessible(kiosk)
    with app.app_context():
        assert office.queue.waiting() == []


def test_pulling_the_card_mid_flow_goes_home_and_forgets(kiosk, reader):
    choose(kiosk, "en", "activation")
    insert(kiosk, reader, "adult-f-plus")
    expect(kiosk.locator(".card-line")).to_contain_text("Testperson")
    reader.remove()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))
    expect(kiosk.locator("body")).not_to_contain_text("Testperson")
    reader.insert("adult-f-plus")  # a remembered flow would take this card to the check screen
    kiosk.goto(kiosk.url.replace("/kiosk/", "/kiosk/check"))
    expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))  # the flow is gone, not just hidden


def test_a_card_left_in_the_reader_is_not_used_for_the_next_citizen(kiosk, reader, app):
    choose(kiosk, "en", "pin_reset")
    insert(kiosk, reader, "adult-f-plus")
    take_ticket(kiosk)
    take_card = kiosk.locator("[data-take-card]")
    expect(take_card).to_be_visible()
    accessible(kiosk)
    kiosk.get_by_role("link", name="Done").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))
    expect(kiosk.locator('[data-card-notice="left"]')).to_be_visible()  # named as someone's, in every language
    with kiosk.expect_response(re.compile(r"/kiosk/card\?after=")):  # the identify screen's first look
        choose(kiosk, "en", "activation")
    expect(kiosk.locator(".reader-message")).to_contain_text("still a card in the reader")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify\?visit=activation$"))
    reader.remove()
    expect(kiosk.locator(".reader-message")).to_contain_text("Put your card in")
    insert(kiosk, reader, "type-h")
    expect(kiosk.locator(".card-line")).to_contain_text("Card type H")


def test_the_take_card_notice_goes_when_the_card_is_taken(kiosk, reader):
    choose(kiosk, "en", "activation")
    insert(kiosk, reader, "type-h")
    take_ticket(kiosk)
    take_card = kiosk.locator("[data-take-card]")
    expect(take_card).to_have_text("Take your card out of the reader.")
    reader.remove()
    expect(take_card).to_be_hidden()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))


def test_ticks_are_kept_after_a_form_error(kiosk, reader):
    choose(kiosk, "en", "new_codes")
    insert(kiosk, reader, "type-h")
    kiosk.locator(".check-item").first.tap()
    kiosk.locator('.osk-key[data-char="@"]').tap()
    kiosk.locator(".take-ticket").tap()
    expect(kiosk.locator("#contact-error")).to_be_visible()
    expect(kiosk.locator(".check-item input").first).to_be_checked()
    expect(kiosk.locator(".check-item input").nth(1)).not_to_be_checked()


def test_an_error_page_stays_in_the_kiosk(kiosk, live_server):
    kiosk.goto(live_server.url + "/kiosk/nowhere?lang=en")
    expect(kiosk.locator("h1")).to_have_text("This page does not exist")
    accessible(kiosk)
    kiosk.get_by_role("link", name="Back to the start").tap()
    expect(kiosk.locator(".language-choices")).to_be_visible()


def test_a_card_that_is_not_a_residence_card_is_explained(kiosk, reader):
    choose(kiosk, "en", "activation")
    reader.insert("not-eid")
    expect(kiosk.locator(".reader-message")).to_contain_text("not a residence card")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify\?visit=activation$"))


def test_idle_warns_then_returns_home(kiosk, live_server, reader):
    kiosk.clock.install()
    kiosk.goto(live_server.url + "/kiosk/")
    choose(kiosk, "en", "activation")
    insert(kiosk, reader, "adult-f-plus")
    dialog = kiosk.get_by_role("alertdialog")
    kiosk.clock.fast_forward(46_000)  # default idle 60 s, warning 15 s before
    expect(dialog).to_be_visible()
    accessible(kiosk)
    dialog.get_by_role("button").tap()
    expect(dialog).to_be_hidden()
    kiosk.clock.fast_forward(50_000)
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))  # more time was given
    kiosk.clock.fast_forward(11_000)
    expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))


def test_larger_text_for_this_visit_only(kiosk):
    kiosk.locator(".language-choices a[lang=en]").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/visit\?lang=en$"))
    toggle = kiosk.locator("[data-toggle-large]")
    label = kiosk.locator(".visits .label").first  # the screen's own text (the top bar keeps its size)
    before = label.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    toggle.tap()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    after = label.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert after > before * 1.2
    kiosk.locator(".bottom a").tap()  # start again
    assert kiosk.locator("html").get_attribute("class") in (None, "")


def test_kiosk_hardening(kiosk):
    assert kiosk.locator("body").evaluate("e => getComputedStyle(e).userSelect") == "none"
    assert kiosk.evaluate(
        "() => { const e = new MouseEvent('contextmenu', {cancelable: true, bubbles: true});"
        " return !document.body.dispatchEvent(e); }"
    )
    external = kiosk.locator("a[href^='http']")
    assert external.count() == 0  # no way off the app


class TestPrinterOutOfPaper:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {
            **app_config,
            "SITE": str(
                site_variant(
                    tmp_path, ('[printer]\nkind = "simulated"', '[printer]\nkind = "simulated"\nmode = "paper_out"')
                )
            ),
        }

    def test_the_ticket_is_shown_on_screen_and_kept(self, kiosk, reader, app):
        choose(kiosk, "en", "pin_reset")
        insert(kiosk, reader, "adult-f-plus")
        number = take_ticket(kiosk)
        expect(kiosk.locator(".print-failed")).to_contain_text("printer")
        expect(kiosk.locator(".ticket-preview img")).to_be_visible()
        accessible(kiosk)
        assert issued(app, number).status == "waiting"

    def test_the_screen_only_ticket_stays_three_minutes(self, kiosk, live_server, reader):
        kiosk.clock.install()
        kiosk.goto(live_server.url + "/kiosk/")
        choose(kiosk, "en", "pin_reset")
        insert(kiosk, reader, "adult-f-plus")
        take_ticket(kiosk)
        kiosk.clock.fast_forward(61_000)  # twice the time a printed ticket stays
        expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))
        kiosk.clock.fast_forward(120_000)
        expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))


class TestSlowPrinter:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        printer = FakeNetworkPrinter(mode="silent").start()  # takes the job, never answers
        yield {
            **app_config,
            "SITE": str(
                site_variant(
                    tmp_path,
                    (
                        '[printer]\nkind = "simulated"',
                        (
                            f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = {printer.port}\n'
                            "timeout = 5\ndeadline = 6"
                        ),
                    ),
                )
            ),
        }
        printer.stop()

    def test_a_ticket_being_issued_survives_a_second_tap_and_the_card_pulled(self, kiosk, reader, app):
        """The printer answers late, so the ticket exists while the screen still waits."""
        choose(kiosk, "en", "pin_reset")
        insert(kiosk, reader, "adult-f-plus")
        posts = []
        kiosk.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
        box = kiosk.locator(".take-ticket").bounding_box()
        for _ in range(2):  # a double tap; plain touches, as they do not wait for the next page
            kiosk.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        wait_until(lambda: waiting(app), timeout=5, what="the ticket issued")
        with kiosk.expect_response(re.compile(r"/kiosk/card\?after=")):  # the watcher hears the card go
            reader.remove()
        expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"), timeout=15_000)
        expect(kiosk.locator(".ticket-number")).to_have_text("C001")
        assert len(posts) == 1 and [t.number for t in waiting(app)] == ["C001"]


class TestSiteService:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {**app_config, "SITE": str(site_variant(tmp_path, SITE_SERVICE))}

    def test_a_site_service_needs_no_card(self, kiosk, app):
        kiosk.locator(".language-choices a[lang=en]").tap()
        kiosk.locator(".visit-residence_certificate").tap()
        expect(kiosk).to_have_url(re.compile(r"/kiosk/confirm\?visit=residence_certificate$"))
        expect(kiosk.locator("h1")).to_have_text("Certificate of residence")
        expect(kiosk.locator(".check-item")).to_have_count(2)
        accessible(kiosk)
        number = take_ticket(kiosk)
        assert number == "E001" and issued(app, number).checkin["confirmed"] == ["site_0", "site_1"]


def test_out_of_service_when_the_reader_is_gone_and_back_by_itself(kiosk, reader):
    reader.set_reader_present(False)
    kiosk.reload()
    expect(kiosk.locator(".out-of-service")).to_be_visible()
    assert kiosk.locator(".out-of-service section").count() == 6  # every language of the office
    accessible(kiosk)
    reader.set_reader_present(True)
    expect(kiosk.locator(".language-choices")).to_be_visible(timeout=10_000)


def test_a_card_put_in_first_starts_the_visit_with_it(kiosk, reader, app):
    """Card first: put in on the start screen, it is the citizen's own, named so in every
    language, and the visit goes from the choice straight to the check (no second insert)."""
    own, left = kiosk.locator('[data-card-notice="own"]'), kiosk.locator('[data-card-notice="left"]')
    expect(own).to_be_hidden()
    reader.insert("type-h")
    expect(own).to_be_visible()
    expect(left).to_be_hidden()
    with app.app_context():
        expect(own.locator("p[lang]")).to_have_count(len(office.site.languages))
    accessible(kiosk)
    taps = 0
    kiosk.locator(".language-choices a[lang=en]").tap()
    taps += 1
    expect(own).to_have_text(re.compile("Your card is in the reader. Choose what brings you here"))
    kiosk.locator(".visit-pin_reset").tap()
    taps += 1
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))
    kiosk.locator(".take-ticket").tap()  # the list is a reminder: nothing has to be ticked
    taps += 1
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))
    assert taps == 3


def test_a_card_put_in_on_the_start_screen_and_left_there_is_let_go(kiosk, reader, app):
    """Nobody chose a language: after the usual idle the screen starts again, and the card
    is then one someone left, not the next citizen's."""
    idle = app.extensions["office"]["site"].kiosk.idle_seconds
    kiosk.clock.install()
    kiosk.reload()
    reader.insert("adult-f-plus")
    expect(kiosk.locator('[data-card-notice="own"]')).to_be_visible()
    with kiosk.expect_navigation():
        kiosk.clock.run_for((idle + 1) * 1000)
    expect(kiosk.locator('[data-card-notice="left"]')).to_be_visible()
    expect(kiosk.locator('[data-card-notice="own"]')).to_be_hidden()
    kiosk.locator(".language-choices a[lang=en]").tap()
    expect(kiosk.locator('[data-card-notice="left"]')).to_have_text(re.compile("Someone left a card"))
    kiosk.locator(".visit-activation").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify\?visit=activation$"))
    expect(kiosk.locator(".reader-message")).to_contain_text("still a card in the reader")
