"""The outbox: messages to citizens sent by a worker, against a real SMTP server (aiosmtpd) and
a real HTTP gateway (http.server), on SQLite and PostgreSQL. Time is the test's clock: a retry
is made due by advancing it, never by waiting."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from kiosk import create_app, housekeeping, outbox
from kiosk.extensions import office
from kiosk.messages import TEMPLATES, render
from kiosk.schema import outbox as outbox_table
from kiosk.senders import MailSender, Outgoing, senders_for
from kiosk.storage import make_engine, writing
from tests.mail import mail_config
from tests.system import wait_until

NATIONAL_NUMBER = "85073003328"
ADDRESS = "alex.citizen@example.org"
PHONE = "+32470123456"
SMS_AUTH = "Bearer gateway-secret"

postgres_only = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Gateway:
    """An SMS gateway on loopback: answers each POST with the next status of `statuses`."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append((dict(self.headers), body))
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def gateway():
    gateway = Gateway()
    yield gateway
    gateway.close()


@pytest.fixture
def app_config(tmp_path, clock, mailbox, gateway, monkeypatch):
    monkeypatch.setenv("KIOSK_SMS_AUTH", SMS_AUTH)
    sms = f'[sms]\nurl = "{gateway.url}"\nauth_header = "KIOSK_SMS_AUTH"\n\n'
    return mail_config(tmp_path, clock, monkeypatch, mailbox.port, tables=sms)


def enqueue(app, clock, channel="email", address=ADDRESS, language="nl", template="codes_arrived", params=None) -> int:
    with app.app_context(), writing(office.engine) as conn:
        return outbox.enqueue(
            conn,
            channel=channel,
            address=address,
            language=language,
            template=template,
            params=params or {},
            now=clock(),
        )


def row(app, message_id: int):
    with app.app_context(), office.engine.connect() as conn:
        return conn.execute(select(outbox_table).where(outbox_table.c.id == message_id)).one()


def test_a_message_is_received_once_in_the_citizens_language(app, clock, mailbox, caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.WARNING, logger="mail.log")  # the test server's own log names the address
    mailbox.start()
    message_id = enqueue(app, clock, params={"destroy_on": "2027-02-24"})
    worker = outbox.Worker(app)
    assert worker.work_once() == 1
    assert mailbox.count() == 1  # the server had taken it before the worker went on
    mail = mailbox.received[0]
    assert mail["To"] == ADDRESS and mail["Content-Language"] == "nl"
    assert mail["From"] == "Demostad <burgerzaken@demostad.example>"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_content()
    assert "Maandag: 00:00–24:00" in body  # the opening hours, the days named in Dutch
    assert "24 februari 2027" in body  # a date written the Dutch way
    assert NATIONAL_NUMBER.encode() not in mailbox.raw[0]
    assert worker.work_once() == 0
    assert mailbox.count() == 1
    sent = row(app, message_id)
    assert (sent.state, sent.sent_at, sent.attempts, sent.claimed_until) == ("sent", clock(), 1, None)
    assert ADDRESS not in caplog.text


def test_every_template_renders_in_every_language_of_the_site(app):
    params = {"codes_reminder": {"reminder": 2}, "turn_soon": {"number": "C012", "ahead": 3}}
    with app.app_context():
        for template in TEMPLATES:
            for language in office.site.languages:
                rendered = render(office.site, template, params.get(template, {}), language)
                assert rendered.subject and rendered.text and rendered.short
    with app.app_context():
        turn = render(office.site, "turn_soon", {"number": "C012", "ahead": 1}, "en")
        assert turn.short == "Ticket C012: 1 person is ahead of you at Demostad."
        assert render(office.site, "turn_soon", {"number": "C012", "ahead": 0}, "en").short.startswith(
            "Ticket C012: you are next"
        )


def test_with_the_server_down_it_is_retried_with_backoff_and_delivered_once(app, clock, mailbox, caplog):
    message_id = enqueue(app, clock)
    worker = outbox.Worker(app)
    assert worker.work_once() == 1  # nothing listens on the port yet
    first = row(app, message_id)
    assert (first.state, first.attempts, first.due_at) == ("pending", 1, clock() + dt.timedelta(seconds=30))
    assert first.last_error == "ConnectionRefusedError (ECONNREFUSED)"
    clock.advance(seconds=29)
    assert worker.work_once() == 0  # not due yet
    clock.advance(seconds=1)
    assert worker.work_once() == 1
    assert row(app, message_id).due_at == clock() + dt.timedelta(seconds=60)  # doubled
    mailbox.start()
    clock.advance(seconds=59)
    assert worker.work_once() == 0
    clock.advance(seconds=1)
    assert worker.work_once() == 1
    assert mailbox.count() == 1
    clock.advance(hours=2)
    assert worker.work_once() == 0
    assert mailbox.count() == 1
    done = row(app, message_id)
    assert (done.state, done.attempts, done.last_error) == ("sent", 3, None)
    assert "ConnectionRefusedError" in caplog.text and ADDRESS not in caplog.text


def test_the_backoff_doubles_to_an_hour_and_gives_up_within_a_day(app, clock):
    message_id = enqueue(app, clock)  # the server never comes up
    worker = outbox.Worker(app)
    started, waits = clock(), []
    while row(app, message_id).state == "pending":
        assert worker.work_once() == 1
        message = row(app, message_id)
        if message.state == "pending":
            waits.append((message.due_at - clock()).total_seconds())
            clock.now = message.due_at
        assert len(waits) < 100
    assert waits[:9] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    failed = row(app, message_id)
    assert failed.state == "failed" and failed.failed_at - started <= dt.timedelta(days=1)
    with app.app_context():
        [entry] = outbox.failures(office.engine)
    assert (entry.id, entry.channel, entry.template, entry.attempts) == (message_id, "email", "codes_arrived", 25)
    assert entry.last_error == "ConnectionRefusedError (ECONNREFUSED)"
    assert not hasattr(entry, "address")


def test_a_failed_message_can_be_sent_again_from_the_back_office(app, clock, mailbox):
    message_id = enqueue(app, clock)
    with app.app_context(), writing(office.engine) as conn:
        conn.execute(update(outbox_table).values(state="failed", failed_at=clock(), attempts=25))
    worker = outbox.Worker(app)
    assert worker.work_once() == 0
    mailbox.start()
    with app.app_context():
        assert outbox.retry(office.engine, message_id, clock())
        assert not outbox.retry(office.engine, message_id, clock())  # it is not failed any more
        assert [entry.id for entry in outbox.pending(office.engine)] == [message_id]
    assert worker.work_once() == 1
    assert mailbox.count() == 1 and row(app, message_id).state == "sent"


def test_a_lease_that_runs_out_mid_send_is_sent_again_and_recorded_once(app, clock, mailbox):
    mailbox.start()
    message_id = enqueue(app, clock)
    with app.app_context():
        crashed = outbox.claim(office.engine, ["email"], clock())  # then the instance stopped
    assert crashed is not None and crashed.id == message_id
    worker = outbox.Worker(app)
    assert worker.work_once() == 0  # the lease still holds
    clock.advance(seconds=outbox.LEASE_S)
    assert worker.work_once() == 1
    assert mailbox.count() == 1
    sent = row(app, message_id)
    assert (sent.state, sent.attempts, sent.sent_at) == ("sent", 2, clock())
    with app.app_context():
        # the stopped instance, back, cannot record its own outcome over the one recorded
        assert outbox.record_failure(office.engine, crashed, "TimeoutError", clock()) is None
        assert not outbox.record_sent(office.engine, message_id, clock() + dt.timedelta(seconds=5))
    assert row(app, message_id).sent_at == sent.sent_at and row(app, message_id).state == "sent"


def test_a_send_whose_record_was_lost_goes_out_again_as_the_same_message(app, clock, mailbox):
    mailbox.start()
    enqueue(app, clock)
    with app.app_context():
        site = office.site
        crashed = outbox.claim(office.engine, ["email"], clock())
    # the crashed instance had sent it, but stopped before it could say so
    with app.app_context():
        rendered = render(site, crashed.template, crashed.params, crashed.language)
    senders_for(site)[0]["email"].send(
        Outgoing(crashed.id, crashed.address, "nl", rendered.subject, rendered.text, rendered.short, crashed.created_at)
    )
    clock.advance(seconds=outbox.LEASE_S)
    assert outbox.Worker(app).work_once() == 1
    assert mailbox.count() == 2  # at least once: the same Message-ID, which mail readers take as one
    assert mailbox.received[0]["Message-ID"] == mailbox.received[1]["Message-ID"]


@postgres_only
def test_two_instances_on_postgresql_never_both_send_a_message(app, app_config, database_url, clock, mailbox):
    mailbox.start()
    ids = [enqueue(app, clock, params={}) for _ in range(40)]
    other = create_app({**app_config, "DATABASE_URL": database_url})
    workers = [outbox.Worker(app, every_s=0.01), outbox.Worker(other, every_s=0.01)]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: mailbox.count() >= len(ids), timeout=60, what="every message sent")
        with app.app_context():
            wait_until(lambda: not outbox.pending(office.engine), timeout=10, what="every send recorded")
    finally:
        for worker in workers:
            worker.stop()
        other.extensions["office"]["engine"].dispose()
    assert not any(worker.is_alive() for worker in workers)
    message_ids = [mail["Message-ID"] for mail in mailbox.received]
    assert len(message_ids) == len(ids) == len(set(message_ids))
    assert all(row(app, i).state == "sent" and row(app, i).attempts == 1 for i in ids)


@postgres_only
def test_claims_made_at_the_same_moment_never_meet(app, database_url, clock):
    ids = {enqueue(app, clock) for _ in range(30)}
    engines = [make_engine(database_url) for _ in range(4)]
    start = threading.Barrier(len(engines))
    taken: list[list[int]] = [[] for _ in engines]

    def take(n: int) -> None:
        start.wait(timeout=10)
        while (message := outbox.claim(engines[n], ["email"], clock())) is not None:
            taken[n].append(message.id)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    every = [i for claimed in taken for i in claimed]
    assert sorted(every) == sorted(ids)  # each exactly once


def test_the_sms_gateway_gets_the_body_and_authorization_and_a_500_is_retried(app, clock, gateway):
    gateway.statuses = [500, 200]
    message_id = enqueue(
        app,
        clock,
        channel="sms",
        address="0470 12 34 56",
        language="en",
        template="turn_soon",
        params={"number": "C012", "ahead": 3},
    )
    worker = outbox.Worker(app)
    assert worker.work_once() == 1
    assert (row(app, message_id).state, row(app, message_id).last_error) == ("pending", "HTTP 500")
    clock.advance(seconds=30)
    assert worker.work_once() == 1
    assert row(app, message_id).state == "sent"
    assert len(gateway.requests) == 2
    for headers, body in gateway.requests:
        assert headers["Authorization"] == SMS_AUTH
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == {"to": PHONE, "text": "Ticket C012: 3 people are ahead of you at Demostad."}


def test_a_message_the_gateway_refuses_is_given_up_at_once(app, clock, gateway):
    gateway.statuses = [400]
    message_id = enqueue(app, clock, channel="sms", address=PHONE, template="codes_arrived")
    assert outbox.Worker(app).work_once() == 1
    refused = row(app, message_id)
    assert (refused.state, refused.last_error, refused.attempts) == ("failed", "HTTP 400", 1)


def test_your_turn_soon_is_not_sent_once_it_would_mislead(app, clock, gateway):
    message_id = enqueue(
        app, clock, channel="sms", address=PHONE, template="turn_soon", params={"number": "A001", "ahead": 2}
    )
    clock.advance(minutes=31)
    assert outbox.Worker(app).work_once() == 1
    late = row(app, message_id)
    assert late.state == "failed" and late.last_error.startswith("too late")
    assert gateway.requests == []


def test_without_mail_set_up_a_message_is_held_with_the_reason_then_sent(app, clock, mailbox):
    message_id = enqueue(app, clock)
    site = app.config["SITE_PROFILE"]
    without_mail = outbox.Worker(
        app, senders={}, off={"email": "e-mail is not set up: the site profile has no [mail] table"}
    )
    assert without_mail.work_once() == 0
    with app.app_context():
        [held] = outbox.pending(office.engine)
    assert (held.id, held.state, held.attempts) == (message_id, "held", 0)
    assert held.last_error == "e-mail is not set up: the site profile has no [mail] table"
    assert without_mail.work_once() == 0  # nothing more to hold: no write
    mailbox.start()
    with_mail = outbox.Worker(app, senders=senders_for(site)[0])
    assert with_mail.work_once() == 1
    assert mailbox.count() == 1 and row(app, message_id).state == "sent"


def test_the_demo_profile_has_no_channel_set_up(demo_site):
    senders, off = senders_for(demo_site, environ={})
    assert senders == {} and set(off) == {"email", "sms"}


def test_the_environment_overrides_host_and_port_and_holds_the_secrets(app):
    site = app.config["SITE_PROFILE"]
    sender = MailSender(site.mail, site.municipality, {"KIOSK_MAIL_HOST": "mail.internal", "KIOSK_MAIL_PORT": "2525"})
    assert (sender.host, sender.port) == ("mail.internal", 2525)
    senders, off = senders_for(site, environ={"KIOSK_MAIL_PORT": "smtp"})
    assert set(senders) == set() and "KIOSK_MAIL_PORT" in off["email"] and "KIOSK_SMS_AUTH" in off["sms"]


def test_enqueue_refuses_what_could_never_be_sent_and_the_change_with_it(app, clock):
    wrong = [
        dict(channel="fax"),
        dict(channel="email", address=PHONE),
        dict(channel="sms", address=ADDRESS),
        dict(template="hello"),
        dict(params={"name": "Alex Citizen"}),
        dict(template="turn_soon", params={"number": NATIONAL_NUMBER, "ahead": 1}),
        dict(template="turn_soon", params={"number": "C012", "ahead": True}),
        dict(language="nl-BE; drop"),
    ]
    for change in wrong:
        with pytest.raises(ValueError) as refused:
            enqueue(app, clock, **change)
        assert ADDRESS not in str(refused.value) and NATIONAL_NUMBER not in str(refused.value)
    with app.app_context():
        assert outbox.pending(office.engine) == []


def test_the_purge_forgets_addresses_past_the_retention(app, clock, mailbox, gateway):
    mailbox.start()
    gateway.statuses = [400]
    sent = enqueue(app, clock)
    failed = enqueue(app, clock, channel="sms", address=PHONE)
    worker = outbox.Worker(app)
    assert worker.work_once() == 2
    held = enqueue(app, clock)  # never sent: its worker had no mail
    outbox.Worker(app, senders={}, off={"email": "off"}).work_once()
    with app.app_context():
        assert housekeeping.close_day(office).outbox_purged == 0  # within the retention
    clock.advance(days=31)
    with app.app_context():
        assert housekeeping.close_day(office).outbox_purged == 3
        assert housekeeping.close_day(office).outbox_purged == 0
        assert not outbox.retry(office.engine, failed, clock())  # nowhere to send it any more
    states = {i: (row(app, i).state, row(app, i).address) for i in (sent, failed, held)}
    assert states == {sent: ("sent", None), failed: ("failed", None), held: ("failed", None)}
    assert worker.work_once() == 0


@sqlite_only
def test_the_worker_thread_outlives_failures_and_stops(app, clock, mailbox, monkeypatch, caplog):
    mailbox.start()
    message_id = enqueue(app, clock)
    real = outbox.anything_due
    calls = {"n": 0}

    def database_away_once(*args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return real(*args)

    monkeypatch.setattr(outbox, "anything_due", database_away_once)
    worker = outbox.Worker(app, every_s=0.01)
    worker.start()
    try:
        wait_until(lambda: row(app, message_id).state == "sent", timeout=20, what="the message sent")
        assert worker.is_alive()
    finally:
        worker.stop(timeout_s=10)
    assert not worker.is_alive()
    assert "outbox: cannot send now (sqlalchemy.exc.OperationalError" in caplog.text
    assert mailbox.count() == 1
