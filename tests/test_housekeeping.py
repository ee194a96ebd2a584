"""Daily housekeeping: run by the server's timer, also on days without visitors."""

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from kiosk import housekeeping
from kiosk.code_requests import for_ticket, record
from kiosk.extensions import office
from kiosk.schema import code_requests, tickets
from tests.system import wait_until

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
def test_the_timer_forgets_personal_data_past_retention_without_any_new_ticket(app, client, clock):
    old = client.post("/api/tickets", json={"service": "new_codes", "checkin": {"name": "Testperson"}}).get_json()
    with app.app_context():
        record(office.engine, old["id"], "85073003328", "alex@example.org", clock())
    clock.advance(days=31)
    timer = housekeeping.Timer(app, every_s=0.05)
    timer.start()
    try:
        with app.app_context():
            wait_until(lambda: office.queue.ticket(old["id"]).checkin is None, what="check-in purged")
            assert office.queue.ticket(old["id"]).status == "expired"
            # never ordered at the counter: cancelled, the request itself stays
            assert for_ticket(office.engine, old["id"]).status == "cancelled"
            with office.engine.connect() as conn:
                row = conn.execute(select(code_requests)).one()
            assert (row.national_number, row.contact) == (None, None)
    finally:
        timer.stop()


@sqlite_only
def test_a_failed_day_is_logged_and_tried_again(app, client, clock, monkeypatch, caplog):
    client.post("/api/tickets", json={"service": "pickup", "checkin": {"name": "Testperson"}})
    clock.advance(days=31)
    with app.app_context():
        purge = office.queue.purge_personal_data

        def database_away(days):
            raise OperationalError("UPDATE tickets", {}, Exception("database is locked"))

        monkeypatch.setattr(office.queue, "purge_personal_data", database_away)
        timer = housekeeping.Timer(app)  # not started: one look at a time
        assert timer.close_day_once() is False
        assert "housekeeping failed (sqlalchemy.exc.OperationalError" in caplog.text
        assert "Testperson" not in caplog.text
        monkeypatch.setattr(office.queue, "purge_personal_data", purge)
        assert timer.close_day_once() is True  # not marked done by the failure
        assert office.queue.waiting() == []
        with office.engine.connect() as conn:
            assert conn.execute(select(tickets.c.checkin)).scalar_one() is None


@sqlite_only
def test_purged_personal_data_is_gone_from_the_files_too(app, client, clock, database_url):
    # the database file and its write-ahead log, as anyone who copies them would read them
    path = Path(make_url(database_url).database)
    for n in range(20):
        ticket = client.post("/api/tickets", json={"service": "new_codes", "checkin": {"name": f"Zuzanna{n:02}"}})
        with app.app_context():
            record(office.engine, ticket.get_json()["id"], f"850730033{n:02}", f"zuzanna{n:02}@example.org", clock())

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())

    assert b"Zuzanna07" in files() and b"85073003307" in files()  # the check can see them
    clock.advance(days=31)
    with app.app_context():
        report = housekeeping.close_day(office)
    assert report.tickets_purged == 20 and report.code_requests_purged == 20
    left = files()
    for n in range(20):
        assert f"Zuzanna{n:02}".encode() not in left and f"850730033{n:02}".encode() not in left
        assert f"zuzanna{n:02}@example.org".encode() not in left
