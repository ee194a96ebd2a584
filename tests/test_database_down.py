"""When the database goes away the app answers 503 with a clear message, stays up, and
recovers by itself when it returns."""

import sqlite3
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from kiosk import storage
from tests.netproxy import TcpProxy
from tests.system import wait_until


def assert_unavailable(response):
    assert response.status_code == 503
    data = response.get_json()
    assert data["error"] == "database_unavailable" and "database" in data["message"]


@pytest.fixture
def postgres_through_proxy(database_url):
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_goes_away_and_comes_back(postgres_through_proxy, app_config):
    from kiosk import create_app
    from kiosk.extensions import office

    proxy, url = postgres_through_proxy
    app = create_app({**app_config, "DATABASE_URL": url})
    with app.app_context():
        storage.migrate(office.engine)
    client = app.test_client()
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201

    proxy.cut()
    assert_unavailable(client.post("/api/tickets", json={"service": "pickup"}))
    assert_unavailable(client.get("/api/queue"))
    page = client.get("/api/queue", headers={"Accept": "text/html"})
    assert page.status_code == 503

    proxy.restore()
    response = client.post("/api/tickets", json={"service": "pickup"})
    assert response.status_code == 201 and response.get_json()["number"] == "A002"  # nothing lost
    app.extensions["office"]["engine"].dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_lost_while_idle_is_replaced_before_use(postgres_through_proxy, monkeypatch):
    proxy, url = postgres_through_proxy
    engine = storage.make_engine(url)
    try:
        monkeypatch.setattr(storage, "PING_IDLE_S", 0.0)  # every pooled connection counts as idle
        assert select_one(engine) == 1
        proxy.cut()
        proxy.restore()  # the pooled connection is dead; the server is back
        assert select_one(engine) == 1  # pinged, found dead, replaced: nobody saw an error

        monkeypatch.setattr(storage, "PING_IDLE_S", 60.0)  # a connection just used is trusted
        proxy.cut()
        proxy.restore()
        with pytest.raises(DBAPIError):  # so its first statement meets the loss...
            select_one(engine)
        assert select_one(engine) == 1  # ...and the pool starts anew at once
    finally:
        engine.dispose()


def select_one(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1")).scalar_one()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_locked_by_another_program_then_released(monkeypatch, database_url, app_config):
    monkeypatch.setattr(storage, "SQLITE_BUSY_MS", 200)
    from kiosk import create_app
    from kiosk.extensions import office

    app = create_app({**app_config, "DATABASE_URL": database_url})
    with app.app_context():
        storage.migrate(office.engine)
    client = app.test_client()
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201

    other = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    assert_unavailable(client.post("/api/tickets", json={"service": "pickup"}))
    other.execute("COMMIT")
    other.close()

    assert client.post("/api/tickets", json={"service": "pickup"}).get_json()["number"] == "A002"
    app.extensions["office"]["engine"].dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_database_that_hangs_gives_answers_within_seconds_and_comes_back(postgres_through_proxy, app_config):
    from kiosk import create_app
    from kiosk.extensions import office

    proxy, url = postgres_through_proxy
    app = create_app({**app_config, "DATABASE_URL": url})
    with app.app_context():
        storage.migrate(office.engine)
    client = app.test_client()
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201

    proxy.freeze()  # the connections stay open; nothing comes back on them
    limit = storage.HELD_S + storage.POSTGRES_TIMEOUTS["connect_timeout"] + 2
    for ask in (
        lambda: client.post("/api/tickets", json={"service": "pickup"}),
        lambda: client.get("/api/queue"),
        lambda: client.get("/kiosk/"),
    ):
        started = time.monotonic()
        response = ask()
        assert time.monotonic() - started < limit
        assert response.status_code == 503
    assert "out of service" in client.get("/kiosk/").get_data(as_text=True).lower()

    proxy.thaw()  # no restart: the next requests find the database again
    issued = wait_until(
        lambda: (r := client.post("/api/tickets", json={"service": "pickup"})).status_code == 201 and r,
        timeout=30,
        what="a ticket after the thaw",
    )
    assert issued.get_json()["number"] == "A002"  # nothing lost, nothing twice
    assert client.get("/kiosk/").status_code == 200
    app.extensions["office"]["engine"].dispose()
