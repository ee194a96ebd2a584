"""Desk pages and actions refuse anonymous users and the wrong roles."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import bearer
from tests.desk.conftest import PASSWORD, SignedIn, form_csrf, issue

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DESK_PAGES = ["/desk/", "/desk/1/"]
JSON = {"Accept": "application/json"}


def test_anonymous_visitors_are_sent_to_sign_in_and_refused_by_the_desk_api(app, client):
    ticket = issue(app)
    for page in DESK_PAGES:
        response = client.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert client.get("/desk/1/state", headers=JSON).status_code == 401
    assert client.post("/api/counters/1/call-next").status_code == 401
    assert client.post(f"/api/tickets/{ticket['id']}/finish").status_code == 401
    # the desk's own actions: a valid token of an anonymous visitor passes the CSRF check,
    # so only the sign-in check can refuse
    token = form_csrf(client.get("/login").get_data(as_text=True))
    for action in ("disclose", "reprint"):
        refused = client.post(f"/desk/1/tickets/{ticket['id']}/{action}", headers={**JSON, "X-CSRFToken": token})
        assert refused.status_code == 401, action


def test_facility_staff_may_not_use_the_desk(app, client, staff):
    ticket = issue(app)
    facility = SignedIn(client, "facility")
    for page in DESK_PAGES:
        assert facility.client.get(page).status_code == 403
    assert facility.get("/desk/1/state").status_code == 403
    assert facility.post("/api/counters/1/call-next").status_code == 403
    assert facility.post(f"/desk/1/tickets/{ticket['id']}/disclose").status_code == 403
    assert facility.post(f"/desk/1/tickets/{ticket['id']}/reprint").status_code == 403


def test_machine_tokens_other_than_desk_are_refused(app, client, tokens):
    issue(app)
    for role in ("kiosk", "ops"):
        assert client.get("/desk/1/state", headers=bearer(tokens[role])).status_code == 403
        assert client.post("/api/counters/1/call-next", headers=bearer(tokens[role])).status_code == 403
    assert client.get("/desk/1/state", headers=bearer(tokens["desk"])).status_code == 200


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_clerks_and_supervisors_act_through_the_api_with_their_session(app, client, staff, role):
    issue(app)
    desk = SignedIn(client, role)
    no_token = desk.client.post("/api/counters/1/call-next")
    assert no_token.status_code == 400 and "CSRF" in no_token.get_json()["message"]
    called = desk.post("/api/counters/1/call-next")
    assert called.status_code == 200 and called.get_json()["number"] == "A001"
    assert desk.post(f"/api/tickets/{called.get_json()['id']}/finish").status_code == 200


def test_another_site_cannot_make_a_signed_in_clerk_act(app, client, staff):
    """A forged form post from another site carries the cookie but not the token."""
    issue(app)
    desk = SignedIn(client, "clerk")
    forged = desk.client.post(
        "/api/counters/1/call-next", data={"csrf_token": "forged"}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 400
    assert desk.get("/desk/1/state").get_json()["current"] is None


def test_the_desk_state_renews_the_csrf_token_of_a_page_open_all_day(app, client, staff):
    issue(app)
    desk = SignedIn(client, "clerk")
    renewed = desk.get("/desk/1/state").get_json()["csrf_token"]
    called = desk.client.post("/api/counters/1/call-next", headers={"X-CSRFToken": renewed})
    assert called.status_code == 200


@pytest.mark.browser
def test_the_desk_says_when_an_action_fails_and_keeps_sign_out_working(app, live_server, page, staff):
    issue(app)
    page.goto(live_server.url + "/desk/1/")
    page.get_by_label("User name").fill("clerk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#counter-state")).not_to_be_empty()  # the first state has arrived
    message = page.locator("#message")
    call_next = re.compile(r"/api/counters/1/call-next$")

    page.route(call_next, lambda route: route.abort())  # the network is gone
    page.get_by_role("button", name=re.compile("^Call next")).click()
    expect(message).to_have_text("That did not work: No connection to the server. Trying again…")
    expect(message).to_have_class(re.compile(r"\berror\b"))
    page.unroute(call_next)
    proxy_page = {"status": 502, "content_type": "text/html", "body": "<h1>Oops</h1>"}
    page.route(call_next, lambda route: route.fulfill(**proxy_page))
    page.get_by_role("button", name=re.compile("^Call next")).click()  # a proxy's page, not JSON
    expect(message).to_have_text(re.compile(r"^That did not work: (Bad Gateway|HTTP 502)$"))
    page.unroute(call_next)

    # Each fresh token also goes into the page's forms, so Sign out still works hours later.
    form_token = page.locator('.staff-bar input[name="csrf_token"]')
    form_token.evaluate("(input) => { input.value = 'stale'; }")
    issue(app)  # the queue moves: the desk fetches its state, with a token
    expect(form_token).not_to_have_value("stale")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    assert page.context.request.get(live_server.url + "/desk/1/state", headers=JSON).status == 401
