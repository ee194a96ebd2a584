"""A code request from the kiosk to collection with the citizen's e-mail received by a real
SMTP server, sent again after the server was down: the outbox worker of kiosk.outbox, over
the API and in a real Chromium at the kiosk, the desk and the back office."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from kiosk import code_requests, outbox
from kiosk.extensions import office
from tests.desk.conftest import CHECKIN, NATIONAL_NUMBER, SignedIn, issue
from tests.mail import mail_config
from tests.office.pages import KIOSK, accessible, keep, signed_in
from tests.office.test_code_requests import english

ADDRESS = "alex.citizen@example.org"


@pytest.fixture
def app_config(tmp_path, clock, mailbox, monkeypatch):
    return mail_config(tmp_path, clock, monkeypatch, mailbox.port)  # the server is down at first


def test_the_citizen_is_mailed_when_the_codes_arrive_even_after_the_server_was_down(app, staff, clock, mailbox):
    ticket = issue(app, "new_codes", dict(CHECKIN, visit="new_codes", pickup=None), language="de")
    with app.app_context():
        request_id = code_requests.record(office.engine, ticket["id"], NATIONAL_NUMBER, ADDRESS, office.clock()).id
    clerk, supervisor = SignedIn(english(app), "clerk"), SignedIn(english(app), "supervisor")
    assert clerk.post(f"/api/code-requests/{request_id}/ordered").get_json()["state"] == "ordered"
    assert supervisor.post(f"/api/code-requests/{request_id}/arrived").get_json()["state"] == "notified"

    worker = outbox.Worker(app)
    assert worker.work_once() == 1  # the mail server is down
    with app.app_context():
        (waiting,) = outbox.pending(office.engine)
    assert (waiting.attempts, waiting.last_error) == (1, "ConnectionRefusedError (ECONNREFUSED)")
    mailbox.start()
    clock.advance(seconds=30)
    assert worker.work_once() == 1
    assert mailbox.count() == 1
    mail = mailbox.received[0]
    assert mail["To"] == ADDRESS and mail["Content-Language"] == "de"
    assert NATIONAL_NUMBER.encode() not in mailbox.raw[0] and b"Testperson" not in mailbox.raw[0]
    clock.advance(hours=1)
    assert worker.work_once() == 0 and mailbox.count() == 1  # recorded as sent: once

    clock.advance(days=14)
    with app.app_context():
        assert code_requests.send_reminders(office.engine, office.site.codes, clock()) == 1
    assert worker.work_once() == 1 and mailbox.count() == 2
    clerk = SignedIn(english(app), "clerk")
    assert clerk.post(f"/api/code-requests/{request_id}/collected").get_json()["state"] == "collected"
    with app.app_context():
        assert code_requests.send_reminders(office.engine, office.site.codes, clock() + dt.timedelta(days=30)) == 0
        states = [state for _at, state, _by, _reason in code_requests.history(office.engine, request_id)]
    assert states == ["requested", "ordered", "arrived", "notified", "reminded", "collected"]


def test_a_message_given_up_is_listed_and_sent_again_from_the_back_office(app, staff, clock, mailbox):
    ticket = issue(app, "new_codes", dict(CHECKIN, visit="new_codes", pickup=None))
    with app.app_context():
        request_id = code_requests.record(office.engine, ticket["id"], NATIONAL_NUMBER, ADDRESS, office.clock()).id
    SignedIn(english(app), "clerk").post(f"/api/code-requests/{request_id}/ordered")
    SignedIn(english(app), "supervisor").post(f"/api/code-requests/{request_id}/arrived")
    worker = outbox.Worker(app)
    for _ in range(40):  # the server stays down for more than a day: given up
        worker.work_once()
        clock.advance(hours=1)
    with app.app_context():
        (failed,) = outbox.failures(office.engine)
    supervisor = SignedIn(english(app), "supervisor")
    html = supervisor.client.get("/office/").get_data(as_text=True)
    assert "Not sent, given up: 1" in html and "ConnectionRefusedError" in html and ADDRESS not in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    supervisor.client.post(f"/office/messages/{failed.id}/retry", data={"csrf_token": csrf})
    mailbox.start()
    assert worker.work_once() == 1 and mailbox.count() == 1
    assert "Not sent, given up: 0" in supervisor.client.get("/office/").get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_from_the_kiosk_to_collection_in_the_browser_with_the_mail_sent_again(
    app, screen, staff, reader, clock, mailbox
):
    kiosk = screen("/kiosk/", viewport=KIOSK, has_touch=True)
    kiosk.locator(".language-choices a[lang=de]").tap()
    kiosk.locator(".visit-new_codes").tap()
    reader.insert("type-h")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))
    for item in kiosk.locator(".check-item").all():
        item.tap()
    for key in ADDRESS:  # on the screen's own keyboard
        kiosk.locator(f'.osk-key[data-char="{key}"]').tap()
    expect(kiosk.locator("#contact")).to_have_value(ADDRESS)
    kiosk.locator(".take-ticket").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))
    number = kiosk.locator(".ticket-number").inner_text()
    reader.remove()

    desk = signed_in(screen, "clerk", "/desk/1/")
    desk.get_by_role("button", name=re.compile("^Call next")).click()
    request_line = desk.locator('[data-field="code_request"] dd')
    expect(request_line).to_contain_text("requested: take the fee")
    desk.get_by_role("button", name="Fee paid: order the codes").click()
    expect(desk.locator("#message")).to_have_text("The codes are ordered.")
    expect(request_line).to_contain_text("ordered")
    desk.get_by_role("button", name=re.compile("^Finish")).click()
    expect(desk.locator("#current-empty")).to_be_visible()

    supervisor = signed_in(screen, "supervisor", "/office/code-requests")
    row = supervisor.locator("table.requests tbody tr").filter(has_text=number)
    expect(row).to_contain_text("e-mail")
    row.get_by_role("button", name=re.compile("^Codes arrived")).click()
    row = supervisor.locator("table.requests tbody tr").filter(has_text=number)
    expect(row).to_contain_text("Citizen told")

    worker = outbox.Worker(app)
    assert worker.work_once() == 1  # the mail server is down
    supervisor.goto(supervisor.url.split("/office/")[0] + "/office/")
    retrying = supervisor.locator("table.retrying")
    expect(retrying).to_contain_text("ConnectionRefusedError")
    expect(supervisor.locator("main")).not_to_contain_text(ADDRESS)
    accessible(supervisor)
    keep(supervisor, "office-messages.png")
    mailbox.start()
    clock.advance(seconds=30)
    assert worker.work_once() == 1 and mailbox.count() == 1
    mail = mailbox.received[0]
    assert mail["To"] == ADDRESS and mail["Content-Language"] == "de"
    with app.app_context():
        (listed,) = code_requests.listing(office.engine, office.site.codes, office.queue.today())
    assert listed.national_number and listed.national_number.encode() not in mailbox.raw[0]
    assert b"Testperson" not in mailbox.raw[0]  # the card holder's name
    supervisor.reload()
    expect(supervisor.locator("table.retrying")).to_have_count(0)

    supervisor.goto(supervisor.url.split("/office/")[0] + "/office/code-requests")
    row = supervisor.locator("table.requests tbody tr").filter(has_text=number)
    row.get_by_role("button", name=re.compile("^Collected")).click()
    expect(supervisor.get_by_role("status")).to_have_text(f"Request {listed.id}: Collected.")
    with app.app_context():
        states = [state for _at, state, _by, _reason in code_requests.history(office.engine, listed.id)]
    assert states == ["requested", "ordered", "arrived", "notified", "collected"]
    assert worker.work_once() == 0 and mailbox.count() == 1  # sent once
