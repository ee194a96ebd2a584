"""The JSON API: issuing, the queue, desk actions, authentication and readable errors."""

import pytest

from kiosk.checkin import Card, CheckIn, Identity
from kiosk.extensions import office
from tests.conftest import bearer
from tests.sites import CLOSED_ALL_WEEK, site_variant

REMOTE = {"REMOTE_ADDR": "192.0.2.10"}  # TEST-NET address: a client that is not this PC


def issue(client, service="pickup", headers=None, **body):
    return client.post("/api/tickets", json={"service": service, **body}, headers=headers or {})


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    data = response.get_json()
    assert set(data) == {"error", "message"} and data["message"].strip()
    if code:
        assert data["error"] == code
    return data


# --- issuing -------------------------------------------------------------------------------


def test_the_kiosk_itself_issues_a_ticket(client):
    response = issue(client, "activation", language="fr")
    assert response.status_code == 201
    data = response.get_json()
    assert data["number"] == "B001" and data["service"] == "activation"
    assert data["position"] == 1 and data["estimated_wait_s"] == 240
    assert data["status_url"].startswith("http://127.0.0.1:8080/t/") and len(data["status_url"]) < 45


def test_issuing_from_elsewhere_needs_a_kiosk_token(client, tokens):
    assert_error(client.post("/api/tickets", json={"service": "pickup"}, environ_base=REMOTE), 403)
    ok = client.post("/api/tickets", json={"service": "pickup"}, environ_base=REMOTE, headers=bearer(tokens["kiosk"]))
    assert ok.status_code == 201
    assert_error(issue(client, headers=bearer(tokens["desk"])), 403)
    assert_error(issue(client, headers=bearer("made-up")), 401)
    assert_error(issue(client, headers={"Authorization": "Basic abc"}), 401)


def test_an_issue_retried_with_its_key_gets_the_same_ticket(client, clock):
    first = issue(client, headers={"Idempotency-Key": "kiosk-7/visit-123"})
    assert first.status_code == 201
    again = issue(client, headers={"Idempotency-Key": "kiosk-7/visit-123"})
    assert again.status_code == 200 and again.get_json() == first.get_json()
    other = issue(client, headers={"Idempotency-Key": "kiosk-7/visit-124"})
    assert other.status_code == 201 and other.get_json()["number"] == "A002"
    assert issue(client).get_json()["number"] == "A003"  # without a key, every post is a ticket
    for bad in ("", "with space", "x" * 61, "é"):
        assert_error(issue(client, headers={"Idempotency-Key": bad.encode().decode("latin-1")}), 400)
    clock.advance(days=1)  # a key is the day's: tomorrow the same key is a new visit
    assert issue(client, headers={"Idempotency-Key": "kiosk-7/visit-123"}).status_code == 201


@pytest.mark.parametrize("header", ["Forwarded", "X-Forwarded-For", "X-Real-IP"])
def test_a_request_passed_on_by_a_proxy_is_not_the_kiosk_itself(client, tokens, header):
    # Through a reverse proxy on this PC every visitor arrives from loopback.
    passed_on = {header: "for=198.51.100.4" if header == "Forwarded" else "198.51.100.4"}
    assert_error(issue(client, headers=passed_on), 403)
    assert issue(client, headers={**passed_on, **bearer(tokens["kiosk"])}).status_code == 201


@pytest.mark.parametrize(
    "body, message_part",
    [
        ({"service": "passport"}, "passport"),
        ({}, "service"),
        ({"service": "pickup", "language": "xx"}, "language"),
        ({"service": "pickup", "checkin": "yes"}, "checkin"),
        ({"service": "pickup", "priority": "high"}, "priority"),
    ],
)
def test_bad_issue_requests_get_400_with_a_reason(client, body, message_part):
    data = assert_error(client.post("/api/tickets", json=body), 400)
    assert message_part in data["message"]


def test_malformed_json_gets_400(client):
    response = client.post("/api/tickets", data="{not json", content_type="application/json")
    assert_error(response, 400)
    assert_error(client.post("/api/tickets", data="service=pickup"), 400)  # a plain form post
    assert_error(client.post("/api/tickets", json=["pickup"]), 400)


class TestRefusals:
    @pytest.fixture
    def app_config(self, app_config, tmp_path, request):
        return {**app_config, "SITE": str(site_variant(tmp_path, *request.param))}

    @pytest.mark.parametrize("app_config", [CLOSED_ALL_WEEK], indirect=True)
    def test_closed_office_gets_409(self, client):
        assert_error(issue(client), 409, "office_closed")

    @pytest.mark.parametrize(
        "app_config",
        [[('id = "new_codes"\nletter = "D"', 'id = "new_codes"\nletter = "D"\nenabled = false')]],
        indirect=True,
    )
    def test_disabled_service_gets_409(self, client):
        assert_error(issue(client, "new_codes"), 409, "service_disabled")
        assert issue(client, "pickup").status_code == 201


# --- the queue -----------------------------------------------------------------------------


def test_queue_overview_has_counts_waits_and_calls_but_no_personal_data(client, tokens):
    issue(client, checkin={"name": "Testperson", "national_number": "85073003328"})
    issue(client, "pin_reset")
    client.post("/api/counters/1/call-next", headers=bearer(tokens["desk"]))
    data = client.get("/api/queue").get_json()
    assert {s["service"]: s["waiting"] for s in data["services"]} == {
        "pickup": 0,
        "activation": 0,
        "pin_reset": 1,
        "new_codes": 0,
    }
    assert data["calls"][0]["number"] == "A001" and data["calls"][0]["counter"] == 1
    assert "Testperson" not in str(data) and "85073003328" not in str(data)


# --- desk actions --------------------------------------------------------------------------


def test_call_next_returns_the_ticket_with_its_check_in_or_204(client, tokens):
    desk = bearer(tokens["desk"])
    assert client.post("/api/counters/1/call-next", headers=desk).status_code == 204
    issue(client, checkin={"visit": "pickup", "name": "Testperson, Alex", "national_number": "85073003328"})
    response = client.post("/api/counters/1/call-next", headers=desk)
    assert response.status_code == 200
    data = response.get_json()
    assert (data["number"], data["status"], data["counter"]) == ("A001", "called", 1)
    assert data["checkin"]["visit"] == "pickup"
    # identity masked: in full only through the desk's logged "show in full"
    assert (data["checkin"]["name"], data["checkin"]["national_number"]) == ("T***, A***", "85.07.30-***.**")
    assert "Testperson" not in response.get_data(as_text=True) and "85073003328" not in response.get_data(as_text=True)


def test_a_posted_check_in_is_stored_as_the_kiosk_stores_it(app, client, tokens):
    posted = {
        "visit": "pickup",
        "name": " Testperson, Alex ",
        "age": "41",
        "notes": ["pin_blocked", 3],
        "card": {"type": "F+"},
        "photo": "base64…",
    }
    ticket = issue(client, checkin=posted).get_json()
    with app.app_context():
        stored = office.queue.ticket(ticket["id"]).checkin
    assert (
        stored
        == CheckIn(
            visit="pickup", card=Card("F+"), identity=Identity("Testperson, Alex"), notes=("pin_blocked",)
        ).to_json()
    )
    assert stored["v"] == 1 and "photo" not in stored
    called = client.post("/api/counters/1/call-next", headers=bearer(tokens["desk"])).get_json()
    assert called["checkin"] == {
        "visit": "pickup",
        "card": {"type": "F+"},
        "lost_card": False,
        "name": "T***, A***",
        "national_number": None,
        "age": None,
        "pin_tries_left": None,
        "notes": ["pin_blocked"],
        "confirmed": [],
        "missing": [],
        "pickup": None,
        "code_request": None,
    }
    without = issue(client).get_json()
    with app.app_context():
        assert office.queue.ticket(without["id"]).checkin is None


def test_desk_actions_need_a_desk_token(client, tokens):
    issue(client)
    assert_error(client.post("/api/counters/1/call-next"), 401)
    assert_error(client.post("/api/counters/1/call-next", headers=bearer(tokens["kiosk"])), 403)
    assert_error(client.post("/api/tickets/1/finish", headers=bearer(tokens["ops"])), 403)
    assert_error(client.post("/api/counters/99/call-next", headers=bearer(tokens["desk"])), 404)


def test_every_ticket_action_over_http(client, tokens):
    desk = bearer(tokens["desk"])
    first = issue(client).get_json()["id"]
    second = issue(client, "activation").get_json()["id"]

    def act(ticket_id, action, **body):
        return client.post(f"/api/tickets/{ticket_id}/{action}", headers=desk, json=body or None)

    assert client.post("/api/counters/2/call-next", headers=desk).get_json()["id"] == first
    assert act(first, "recall").get_json()["status"] == "called"
    assert act(first, "start").get_json()["status"] == "serving"
    assert act(first, "park").get_json()["status"] == "parked"
    assert act(first, "return").get_json()["status"] == "waiting"
    moved = act(first, "transfer", service="pin_reset").get_json()
    assert (moved["number"], moved["service"]) == ("A001", "pin_reset")
    assert act(second, "cancel").get_json()["status"] == "cancelled"
    assert client.post("/api/counters/3/call-next", headers=desk).get_json()["id"] == first
    assert act(first, "no-show").get_json()["status"] == "no_show"
    third = issue(client).get_json()["id"]
    client.post("/api/counters/1/call-next", headers=desk)
    assert act(third, "finish").get_json()["status"] == "done"

    assert_error(act(third, "recall"), 409, "invalid_transition")
    assert_error(act(999, "finish"), 404, "ticket_not_found")
    assert_error(act(third, "explode"), 404)
    assert_error(client.post(f"/api/tickets/{third}/transfer", headers=desk, json={}), 400)
    assert_error(act(third, "transfer", service="passport"), 400, "unknown_service")


def test_open_and_close_a_counter(client, tokens):
    desk = bearer(tokens["desk"])
    issue(client, "activation")
    assert client.post("/api/counters/1/open", headers=desk, json={"services": ["pickup"]}).get_json() == {
        "counter": 1,
        "open": True,
        "services": ["pickup"],
    }
    assert client.post("/api/counters/1/call-next", headers=desk).status_code == 204
    assert_error(client.post("/api/counters/1/open", headers=desk, json={"services": "pickup"}), 400)
    assert client.post("/api/counters/1/close", headers=desk).get_json() == {"counter": 1, "open": False}


# --- the description -----------------------------------------------------------------------


def test_openapi_describes_every_api_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == "api.openapi":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if "<action>" in rule.rule:
                actions = {p for p, _ in described if p.startswith("/api/tickets/{ticket_id}/")}
                assert len(actions) == 8  # recall start finish no-show park return cancel transfer
                continue
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            assert (path, method.lower()) in described, path


def test_a_second_call_next_for_the_same_ticket_does_not_finish_the_next_citizen(client, tokens, clock):
    # Two desks (or a double tap) on counter 1, both showing A001.
    first, second = (issue(client).get_json() for _ in range(2))
    desk = bearer(tokens["desk"])
    called = client.post("/api/counters/1/call-next", json={"current": None}, headers=desk)
    assert called.get_json()["id"] == first["id"]
    clock.advance(minutes=4)  # A001 is served
    called = client.post("/api/counters/1/call-next", json={"current": first["id"]}, headers=desk)
    assert called.get_json()["id"] == second["id"]
    clock.advance(minutes=1)
    again = client.post("/api/counters/1/call-next", json={"current": first["id"]}, headers=desk)
    assert again.status_code == 409
    body = again.get_json()
    assert body["error"] == "counter_has_ticket" and "another ticket" in body["message"]
    assert body["current"]["id"] == second["id"]  # what the counter holds, for the desk to show
    with client.application.app_context():
        queue = client.application.extensions["office"]["queue"]
        assert queue.ticket(second["id"]).status == "called"  # not finished before they arrived
    assert_error(client.post("/api/counters/1/call-next", json={"current": "A001"}, headers=desk), 400)
    assert_error(client.post("/api/counters/1/call-next", json={"current": True}, headers=desk), 400)


def test_a_double_press_or_a_retry_of_call_next_finishes_nobody(client, tokens, clock):
    first, second = (issue(client).get_json() for _ in range(2))
    desk = bearer(tokens["desk"])

    def call_next(current):
        return client.post("/api/counters/1/call-next", json={"current": current}, headers=desk)

    def status(ticket):
        with client.application.app_context():
            return client.application.extensions["office"]["queue"].ticket(ticket["id"]).status

    assert call_next(None).get_json()["id"] == first["id"]
    # The retry of that call (its answer was lost): the desk still shows nobody.
    retry = call_next(None)
    assert retry.status_code == 409 and retry.get_json()["current"]["id"] == first["id"]
    # The second press, the desk already showing A001: within the moment, the same press.
    clock.advance(seconds=2)
    double = call_next(first["id"])
    assert double.status_code == 409
    body = double.get_json()
    assert body["error"] == "counter_has_ticket" and body["message"] == (
        "A001 was called only a moment ago: nothing was finished or called."
    )
    assert (body["current"]["number"], body["current"]["status"]) == ("A001", "called")
    assert body["current"]["checkin"] is not None  # as a call's answer has it, masked
    assert (status(first), status(second)) == ("called", "waiting")
    # A moment later the same request is the clerk's: A001 is finished, A002 called.
    clock.advance(seconds=1)
    assert call_next(first["id"]).get_json()["id"] == second["id"]
    assert (status(first), status(second)) == ("done", "called")


def test_call_next_without_current_finishes_whatever_is_at_the_counter(client, tokens):
    # Callers that do not track the counter (scripts, older desks) keep the old rule.
    first, second = (issue(client).get_json() for _ in range(2))
    desk = bearer(tokens["desk"])
    assert client.post("/api/counters/1/call-next", headers=desk).get_json()["id"] == first["id"]
    assert client.post("/api/counters/1/call-next", headers=desk).get_json()["id"] == second["id"]
    assert client.post("/api/counters/1/call-next", headers=desk, json={}).status_code == 204


def test_a_revoked_token_stops_working_within_seconds(client, runner, tokens, monkeypatch):
    desk = bearer(tokens["desk"])
    assert client.post("/api/counters/1/close", headers=desk).status_code == 200
    revoked = runner.invoke(args=["token", "revoke", "--name", "test desk"])
    assert revoked.exit_code == 0 and "Revoked 1 token" in revoked.output
    assert client.post("/api/counters/1/close", headers=desk).status_code == 200  # still known a moment
    known = client.application.extensions["office"]["tokens"]
    monkeypatch.setattr(known, "known_s", 0.0)  # as if those seconds had passed
    assert_error(client.post("/api/counters/1/close", headers=desk), 401)
    again = runner.invoke(args=["token", "revoke", "--name", "test desk"])
    assert again.exit_code != 0 and "No valid token is named 'test desk'" in again.output
