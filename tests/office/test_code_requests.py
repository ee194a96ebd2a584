"""A code request's whole life: requested at the kiosk, ordered at the desk, arrived at the
back office (the citizen told through the outbox), reminded, collected, destroyed or
cancelled; every change logged with who and when."""

import datetime as dt

import pytest
from sqlalchemy import select

from kiosk import code_requests
from kiosk.extensions import office
from kiosk.housekeeping import close_day
from kiosk.schema import code_requests as requests_table
from kiosk.schema import outbox
from kiosk.site import CodeSettings
from kiosk.tokens import create_token
from tests.conftest import bearer
from tests.desk.conftest import CHECKIN, NATIONAL_NUMBER, SignedIn, form_csrf, issue

NEW_CODES = dict(CHECKIN, visit="new_codes", pickup=None)


def request_for(app, contact="jan@example.org", language="fr") -> int:
    ticket = issue(app, "new_codes", NEW_CODES, language=language)
    with app.app_context():
        return code_requests.record(office.engine, ticket["id"], NATIONAL_NUMBER, contact, office.clock()).id


def messages(app) -> list:
    with app.app_context(), office.engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def row(app, request_id: int):
    with app.app_context(), office.engine.connect() as conn:
        return conn.execute(select(requests_table).where(requests_table.c.id == request_id)).one()


def english(app):
    """A staff member's browser set to English: staff pages follow the browser's language."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def signed_in(app) -> tuple[SignedIn, SignedIn]:
    return SignedIn(english(app), "clerk"), SignedIn(english(app), "supervisor")


@pytest.fixture
def people(staff, app):
    return signed_in(app)


def test_through_every_state_with_who_and_when(app, people, clock):
    clerk, supervisor = people
    request_id = request_for(app)
    url = f"/api/code-requests/{request_id}"
    assert clerk.post(f"{url}/ordered").get_json() == {"id": request_id, "state": "ordered"}
    assert clerk.post(f"{url}/ordered").status_code == 409  # once only
    assert clerk.post(f"{url}/arrived").status_code == 403  # the back office's
    clock.advance(days=12)
    clerk, supervisor = signed_in(app)  # a day's sessions end after half an hour idle
    assert supervisor.post(f"{url}/arrived").get_json()["state"] == "notified"
    (message,) = messages(app)
    assert (message.channel, message.address, message.template, message.language) == (
        "email",
        "jan@example.org",
        "codes_arrived",
        "fr",
    )
    listed = clerk.get("/api/code-requests?state=notified").get_json()["code_requests"]
    assert [(r["id"], r["next_step"], r["destroy_on"]) for r in listed] == [(request_id, "await_citizen", "2027-03-06")]
    clock.advance(days=3)
    clerk, supervisor = signed_in(app)
    assert clerk.post(f"{url}/collected").get_json()["state"] == "collected"
    assert row(app, request_id).contact is None  # nobody is told anything any more
    with app.app_context():
        steps = [(status, by) for _at, status, by, _reason in code_requests.history(office.engine, request_id)]
    assert steps == [
        ("requested", "system"),
        ("ordered", "clerk (clerk)"),
        ("arrived", "supervisor (supervisor)"),
        ("notified", "system"),
        ("collected", "clerk (clerk)"),
    ]


def test_without_a_contact_the_office_is_told_to_write(app, people):
    clerk, supervisor = people
    request_id = request_for(app, contact="")
    clerk.post(f"/api/code-requests/{request_id}/ordered")
    assert supervisor.post(f"/api/code-requests/{request_id}/arrived").get_json()["state"] == "arrived"
    assert messages(app) == []
    (listed,) = clerk.get("/api/code-requests?state=arrived").get_json()["code_requests"]
    assert listed["next_step"] == "tell_citizen"


def test_a_delivery_is_marked_arrived_by_its_national_numbers(app, people):
    clerk, supervisor = people
    ordered, waiting = request_for(app), request_for(app, contact="+32470123456")
    clerk.post(f"/api/code-requests/{ordered}/ordered")
    html = supervisor.client.get("/office/code-requests").get_data(as_text=True)
    response = supervisor.client.post(
        "/office/code-requests/arrived",
        data={"csrf_token": form_csrf(html), "numbers": "85.07.30-033.28\n90010100123\n"},
    )
    assert response.status_code == 302
    page = supervisor.client.get("/office/code-requests").get_data(as_text=True)
    assert "Requests marked arrived: 1." in page and "No ordered request for: 90010100123" in page
    assert row(app, ordered).status == "notified" and row(app, waiting).status == "requested"


def test_cancelling_needs_a_reason_and_forgets_the_contact(app, people):
    clerk, _supervisor = people
    request_id = request_for(app)
    assert clerk.post(f"/api/code-requests/{request_id}/cancelled", json={}).status_code == 400
    cancelled = clerk.post(f"/api/code-requests/{request_id}/cancelled", json={"reason": "found the letter"})
    assert cancelled.get_json()["state"] == "cancelled"
    assert row(app, request_id).contact is None
    assert clerk.post(f"/api/code-requests/{request_id}/ordered").status_code == 409
    assert clerk.post("/api/code-requests/999999/ordered").status_code == 404


def test_reminders_follow_the_site_and_stop(app, people, clock):
    clerk, supervisor = people
    request_id = request_for(app)
    clerk.post(f"/api/code-requests/{request_id}/ordered")
    supervisor.post(f"/api/code-requests/{request_id}/arrived")
    settings = CodeSettings(reminders=2, reminder_days=14, destroy_after_months=3)
    with app.app_context():
        assert code_requests.send_reminders(office.engine, settings, clock.advance(days=13)) == 0
        assert code_requests.send_reminders(office.engine, settings, clock.advance(days=1)) == 1
        assert code_requests.send_reminders(office.engine, settings, clock.now) == 0  # not twice a day
        assert code_requests.send_reminders(office.engine, settings, clock.advance(days=14)) == 1
        assert code_requests.send_reminders(office.engine, settings, clock.advance(days=14)) == 0  # two at most
    assert [m.template for m in messages(app)] == ["codes_arrived", "codes_reminder", "codes_reminder"]
    assert (row(app, request_id).status, row(app, request_id).reminders) == ("reminded", 2)


def test_codes_not_collected_are_due_for_destruction_after_the_months():
    settings = CodeSettings(destroy_after_months=3)
    assert code_requests.destroy_on(dt.datetime(2026, 11, 30, 10), settings) == dt.date(2027, 2, 28)
    assert code_requests.destroy_on(dt.datetime(2026, 1, 15), CodeSettings(destroy_after_months=6)) == dt.date(
        2026, 7, 15
    )
    arrived = dt.datetime(2026, 11, 30, 10)
    assert code_requests.next_step("reminded", arrived, settings, dt.date(2027, 2, 27)) == "await_citizen"
    assert code_requests.next_step("reminded", arrived, settings, dt.date(2027, 2, 28)) == "destroy"


def test_a_request_never_ordered_is_cancelled_the_next_day(app, clock):
    request_id = request_for(app)
    with app.app_context():
        close_day(office)
        assert row(app, request_id).status == "requested"
        clock.advance(days=1)
        report = close_day(office)
    assert report.code_requests_cancelled == 1
    assert row(app, request_id).status == "cancelled" and row(app, request_id).contact is None


def test_tokens_and_roles(app):
    request_id = request_for(app)
    client = app.test_client()
    with app.app_context():
        desk, kiosk, back_office = (
            create_token(office.engine, role, f"test {role}", office.clock()) for role in ("desk", "kiosk", "office")
        )
    url = f"/api/code-requests/{request_id}"
    assert client.get("/api/code-requests").status_code == 401
    assert client.get("/api/code-requests", headers=bearer(kiosk)).status_code == 403
    assert client.get("/api/code-requests?state=lost", headers=bearer(desk)).status_code == 400
    assert client.post(f"{url}/ordered", headers=bearer(desk)).status_code == 200
    assert client.post(f"{url}/arrived", headers=bearer(desk)).status_code == 403
    assert client.post(f"{url}/arrived", headers=bearer(back_office)).status_code == 200
    assert client.post(f"{url}/lost", headers=bearer(back_office)).status_code == 404


def test_the_desk_shows_the_state_and_orders_the_codes(app, people):
    clerk, _supervisor = people
    request_id = request_for(app)
    ticket_checkin = dict(NEW_CODES, code_request={"id": request_id, "contact": "email"})
    with app.app_context():
        office.queue.update_checkin(row(app, request_id).ticket_id, ticket_checkin)
    clerk.post("/api/counters/1/call-next", json={"current": None})
    clerk.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    state = clerk.get("/desk/1/state").get_json()
    assert state["current"]["checkin"]["code_request"]["state"] == "requested"
    clerk.post(f"/api/code-requests/{request_id}/ordered")
    assert clerk.get("/desk/1/state").get_json()["current"]["checkin"]["code_request"]["state"] == "ordered"
