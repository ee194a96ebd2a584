"""The desk's state, "show in full" with its log, and reprint."""
import pytest
from sqlalchemy import select

from kiosk.checkin import clerk_view, mask_name, mask_national_number
from kiosk.schema import disclosures
from tests.conftest import bearer
from tests.desk.conftest import CHECKIN, NAME, NATIONAL_NUMBER, PERSONAL, SignedIn, form_csrf, issue

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize("value, masked", [
    ("85073003328", "85.07.30-***.**"), ("85.07.30-033.28", "85.07.30-***.**"), ("123", "**.**.**-***.**"),
])
def test_national_number_keeps_only_the_birth_date(value, masked):
    assert mask_national_number(value) == masked


@pytest.mark.parametrize("value, masked", [
    ("Testperson, Jan", "T***, J***"), ("Van Damme, Jean Luc", "V*** D***, J*** L***"),
    ("Madonna", "M***"), (",", "***"),
])
def test_names_keep_only_initials(value, masked):
    assert mask_name(value) == masked


def test_clerk_view_drops_what_it_does_not_expect():
    view = clerk_view({"visit": "passport", "name": 42, "confirmed": ["card", 3], "card": "F+",
                       "age": True, "pickup": {"storage": "Kast A", "extra": {"x": 1}}})
    assert view["visit"] is None and view["name"] is None and view["card"] is None
    assert view["confirmed"] == ["card"] and view["age"] is None
    assert view["pickup"] == {"storage": "Kast A"}
    assert clerk_view(None)["confirmed"] == []


@sqlite_only
def test_the_desk_sees_who_waits_and_the_called_ticket_masked(app, clerk, clock):
    issue(app, "pickup")
    clock.advance(seconds=90)
    issue(app, "activation")
    issue(app, "new_codes", {**CHECKIN, "visit": "new_codes", "pickup": None,
                             "code_request": {"id": 12, "contact": "e-mail"}})
    clock.advance(seconds=30)
    clerk.post("/api/counters/2/open", json={"services": ["pickup"]})
    state = clerk.get("/desk/2/state").get_json()
    assert state["counter"] == {"number": 2, "open": True, "services": ["pickup"],
                                "may_serve": ["pickup", "activation"]}
    clerk.post("/api/counters/2/close")
    closed = clerk.get("/desk/2/state").get_json()["counter"]
    assert (closed["open"], closed["services"]) == (False, ["pickup"])  # what it serves when it opens again
    clerk.post("/api/counters/2/open", json={"services": ["pickup"]})
    waiting = {s["service"]: s for s in state["waiting"]}
    assert waiting["pickup"]["served"] and not waiting["activation"]["served"]
    assert waiting["pickup"]["tickets"] == [{"number": "A001", "priority": False, "waited_s": 120}]
    assert waiting["activation"]["count"] == 1 and waiting["activation"]["tickets"][0]["waited_s"] == 30

    called = clerk.post("/api/counters/2/call-next").get_json()
    state = clerk.get("/desk/2/state").get_json()
    current = state["current"]
    assert (current["id"], current["number"], current["status"]) == (called["id"], "A001", "called")
    checkin = current["checkin"]
    assert checkin["name"] == "T***, J***" and checkin["national_number"] == "85.07.30-***.**"
    assert checkin["pickup"] == {"storage": "Kast B, lade 3", "card_number": "B123456789"}
    assert checkin["confirmed"] == CHECKIN["confirmed"]
    assert checkin["card"] == {"type": "F+", "expired": False}
    text = clerk.get("/desk/2/state").get_data(as_text=True)
    assert NATIONAL_NUMBER not in text and "Testperson" not in text

    clerk.post(f"/api/tickets/{called['id']}/park")
    state = clerk.get("/desk/2/state").get_json()
    assert state["current"] is None and [t["number"] for t in state["parked"]] == ["A001"]

    clerk.post("/api/counters/3/open", json={"services": ["new_codes"]})
    code_request = clerk.post("/api/counters/3/call-next").get_json()
    assert code_request["number"] == "D001"
    assert clerk.get("/desk/3/state").get_json()["current"]["checkin"]["code_request"] == {
        "id": 12, "contact": "e-mail"}


@sqlite_only
def test_show_in_full_is_logged_with_the_clerk_and_the_time(app, clerk, clock):
    ticket = issue(app)
    refused = clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose")
    assert refused.status_code == 409  # still waiting: nobody at a counter asked for it
    clerk.post("/api/counters/1/call-next")
    shown = clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert shown.get_json() == {"name": NAME, "national_number": "85.07.30-033.28"}
    with app.extensions["office"]["engine"].connect() as conn:
        log = conn.execute(select(disclosures)).all()
    assert [(row.ticket_id, row.username, row.at) for row in log] == [(ticket["id"], "clerk", clock())]
    assert clerk.post(f"/desk/1/tickets/{ticket['id'] + 99}/disclose").status_code == 404


@sqlite_only
def test_only_the_ticket_at_this_counter_is_shown_in_full_and_only_to_a_person(app, clerk, tokens):
    ticket = issue(app)
    clerk.post("/api/counters/1/call-next")
    elsewhere = clerk.post(f"/desk/2/tickets/{ticket['id']}/disclose")
    assert elsewhere.status_code == 409 and NAME not in elsewhere.get_data(as_text=True)
    machine = app.test_client()  # with a valid form token, so only the role check can refuse
    token = form_csrf(machine.get("/login").get_data(as_text=True))
    refused = machine.post(f"/desk/1/tickets/{ticket['id']}/disclose",
                           headers={**bearer(tokens["desk"]), "X-CSRFToken": token})
    assert refused.status_code == 403
    assert clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose").status_code == 200
    clerk.post(f"/api/tickets/{ticket['id']}/park")
    assert clerk.post(f"/desk/1/tickets/{ticket['id']}/disclose").status_code == 409  # no longer at the counter
    with app.extensions["office"]["engine"].connect() as conn:
        assert len(conn.execute(select(disclosures)).all()) == 1  # refusals are not shown, nor logged


@sqlite_only
def test_yesterdays_tickets_are_not_shown_in_full(app, clerk, clock):
    ticket = issue(app)
    clerk.post("/api/counters/1/call-next")
    clock.advance(days=1)
    next_day = SignedIn(app.test_client(), "clerk")
    assert next_day.post(f"/desk/1/tickets/{ticket['id']}/disclose").status_code == 404


@sqlite_only
def test_reprint_prints_the_ticket_again(app, clerk, tmp_path):
    ticket = issue(app)
    printed_before = set((tmp_path / "tickets").glob("*")) if (tmp_path / "tickets").exists() else set()
    response = clerk.post(f"/desk/1/tickets/{ticket['id']}/reprint")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"printed": True, "reason": None}
    new = set((tmp_path / "tickets").glob("*")) - printed_before
    assert new, "the simulated printer wrote nothing"
    printed = b"".join(path.read_bytes() for path in new)
    assert ticket["number"].encode() in printed
    assert not any(personal.encode() in printed for personal in PERSONAL)
