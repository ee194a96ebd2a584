"""Malformed requests get a 400 with a sentence, never a 500; a database error's values never
reach the log. On SQLite and PostgreSQL."""

import logging

import pytest
from sqlalchemy import insert, text

from kiosk.extensions import office
from kiosk.schema import users
from kiosk.storage import writing
from tests.conftest import bearer
from tests.test_api import assert_error

NATIONAL_NUMBER, WRITTEN = "85073003328", "85.07.30-033.28"
DEEP = "[" * 10_000 + "]" * 10_000
HUGE_ID = 10**30


def post(client, url, body: str | bytes, headers=None):
    return client.post(url, data=body, content_type="application/json", headers=headers or {})


@pytest.fixture
def desk(tokens):
    return bearer(tokens["desk"])


@pytest.fixture
def waiting(client):
    """One ticket waiting; its id."""
    return client.post("/api/tickets", json={"service": "pickup"}).get_json()["id"]


@pytest.mark.parametrize(
    "body, message_part",
    [
        (f'{{"service": "pickup", "checkin": {DEEP}}}', "nested too deeply"),
        (DEEP, "nested too deeply"),
        ('{"service": "pickup", "checkin": {"age": NaN}}', "NaN"),
        ('{"service": "pickup", "checkin": {"age": Infinity}}', "Infinity"),
        ('{"service": "pickup", "checkin": {"age": -Infinity}}', "Infinity"),
        ('{"service": "pickup", "checkin": {"age": 1e999}}', "finite"),
        ('{"service": "pickup", "checkin": {"age": ' + "9" * 5000 + "}}", "not valid JSON"),
        ('{"service": "pickup", "checkin": {"name": "Jan\\u0000' + NATIONAL_NUMBER + '"}}', "NUL"),
        ('{"service": "pickup", "checkin": {"notes": ["a", ["\\u0000"]]}}', "NUL"),
        ('{"service": "pickup", "checkin": {"na\\u0000me": "Jan"}}', "NUL"),
        ('{"service": "pick\\u0000up"}', "NUL"),
        (b'{"service": "pickup", "checkin": {"name": "\xff"}}', "not valid JSON"),
        ('{"service": "pickup",}', "not valid JSON"),
        ("", "JSON object"),
        ("[]", "JSON object"),
        ('"pickup"', "JSON object"),
        ("3", "JSON object"),
        ("null", "JSON object"),
        ('{"service": 3}', "service"),
        ('{"service": "' + "x" * 5000 + '"}', "There is no service 'xxx"),
        ('{"service": "pickup", "language": ["nl"]}', "language"),
        ('{"service": "pickup", "language": {"nl": 1}}', "language"),
        ('{"service": "pickup", "language": "' + "x" * 5000 + '"}', "language"),
        ('{"service": "pickup", "priority": "yes"}', "priority"),
        ('{"service": "pickup", "checkin": []}', "checkin"),
    ],
)
def test_a_malformed_ticket_request_gets_400_with_a_reason(client, body, message_part):
    data = assert_error(post(client, "/api/tickets", body), 400)
    assert message_part in data["message"] and len(data["message"]) < 300
    with client.application.app_context():
        assert office.queue.waiting() == []


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/counters/1/call-next", DEEP),
        ("/api/counters/1/call-next", '{"current": NaN}'),
        ("/api/counters/1/call-next", '{"current": 1.5}'),
        ("/api/counters/1/call-next", '{"current": "1"}'),
        ("/api/counters/1/call-next", f'{{"current": {HUGE_ID}}}'),
        ("/api/counters/1/call-next", "[1]"),
        ("/api/counters/1/call-next", "null"),
        ("/api/counters/1/open", '{"services": ["pickup", "\\u0000"]}'),
        ("/api/counters/1/open", '{"services": [1]}'),
        ("/api/counters/1/open", '{"services": "pickup"}'),
        ("/api/counters/1/open", "{not json"),
        ("/api/counters/1/open", '["pickup"]'),
        ("/api/tickets/{id}/transfer", '{"service": ["pin_reset"]}'),
        ("/api/tickets/{id}/transfer", '{"service": "pin\\u0000reset"}'),
        ("/api/tickets/{id}/transfer", '{"service": Infinity}'),
        ("/api/tickets/{id}/transfer", '"pin_reset"'),
        ("/api/tickets/{id}/transfer", DEEP),
    ],
)
def test_a_malformed_desk_request_gets_400_and_changes_nothing(client, desk, waiting, url, body):
    assert_error(post(client, url.format(id=waiting), body, desk), 400)
    with client.application.app_context():
        ticket = office.queue.ticket(waiting)
        assert (ticket.status, ticket.service) == ("waiting", "pickup")
        assert office.queue.counters() == {}  # not opened either


@pytest.mark.parametrize("action", ["finish", "recall", "no-show", "cancel"])
def test_a_ticket_id_beyond_any_database_integer_is_not_found(client, desk, action):
    data = assert_error(client.post(f"/api/tickets/{HUGE_ID}/{action}", headers=desk), 404, "ticket_not_found")
    assert str(HUGE_ID) in data["message"]
    transfer = client.post(f"/api/tickets/{HUGE_ID}/transfer", json={"service": "pin_reset"}, headers=desk)
    assert_error(transfer, 404, "ticket_not_found")
    assert_error(client.post(f"/api/tickets/{2**63}/{action}", headers=desk), 404, "ticket_not_found")


def test_a_status_page_token_with_a_nul_is_no_ticket(client):
    assert client.get("/t/abc%00def").status_code == 404


def test_a_value_the_database_refuses_is_a_400_not_a_500(client, database_url, caplog):
    # The sign-in form does not look for NUL; PostgreSQL refuses it in the query.
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    caplog.set_level(logging.DEBUG)
    response = client.post(
        "/login",
        data={"username": f"{NATIONAL_NUMBER}\x00", "password": "not the password", "csrf_token": token},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == (401 if database_url.startswith("sqlite") else 400)
    assert "cannot be stored" in response.get_data(as_text=True) or response.status_code == 401
    assert NATIONAL_NUMBER not in caplog.text


# --- the log -------------------------------------------------------------------------------


@pytest.fixture
def failing(app):
    """The app with two views whose statement fails with a national number in its values, as
    a bug would; answered as in production (not raised into the test)."""

    def duplicate():
        row = dict(username=NATIONAL_NUMBER, role="clerk", password_hash="-", created_at=office.clock(), disabled=0)
        with writing(office.engine) as conn:
            conn.execute(insert(users), [row, row])
        return "not reached"

    def refused_parameter():
        # PostgreSQL names the value in its message and CONTEXT ("portal parameter $1 = ...").
        with writing(office.engine) as conn:
            conn.execute(text("SELECT CAST(:value AS integer)"), {"value": WRITTEN})
        return "not reached"

    app.add_url_rule("/api/test/duplicate", view_func=duplicate)
    app.add_url_rule("/api/test/refused-parameter", view_func=refused_parameter)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app.test_client()


def test_a_database_error_is_logged_by_class_and_sqlstate_without_its_values(failing, database_url, caplog):
    caplog.set_level(logging.DEBUG)
    postgres = not database_url.startswith("sqlite")
    data = assert_error(failing.get("/api/test/duplicate"), 500, "internal_server_error")
    assert "85" not in data["message"]
    (logged,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged.exc_info is None  # a traceback would print the exception's text
    message = logged.getMessage()
    assert "Exception on /api/test/duplicate [GET]: sqlalchemy.exc.IntegrityError from " in message
    assert ("psycopg.errors.UniqueViolation (SQLSTATE 23505)" if postgres else "(SQLITE_CONSTRAINT_UNIQUE)") in message
    assert "conn.execute(insert(users), [row, row])" in message  # where it happened, as code

    if postgres:  # a value refused is the request's fault: 400, and a warning
        assert_error(failing.get("/api/test/refused-parameter"), 400, "invalid_value")
        assert "psycopg.errors.InvalidTextRepresentation (SQLSTATE 22P02)" in caplog.text

    for leak in (NATIONAL_NUMBER, WRITTEN, "parameters:", "DETAIL", "CONTEXT"):
        assert leak not in caplog.text, leak
    assert all(record.exc_info is None and record.exc_text is None for record in caplog.records)
