"""Desk pages and actions refuse anonymous users and the wrong roles."""
import pytest

from tests.conftest import bearer
from tests.desk.conftest import SignedIn, issue

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
    # the desk's own actions: without a session there is no CSRF token either
    assert client.post(f"/desk/tickets/{ticket['id']}/disclose", headers=JSON).status_code == 400


def test_facility_staff_may_not_use_the_desk(app, client, staff):
    ticket = issue(app)
    facility = SignedIn(client, "facility")
    for page in DESK_PAGES:
        assert facility.client.get(page).status_code == 403
    assert facility.get("/desk/1/state").status_code == 403
    assert facility.post("/api/counters/1/call-next").status_code == 403
    assert facility.post(f"/desk/tickets/{ticket['id']}/disclose").status_code == 403
    assert facility.post(f"/desk/tickets/{ticket['id']}/reprint").status_code == 403


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
    forged = desk.client.post("/api/counters/1/call-next", data={"csrf_token": "forged"},
                              headers={"Origin": "https://evil.example"})
    assert forged.status_code == 400
    assert desk.get("/desk/1/state").get_json()["current"] is None


def test_the_desk_state_renews_the_csrf_token_of_a_page_open_all_day(app, client, staff):
    issue(app)
    desk = SignedIn(client, "clerk")
    renewed = desk.get("/desk/1/state").get_json()["csrf_token"]
    called = desk.client.post("/api/counters/1/call-next", headers={"X-CSRFToken": renewed})
    assert called.status_code == 200
