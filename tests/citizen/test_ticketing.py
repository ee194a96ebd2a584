"""Taking a ticket (kiosk.ticketing) without the screens: issue, code request, print, and
one ticket per screen."""

import threading

import pytest
from sqlalchemy import select, text

from kiosk.checkin import CheckIn, CodeRequestMade, Identity
from kiosk.extensions import office
from kiosk.schema import code_requests
from kiosk.ticketing import Issued, Refused, Ticketing
from tests.sites import site_variant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PIN_RESET = CheckIn(
    visit="pin_reset",
    identity=Identity("Testperson, Jan", "85073003328"),
    notes=("pin_blocked",),
    confirmed=("card",),
    missing=("puk",),
)
NEW_CODES = CheckIn(
    visit="new_codes",
    identity=Identity("Testperson, Jan", "85073003328"),
    notes=("fee_and_delay",),
    confirmed=("card", "fee"),
)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def printed(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "tickets").glob("*.escpos"))


def test_a_ticket_is_issued_with_its_check_in_remembered_and_printed(ctx, tmp_path):
    remembered = []
    outcome = Ticketing().take(
        office, "screen-1", visit="pin_reset", language="fr", checkin=PIN_RESET, remember=remembered.append
    )
    assert isinstance(outcome, Issued) and outcome.number == "C001" and not outcome.print_failed
    # told as soon as the ticket exists, before the printer could say how it went
    assert remembered == [Issued(outcome.ticket_id, "C001", print_failed=True)]
    ticket = office.queue.ticket(outcome.ticket_id)
    assert ticket.language == "fr" and ticket.checkin["v"] == 1
    assert CheckIn.from_json(ticket.checkin) == PIN_RESET
    assert len(printed(tmp_path)) == 1


def test_a_screen_gets_one_ticket_however_often_it_is_posted(ctx, tmp_path):
    ticketing = Ticketing()
    assert ticketing.taken("screen-1") is None
    first = ticketing.take(office, "screen-1", visit="pin_reset", language="nl", checkin=PIN_RESET)
    again = ticketing.take(office, "screen-1", visit="pin_reset", language="nl", checkin=PIN_RESET)
    assert first == again == ticketing.taken("screen-1")
    other = ticketing.take(office, "screen-2", visit="pin_reset", language="nl", checkin=PIN_RESET)
    assert isinstance(other, Issued) and other.number == "C002"
    assert len(office.queue.waiting()) == 2 and len(printed(tmp_path)) == 2


def test_a_post_during_the_first_waits_for_its_ticket(ctx, app, monkeypatch):
    ticketing, issue = Ticketing(wait_s=30), office.queue.issue
    entered, release = threading.Event(), threading.Event()

    def slow_issue(*args, **kwargs):
        entered.set()
        assert release.wait(30)
        return issue(*args, **kwargs)

    monkeypatch.setattr(office.queue, "issue", slow_issue)
    outcomes = {}

    def first():
        with app.app_context():
            outcomes["first"] = ticketing.take(office, "screen-1", visit="pin_reset", language="nl", checkin=PIN_RESET)

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(30)
    second = threading.Thread(target=lambda: outcomes.setdefault("second", ticketing.taken("screen-1")))
    second.start()
    release.set()
    thread.join(30)
    second.join(30)
    assert isinstance(outcomes["first"], Issued) and outcomes["second"] == outcomes["first"]
    assert len(office.queue.waiting()) == 1


def test_a_failure_before_the_ticket_lets_the_screen_post_again(ctx, monkeypatch):
    ticketing, issue = Ticketing(), office.queue.issue

    def database_away(*args, **kwargs):
        raise ConnectionError("database away")

    monkeypatch.setattr(office.queue, "issue", database_away)
    with pytest.raises(ConnectionError):
        ticketing.take(office, "screen-1", visit="pin_reset", language="nl", checkin=PIN_RESET)
    assert ticketing.taken("screen-1") is None and office.queue.waiting() == []
    monkeypatch.setattr(office.queue, "issue", issue)
    assert isinstance(ticketing.take(office, "screen-1", visit="pin_reset", language="nl", checkin=PIN_RESET), Issued)


def test_new_codes_record_the_code_request_on_the_office_clock(ctx, clock):
    clock.advance(minutes=7)
    outcome = Ticketing().take(
        office, "screen-1", visit="new_codes", language="nl", checkin=NEW_CODES, contact="alex@example.org"
    )
    assert isinstance(outcome, Issued)
    with office.engine.connect() as conn:
        request = conn.execute(select(code_requests)).one()
    assert (request.ticket_id, request.national_number, request.contact) == (
        outcome.ticket_id,
        "85073003328",
        "alex@example.org",
    )
    assert request.requested_at == clock()
    stored = CheckIn.from_json(office.queue.ticket(outcome.ticket_id).checkin)
    assert stored == NEW_CODES.with_code_request(CodeRequestMade(request.id, "email"))


def test_a_code_request_that_fails_leaves_a_note_for_the_clerk(ctx):
    with office.engine.begin() as conn:
        conn.execute(
            text("CREATE TRIGGER refuse BEFORE INSERT ON code_requests BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
        )
    outcome = Ticketing().take(office, "screen-1", visit="new_codes", language="nl", checkin=NEW_CODES)
    assert isinstance(outcome, Issued)
    stored = CheckIn.from_json(office.queue.ticket(outcome.ticket_id).checkin)
    assert stored == NEW_CODES.with_note("code_request_not_recorded")


def test_no_printer_still_gives_the_ticket(ctx, monkeypatch):
    def jammed(*args, **kwargs):
        raise OSError("paper jam")

    monkeypatch.setattr(office.printer, "print_ticket", jammed)
    outcome = Ticketing().take(office, "screen-1", visit="pin_reset", language="nl", checkin=PIN_RESET)
    assert isinstance(outcome, Issued) and outcome.print_failed
    assert [t.number for t in office.queue.waiting()] == [outcome.number]


class TestRefused:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        return {
            **app_config,
            "SITE": str(
                site_variant(
                    tmp_path, ('id = "new_codes"\nletter = "D"', 'id = "new_codes"\nletter = "D"\nenabled = false')
                )
            ),
        }

    def test_the_queues_refusal_is_the_outcome(self, ctx):
        ticketing = Ticketing()
        refused = ticketing.take(office, "screen-1", visit="new_codes", language="nl", checkin=NEW_CODES)
        assert refused == Refused("service_disabled") == ticketing.taken("screen-1")
        assert office.queue.waiting() == []
