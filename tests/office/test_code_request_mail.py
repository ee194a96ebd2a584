"""A code request from the kiosk to collection with the citizen's e-mail received by a real
SMTP server, sent again after the server was down: the outbox worker of kiosk.outbox."""

import datetime as dt
import re

import pytest

from kiosk import code_requests, outbox
from kiosk.extensions import office
from tests.desk.conftest import CHECKIN, NATIONAL_NUMBER, SignedIn, issue
from tests.office.test_code_requests import english
from tests.system import free_port
from tests.test_outbox import Mailbox, mail_site

ADDRESS = "alex.citizen@example.org"


@pytest.fixture
def mailbox():
    box = Mailbox(free_port())
    yield box
    box.stop()


@pytest.fixture
def app_config(tmp_path, clock, mailbox, monkeypatch):
    site = mail_site(tmp_path, monkeypatch, mailbox.port)
    return {"SITE": site, "DATA_DIR": str(tmp_path), "CLOCK": clock, "TESTING": True}


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
