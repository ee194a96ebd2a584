"""Staff accounts, signed-in clients and tickets with check-in data for the desk, board and
status page tests."""

from __future__ import annotations

import re

import pytest

from kiosk.accounts.users import create_user
from kiosk.extensions import office
from tests.citizen.screens import SITE_SERVICE

PASSWORD = "correct horse battery"
NAME, NATIONAL_NUMBER = "Testperson, Jan", "85073003328"
CHECKIN = {
    "visit": "pickup",
    "card": {"type": "F+", "expired": False},
    "lost_card": False,
    "name": NAME,
    "national_number": NATIONAL_NUMBER,
    "age": 41,
    "pin_tries_left": 3,
    "notes": [],
    "confirmed": ["current_card", "code_letter"],
    "missing": [],
    "pickup": {"storage": "Kast B, lade 3", "card_number": "B123456789"},
    "code_request": None,
}
# Site profile changes (tests.sites.site_variant): the site's own service, its list in
# English and (its first line only) in Dutch, served at counter 1.
SITE_SERVICE_AT_COUNTER_1 = (
    SITE_SERVICE,
    (
        'bring = { en = ["Your passport", "A recent photo"] }',
        'bring = { en = ["Your passport", "A recent photo"], nl = ["Je paspoort"] }',
    ),
    (
        'services = ["pickup", "activation", "pin_reset", "new_codes"]',
        'services = ["pickup", "activation", "pin_reset", "new_codes", "residence_certificate"]',
    ),
)
# Strings that must never reach a public screen: the name, its parts, the national number
# written any way.
PERSONAL = ("Testperson", NATIONAL_NUMBER, "85.07.30", "033.28", "B123456789")


@pytest.fixture
def client(app):
    """A staff member's browser set to English: staff pages follow the browser's language."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def staff(app):
    """One account per role: username == role."""
    with app.app_context():
        for role in ("clerk", "supervisor", "facility"):
            create_user(office.engine, role, role, PASSWORD, office.clock())
    return ("clerk", "supervisor", "facility")


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str = PASSWORD, **environ):
    page = client.get("/login", environ_base=environ)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_csrf(page.get_data(as_text=True))},
        environ_base=environ,
    )


class SignedIn:
    """A test client signed in as a staff member; sends the CSRF token like static/desk.js."""

    def __init__(self, client, username: str):
        assert sign_in(client, username).status_code == 302
        self.client = client
        self.csrf = form_csrf(client.get("/login").get_data(as_text=True))  # any form has it

    def get(self, url, headers=None, **kwargs):
        return self.client.get(url, headers={"Accept": "application/json", **(headers or {})}, **kwargs)

    def post(self, url, headers=None, **kwargs):
        headers = {"Accept": "application/json", "X-CSRFToken": self.csrf, **(headers or {})}
        return self.client.post(url, headers=headers, **kwargs)


@pytest.fixture
def clerk(client, staff):
    return SignedIn(client, "clerk")


def issue(app, service="pickup", checkin=None, language="nl") -> dict:
    """A ticket from the kiosk on this PC (loopback, no session)."""
    response = app.test_client().post(
        "/api/tickets",
        json={"service": service, "language": language, "checkin": checkin or dict(CHECKIN, visit=service)},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def token_of(ticket: dict) -> str:
    return ticket["status_url"].rsplit("/", 1)[1]
