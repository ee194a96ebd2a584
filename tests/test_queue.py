"""The queue engine's operations and rules, on SQLite and PostgreSQL."""

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from kiosk.queue import (
    CounterHasTicket,
    InvalidTransition,
    OfficeClosed,
    QueueEngine,
    ServiceDisabled,
    TicketNotFound,
    UnknownCounter,
    UnknownService,
)
from kiosk.schema import ticket_events, tickets


def events(queue, ticket_id):
    with queue.engine.connect() as conn:
        return [
            r.kind
            for r in conn.execute(
                select(ticket_events.c.kind).where(ticket_events.c.ticket_id == ticket_id).order_by(ticket_events.c.id)
            )
        ]


def issue(queue, service="pickup", **kw):
    ticket, _place = queue.issue(service, language=kw.pop("language", "nl"), **kw)
    return ticket


def with_rules(queue, **changes):
    return QueueEngine(queue.engine, dataclasses.replace(queue.rules, **changes), queue.clock)


# --- numbering ---------------------------------------------------------------------------


def test_numbers_are_the_service_letter_and_a_daily_sequence(queue):
    assert [issue(queue, "pickup").number for _ in range(3)] == ["A001", "A002", "A003"]
    assert issue(queue, "pin_reset").number == "C001"
    assert issue(queue, "pickup").number == "A004"


def test_numbering_restarts_at_the_daily_reset_hour_and_history_stays(queue, clock):
    first = issue(queue)
    issue(queue)
    clock.now = dt.datetime(2026, 11, 25, 1, 30)  # 02:30 in Brussels: before the 04:00 reset
    assert issue(queue).number == "A003"
    clock.now = dt.datetime(2026, 11, 25, 3, 5)  # 04:05 in Brussels: a new day
    fresh = issue(queue)
    assert fresh.number == "A001" and fresh.day == dt.date(2026, 11, 25)
    old = queue.ticket(first.id)
    assert old.status == "expired" and old.number == "A001"  # kept, not deleted
    assert events(queue, first.id) == ["issued", "expired"]
    assert [t.number for t in queue.waiting()] == ["A001"]


def test_check_in_data_and_language_are_kept(queue):
    ticket = issue(queue, "activation", language="ar", checkin={"visit": "activation", "card_type": "F+"})
    stored = queue.ticket(ticket.id)
    assert stored.language == "ar" and stored.checkin == {"visit": "activation", "card_type": "F+"}


# --- refusals ------------------------------------------------------------------------------


def test_unknown_and_disabled_services_and_a_closed_office_are_refused(queue, demo_site):
    with pytest.raises(UnknownService):
        issue(queue, "passport")
    disabled = dict(queue.rules.services)
    disabled["new_codes"] = dataclasses.replace(disabled["new_codes"], enabled=False)
    with pytest.raises(ServiceDisabled):
        issue(with_rules(queue, services=disabled), "new_codes")
    closed = dataclasses.replace(demo_site.opening_hours, week={d: () for d in range(7)})
    with pytest.raises(OfficeClosed):
        issue(with_rules(queue, opening_hours=closed))
    assert queue.waiting() == []


def test_unknown_counter_and_ticket(queue):
    with pytest.raises(UnknownCounter):
        queue.call_next(99)
    with pytest.raises(TicketNotFound):
        queue.finish(12345)


# --- calling -------------------------------------------------------------------------------


def test_call_next_only_takes_services_the_counter_serves(queue, clock):
    issue(queue, "pin_reset")
    clock.advance(seconds=1)
    pickup = issue(queue, "pickup")
    called = queue.call_next(2)  # counter 2: pickup and activation only
    assert called.id == pickup.id and called.status == "called" and called.counter == 2
    assert queue.call_next(2) is None


def test_longest_waiting_first_across_services_so_none_starves(queue, clock):
    order = ["pickup", "activation", "pickup", "activation", "pickup"]
    issued = []
    for service in order:
        issued.append(issue(queue, service))
        clock.advance(seconds=30)
    called = [queue.call_next(1).id for _ in order]
    assert called == [t.id for t in issued]


def test_priority_goes_first(queue, clock):
    early = issue(queue)
    clock.advance(minutes=5)
    urgent = issue(queue, "pin_reset", priority=True)
    assert queue.call_next(1).id == urgent.id
    assert queue.call_next(1).id == early.id


def test_calling_next_finishes_the_ticket_still_at_the_counter(queue):
    a, b = issue(queue), issue(queue)
    queue.call_next(1)
    queue.call_next(1)
    assert queue.ticket(a.id).status == "done"
    assert events(queue, a.id) == ["issued", "called", "finished"]
    assert queue.ticket(b.id).status == "called"


def test_call_next_finishes_only_the_ticket_named_and_not_one_called_a_moment_ago(queue, clock):
    a, b, c = issue(queue), issue(queue), issue(queue)
    assert queue.call_next(1, current=None).id == a.id
    with pytest.raises(CounterHasTicket) as refused:  # a double press
        queue.call_next(1, current=a.id)
    assert refused.value.ticket.id == a.id and "a moment ago" in str(refused.value)
    clock.advance(seconds=3)
    with pytest.raises(CounterHasTicket) as refused:  # a desk that did not see A001's call
        queue.call_next(1, current=None)
    assert refused.value.ticket.id == a.id and "another ticket than you think (A001)" in str(refused.value)
    assert [queue.ticket(t.id).status for t in (a, b, c)] == ["called", "waiting", "waiting"]
    assert events(queue, a.id) == ["issued", "called"]  # the refusals left no trace
    assert queue.call_next(1, current=a.id).id == b.id
    assert events(queue, a.id) == ["issued", "called", "finished"]
    queue.finish(b.id)
    with pytest.raises(CounterHasTicket) as refused:  # it was finished elsewhere meanwhile
        queue.call_next(1, current=b.id)
    assert refused.value.ticket is None and "has nobody now" in str(refused.value)
    assert queue.ticket(c.id).status == "waiting"


def test_two_calls_naming_the_same_ticket_at_once_finish_it_once(queue, clock):
    # Two desk tabs on counter 1, both showing A001, pressed together.
    a, b, c = issue(queue), issue(queue), issue(queue)
    queue.call_next(1)
    clock.advance(minutes=4)
    start = threading.Barrier(2)
    outcomes: list = []

    def press():
        start.wait(timeout=10)
        try:
            outcomes.append(queue.call_next(1, current=a.id).id)
        except CounterHasTicket as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(outcomes, key=lambda o: isinstance(o, CounterHasTicket))[0] == b.id
    (refused,) = [o for o in outcomes if isinstance(o, CounterHasTicket)]
    assert refused.ticket.id == b.id  # the one the other press called
    assert [queue.ticket(t.id).status for t in (a, b, c)] == ["done", "called", "waiting"]


# --- ticket actions ------------------------------------------------------------------------


def test_recall_start_finish(queue, clock):
    ticket = issue(queue)
    queue.call_next(1)
    clock.advance(seconds=20)
    assert queue.recall(ticket.id).status == "called"
    assert queue.start(ticket.id).status == "serving"
    clock.advance(minutes=3)
    done = queue.finish(ticket.id)
    assert done.status == "done" and done.finished_at == clock.now
    assert events(queue, ticket.id) == ["issued", "called", "recalled", "started", "finished"]
    assert queue.overview().calls[0].number == ticket.number


def test_no_show(queue):
    ticket = issue(queue)
    queue.call_next(1)
    assert queue.no_show(ticket.id).status == "no_show"
    with pytest.raises(InvalidTransition):
        queue.finish(ticket.id)


def test_park_and_return_keeps_the_original_arrival(queue, clock):
    first = issue(queue)
    clock.advance(minutes=1)
    second = issue(queue)
    queue.call_next(1)
    parked = queue.park(first.id)
    assert parked.status == "parked" and parked.counter is None
    assert [t.id for t in queue.waiting()] == [second.id]
    back = queue.return_to_queue(first.id)
    assert back.status == "waiting" and back.arrived_at == first.arrived_at
    assert [t.id for t in queue.waiting()] == [first.id, second.id]
    assert events(queue, first.id) == ["issued", "called", "parked", "returned"]


def test_transfer_keeps_number_and_arrival(queue, clock):
    moved = issue(queue, "pickup")
    clock.advance(minutes=2)
    later = issue(queue, "pin_reset")
    queue.call_next(2)
    transferred = queue.transfer(moved.id, "pin_reset")
    assert (transferred.number, transferred.service, transferred.status) == ("A001", "pin_reset", "waiting")
    assert transferred.arrived_at == moved.arrived_at and transferred.counter is None
    assert queue.place(transferred).position == 1  # ahead of the later pin_reset ticket
    assert queue.call_next(3).id == moved.id
    assert queue.call_next(3).id == later.id
    with pytest.raises(UnknownService):
        queue.transfer(later.id, "passport")


def test_cancel_only_while_waiting_or_parked(queue):
    waiting = issue(queue)
    assert queue.cancel(waiting.id).status == "cancelled"
    called = issue(queue)
    queue.call_next(1)
    with pytest.raises(InvalidTransition):
        queue.cancel(called.id)
    with pytest.raises(InvalidTransition):
        queue.transfer(waiting.id, "pickup")  # cancelled is final


def test_every_change_is_an_event_with_a_timestamp(queue, clock):
    ticket = issue(queue)
    clock.advance(minutes=1)
    queue.call_next(1)
    with queue.engine.connect() as conn:
        rows = conn.execute(
            select(ticket_events).where(ticket_events.c.ticket_id == ticket.id).order_by(ticket_events.c.id)
        ).all()
    assert [(r.kind, r.at, r.counter) for r in rows] == [
        ("issued", dt.datetime(2026, 11, 24, 9, 0), None),
        ("called", dt.datetime(2026, 11, 24, 9, 1), 1),
    ]


# --- waits ---------------------------------------------------------------------------------


def test_wait_uses_the_site_default_before_there_is_history(queue, demo_site):
    minutes = demo_site.services["pickup"].minutes
    issue(queue)
    _, place = queue.issue("pickup", language="nl")
    assert place.position == 2
    assert place.estimated_wait_s == round(2 * minutes * 60)


def test_wait_is_place_times_recent_service_time_over_open_counters(queue, clock):
    for minutes in (2, 4):  # two finished pickups: mean 3 minutes
        ticket = issue(queue)
        assert queue.call_next(2).id == ticket.id
        clock.advance(minutes=minutes)
        queue.finish(ticket.id)
    issue(queue)
    issue(queue)
    third, place = queue.issue("pickup", language="nl")
    assert place.position == 3
    # only counter 2 is open (opened by call_next) and it serves pickup
    assert place.estimated_wait_s == round(3 * 180 / 1)
    queue.open_counter(1)  # counter 1 also serves pickup
    assert queue.place(queue.ticket(third.id)).estimated_wait_s == round(3 * 180 / 2)
    queue.open_counter(3)  # counter 3 does not serve pickup
    assert queue.place(queue.ticket(third.id)).estimated_wait_s == round(3 * 180 / 2)
    queue.close_counter(1)
    assert queue.place(queue.ticket(third.id)).estimated_wait_s == 3 * 180


def test_counter_serves_what_it_opened_for(queue):
    issue(queue, "activation")
    pickup = issue(queue, "pickup")
    assert queue.open_counter(1, ["pickup"]) == ("pickup",)
    assert queue.call_next(1).id == pickup.id
    assert queue.call_next(1) is None
    with pytest.raises(UnknownService):
        queue.open_counter(1, ["passport"])
    with pytest.raises(UnknownService, match="Counter 2 does not serve pin_reset"):
        queue.open_counter(2, ["pickup", "pin_reset"])  # the site profile: counter 2 has no PIN service


# --- reading -------------------------------------------------------------------------------


def test_overview_counts_waits_and_latest_calls(queue, clock):
    a = issue(queue, "pickup")
    issue(queue, "pickup")
    issue(queue, "new_codes")
    before = queue.version()
    queue.call_next(1)
    clock.advance(seconds=5)
    queue.recall(a.id)
    overview = queue.overview()
    assert overview.version > before
    waiting = {s.service: s.waiting for s in overview.services}
    assert waiting == {"pickup": 1, "activation": 0, "pin_reset": 0, "new_codes": 1}
    assert [(c.number, c.counter) for c in overview.calls] == [("A001", 1)]  # recall not listed twice
    recalled = overview.calls[0].id
    queue.recall(a.id)  # at the same moment: still a new call, so the board announces it again
    assert queue.overview().calls[0].id > recalled


def test_status_token_finds_only_todays_ticket(queue, clock):
    ticket = issue(queue)
    assert len(ticket.status_token) >= 12  # 9 random bytes: 72 bits
    assert queue.ticket_by_token(ticket.status_token).id == ticket.id
    assert queue.ticket_by_token("nope") is None
    clock.advance(days=1)
    assert queue.ticket_by_token(ticket.status_token) is None


def test_personal_data_is_purged_after_the_retention(queue, clock):
    old = issue(queue, checkin={"name": "Testperson", "national_number": "85073003328"})
    clock.advance(days=31)
    recent = issue(queue, checkin={"name": "Other"})
    assert queue.purge_personal_data(30) == 1
    assert queue.ticket(old.id).checkin is None
    assert queue.ticket(old.id).number == "A001"  # the ticket itself stays for statistics
    assert queue.ticket(recent.id).checkin == {"name": "Other"}
    with queue.engine.connect() as conn:
        assert conn.execute(select(tickets.c.checkin).where(tickets.c.id == old.id)).scalar() is None


def test_the_ticket_at_a_counter_and_the_parked_ones(queue, clock):
    first, second = issue(queue), issue(queue)
    assert queue.at_counter(1) is None
    queue.call_next(1)
    assert queue.at_counter(1).id == first.id and queue.at_counter(2) is None
    queue.park(first.id)
    assert queue.at_counter(1) is None
    assert [t.id for t in queue.parked()] == [first.id]
    queue.call_next(1)
    assert queue.at_counter(1).id == second.id
    clock.advance(days=1)
    assert queue.parked() == []  # yesterday's are not today's business


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has one writer
def test_version_moves_when_an_earlier_event_commits_late(queue):
    # PostgreSQL hands out ids at insert: an event inserted first but committed last must
    # still move the version, or the live screens would never show that call.
    event = dict(ticket_id=None, at=dt.datetime(2026, 11, 24, 9), kind="counter_opened", service=None, counter=1)
    with queue.engine.connect() as first, queue.engine.connect() as second:
        first.execute(insert(ticket_events), event)  # gets the lower id, stays uncommitted
        second.execute(insert(ticket_events), event)
        second.commit()
        before = queue.version()
        first.commit()
    assert queue.version() > before


def test_the_first_ticket_of_a_day_is_issued_even_if_closing_yesterday_fails(queue, monkeypatch, caplog):
    def database_away():
        raise OperationalError("UPDATE tickets", {}, Exception("database is locked"))

    monkeypatch.setattr(queue, "close_past_days", database_away)
    ticket, place = queue.issue("pickup", language="nl")  # A001: the day's first
    assert ticket.number == "A001" and place.position == 1
    assert "could not close past days (OperationalError)" in caplog.text


def test_one_key_issued_at_once_from_many_threads_is_one_ticket(queue):
    got, errors = [], []
    start = threading.Barrier(8)

    def retry():
        try:
            start.wait(timeout=10)
            got.append(queue.issue("pickup", language="nl", key="api:retry-storm")[0].id)
        except Exception as exc:  # noqa: BLE001  (collected, then asserted empty)
            errors.append(exc)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and len(got) == 8 and len(set(got)) == 1
    with queue.engine.connect() as conn:
        assert len(conn.execute(select(tickets.c.id)).all()) == 1
    assert queue.issue("pickup", language="nl")[0].number == "A002"  # no number was used up
