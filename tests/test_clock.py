"""One clock per office: the database's. An instance whose own clock is a day ahead goes on
with the office's numbering and expires nothing, on both databases."""

from __future__ import annotations

import socket
import time

import pytest

from kiosk import create_app, housekeeping
from kiosk.clock import OfficeClock
from kiosk.extensions import office
from kiosk.site import DEMO_PROFILE  # open day and night: the test works whatever the hour
from kiosk.storage import make_engine

DAY_S = 24 * 3600


def instance(database_url, data_dir, local=time.time):
    """An instance of the office with its own engine and clock, as on another kiosk PC."""
    return create_app(
        {
            "SITE": str(DEMO_PROFILE),
            "DATA_DIR": str(data_dir),
            "TESTING": True,
            "DATABASE_URL": database_url,
            "CLOCK": OfficeClock(make_engine(database_url), local=local),
        }
    )


def test_an_instance_a_day_ahead_keeps_the_offices_day(engine, database_url, tmp_path):
    on_time = instance(database_url, tmp_path / "a")
    ahead = instance(database_url, tmp_path / "b", local=lambda: time.time() + DAY_S)
    try:
        with on_time.app_context():
            numbers = [office.queue.issue("pickup", language="nl")[0].number for _ in range(3)]
            day = office.queue.business_day()
        assert numbers == ["A001", "A002", "A003"]

        with ahead.app_context():
            report = housekeeping.close_day(office)
            assert report.expired == 0
            assert len(office.queue.waiting()) == 3
            ticket, _ = office.queue.issue("pickup", language="nl")
            assert (ticket.number, ticket.day) == ("A004", day)
            offset = ahead.test_client().get("/kiosk/health").get_json()["clock_offset_s"]
            assert abs(offset - DAY_S) < 5
        offset = on_time.test_client().get("/kiosk/health").get_json()["clock_offset_s"]
        assert abs(offset) < 5
    finally:
        for app in (on_time, ahead):
            app.extensions["office"]["engine"].dispose()
            app.extensions["office"]["clock"].engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_the_databases_clock_nothing_is_expired(engine, database_url, tmp_path, caplog):
    """The clock's database cannot be reached: this PC's own clock (a day ahead) is used for
    the moment, but housekeeping decides nothing on it and says why."""
    away = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test?connect_timeout=2"
    app = create_app(
        {
            "SITE": str(DEMO_PROFILE),
            "DATA_DIR": str(tmp_path),
            "TESTING": True,
            "DATABASE_URL": database_url,
            "CLOCK": OfficeClock(make_engine(away), local=lambda: time.time() + DAY_S),
        }
    )
    on_time = instance(database_url, tmp_path / "a")
    try:
        with on_time.app_context():
            ticket, _ = office.queue.issue("pickup", language="nl")
        with app.app_context():
            assert office.clock.offset_s is None
            assert housekeeping.Timer(app).close_day_once() is False
            assert "housekeeping failed (sqlalchemy.exc.OperationalError" in caplog.text
            assert office.queue.ticket(ticket.id).status == "waiting"
    finally:
        for each in (app, on_time):
            each.extensions["office"]["engine"].dispose()
            each.extensions["office"]["clock"].engine.dispose()
