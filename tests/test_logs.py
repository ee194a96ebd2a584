"""The server's log: journal priorities under systemd, one access line per request without
query, secret or national number, and database errors named by class, never by their text."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from kiosk import logs
from kiosk.errors import describe
from kiosk.extensions import office
from kiosk.schema import users
from kiosk.server import LISTENER, OFFICE
from kiosk.storage import writing

ROOT = Path(__file__).parent.parent
NATIONAL_NUMBER = "85073003328"
PHONE = {"REMOTE_ADDR": "198.51.100.7", LISTENER: OFFICE}

PROGRAM = """
import logging
from kiosk import logs
logs.configure(logging.DEBUG)
log = logging.getLogger("kiosk.test")
log.debug("debug line")
log.info("info line")
log.warning("warning line")
log.error("error line")
log.critical("critical line")
try:
    raise ValueError("text with %s")
except ValueError:
    log.exception("failed")
""".replace("%s", NATIONAL_NUMBER)


def run_logging(tmp_path: Path, journal_stream) -> list[str]:
    """What the program writes to stderr, a file; `journal_stream(stat)` is JOURNAL_STREAM."""
    err = tmp_path / "stderr"
    with err.open("w") as stderr:
        stat = os.fstat(stderr.fileno())
        env = {**os.environ, "JOURNAL_STREAM": journal_stream(stat), "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", PROGRAM], stderr=stderr, env=env, check=True, timeout=60, cwd=ROOT)
    return err.read_text().splitlines()


def test_under_systemd_every_line_carries_its_journal_priority(tmp_path):
    lines = run_logging(tmp_path, lambda stat: f"{stat.st_dev}:{stat.st_ino}")
    assert lines[:5] == [
        "<7>DEBUG kiosk.test: debug line",
        "<6>INFO kiosk.test: info line",
        "<4>WARNING kiosk.test: warning line",
        "<3>ERROR kiosk.test: error line",
        "<2>CRITICAL kiosk.test: critical line",
    ]
    traceback = lines[5:]
    assert traceback[0] == "<3>ERROR kiosk.test: failed"
    assert all(line.startswith("<3>") for line in traceback)  # the traceback belongs to its error
    assert traceback[-1] == "<3>ValueError" and NATIONAL_NUMBER not in "\n".join(lines)


def test_elsewhere_lines_have_their_time_and_level(tmp_path):
    # JOURNAL_STREAM inherited from a service by a program whose stderr is another file
    lines = run_logging(tmp_path, lambda stat: f"{stat.st_dev}:{stat.st_ino + 1}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING kiosk\.test: warning line", lines[2])
    assert not any(line.startswith("<") for line in lines)


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.INFO, logger="kiosk.access")

    def lines() -> list[str]:
        return [record.getMessage() for record in caplog.records if record.name == "kiosk.access"]

    return lines


def test_one_access_line_per_request_without_query_or_status_token(client, access):
    ticket = client.post("/api/tickets?lang=fr", json={"service": "pickup"}).get_json()
    token = ticket["status_url"].rsplit("/", 1)[1]
    client.get(f"/t/{token}?lang=nl&from=qr", environ_base=PHONE)
    client.get(f"/t/{token}/status", environ_base=PHONE, headers={"Authorization": "Bearer secret-header"})
    client.get(f"/t/{token}/not-a-page", environ_base=PHONE)

    lines = access()
    assert len(lines) == 4
    pattern = r"(GET|POST) (/\S*) (\d{3}) \d+\.\dms (kiosk|office)"
    parsed = [re.fullmatch(pattern, line).groups() for line in lines]  # type: ignore[union-attr]
    assert parsed == [
        ("POST", "/api/tickets", "201", "kiosk"),
        ("GET", "/t/…", "200", "office"),
        ("GET", "/t/…/status", "200", "office"),
        ("GET", "/t/…", "404", "office"),
    ]
    text = "\n".join(lines)
    for leak in (token, "lang", "from=qr", "?", "secret-header", ticket["number"]):
        assert leak not in text, leak


def test_no_national_number_and_no_forged_line_reaches_the_access_log(client, access, tokens):
    client.get(f"/{NATIONAL_NUMBER}", environ_base=PHONE)
    client.get("/kiosk/85.07.30-033.28")  # the kiosk's catch-all for unknown pages
    client.post(f"/api/tickets/{NATIONAL_NUMBER}/finish", headers={"Authorization": f"Bearer {tokens['desk']}"})
    client.get("/queue%0D%0AGET forged 200", environ_base=PHONE)
    lines = access()
    assert len(lines) == 4
    assert [line.split()[1] for line in lines[:3]] == ["/…", "/kiosk/…", "/api/tickets/…/finish"]
    assert "85" not in "\n".join(lines[:3])
    assert lines[3].startswith("GET /queue\\x0d\\x0aGET forged 200 404 ") and "\n" not in lines[3]


@pytest.fixture
def failing(app):
    """A view whose statement fails with a national number in its values, as a bug would."""

    def duplicate():
        row = dict(username=NATIONAL_NUMBER, role="clerk", password_hash="-", created_at=office.clock(), disabled=0)
        with writing(office.engine) as conn:
            conn.execute(insert(users), [row, row])
        return "not reached"

    app.add_url_rule("/api/test/duplicate", view_func=duplicate)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app.test_client()


def test_a_database_error_is_logged_by_its_class_at_error_priority(failing, database_url, caplog, access):
    postgres = not database_url.startswith("sqlite")
    assert failing.get("/api/test/duplicate").status_code == 500
    (error,) = [record for record in caplog.records if record.levelno >= logging.ERROR]
    line = logs.JournalFormatter().format(error).splitlines()[0]
    named = "psycopg.errors.UniqueViolation (SQLSTATE 23505)" if postgres else "sqlite3.IntegrityError"
    assert line.startswith("<3>ERROR ") and "sqlalchemy.exc.IntegrityError from " in line and named in line
    assert access()[-1].startswith("GET /api/test/duplicate 500 ")
    assert NATIONAL_NUMBER not in caplog.text


def test_an_exception_logged_with_its_traceback_is_named_without_its_values(app, database_url):
    log = logging.getLogger("kiosk.test")
    with app.app_context():
        row = dict(username=NATIONAL_NUMBER, role="clerk", password_hash="-", created_at=office.clock(), disabled=0)
        try:
            with writing(office.engine) as conn:
                conn.execute(insert(users), [row, row])
        except IntegrityError as exc:
            record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "kept the user out", (), sys.exc_info())
            named = describe(exc)
    text = logs.Formatter(logs.TERMINAL_FORMAT).format(record)
    assert text.endswith(named) and "sqlalchemy.exc.IntegrityError" in named
    assert "conn.execute(insert(users), [row, row])" in text  # where, as code
    assert NATIONAL_NUMBER not in text and "[parameters:" not in text
