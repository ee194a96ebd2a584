"""The `kiosk` command."""

import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest
from sqlalchemy import select

from kiosk.schema import api_tokens
from tests.conftest import bearer


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_token_create_prints_the_token_once_and_keeps_only_its_hash(app, runner, client):
    result = runner.invoke(args=["token", "create", "--role", "desk", "--name", "loket 3"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert len(token) >= 40
    with app.extensions["office"]["engine"].connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert (row.name, row.role) == ("loket 3", "desk") and token not in row.token_hash
    client.post("/api/tickets", json={"service": "pickup"})
    assert client.post("/api/counters/1/call-next", headers=bearer(token)).status_code == 200
    bad = runner.invoke(args=["token", "create", "--role", "admin", "--name", "x"])
    assert bad.exit_code != 0 and "admin" in bad.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_close_day_expires_and_purges(app, runner, client, clock):
    client.post("/api/tickets", json={"service": "pickup", "checkin": {"name": "Testperson"}})
    clock.advance(days=40)
    result = runner.invoke(args=["queue", "close-day"])
    assert result.exit_code == 0
    assert "1 tickets expired, personal data removed from 1 tickets and 0 code requests" in result.output


def test_init_db_on_a_fresh_data_dir_then_serve_refuses_a_newer_schema(tmp_path):
    env = {"KIOSK_DATA_DIR": str(tmp_path), "PATH": ""}
    init = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "init-db"], capture_output=True, text=True, env=env, timeout=60
    )
    assert init.returncode == 0, init.stderr
    assert (tmp_path / "kiosk.sqlite3").exists()
    with closing(sqlite3.connect(tmp_path / "kiosk.sqlite3")) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    for command in (["serve", "--port", "1"], ["init-db"]):
        refused = subprocess.run(
            [sys.executable, "-m", "kiosk.cli", *command], capture_output=True, text=True, env=env, timeout=60
        )
        assert refused.returncode != 0 and "revision 9999, newer than this version" in refused.stderr, refused.stderr


def test_demo_data_gives_every_screen_something_to_show(app):
    from kiosk.accounts.users import authenticate
    from kiosk.demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data
    from kiosk.extensions import office
    from kiosk.pickups import ready_for

    with app.app_context():
        load_demo_data()
        load_demo_data()  # a second start keeps what is there
        assert len(office.queue.waiting()) == 6
        for username, role in DEMO_USERS.items():
            assert authenticate(office.engine, username, DEMO_PASSWORD, office.clock()).role == role
        reader = office.reader
        reader.insert("adult-f-plus")
        assert ready_for(office.engine, reader.snapshot().card.national_number).storage == "Kast A, lade 2"
        reader.stop()
