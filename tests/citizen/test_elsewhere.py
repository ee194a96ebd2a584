"""Where the kiosk gives no ticket it says where to go instead: the office's appointment line
and page from the site profile, and the site's information ticket when it has one."""

import dataclasses
import re

import pytest
from playwright.sync_api import expect

from kiosk.extensions import office
from kiosk.site import AppointmentSettings
from tests.citizen.screens import check_screen
from tests.live import axe_violations
from tests.sites import site_variant

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

INFORMATION = (
    "[[counters]]\nnumber = 1",
    """[[services]]
id = "info"
letter = "I"
minutes = 3
name = { en = "Information", nl = "Inlichtingen" }

[[counters]]
number = 1""",
)
WITH_INFORMATION = ("idle_seconds = 60", 'idle_seconds = 60\ninformation_service = "info"')


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "WTF_CSRF_ENABLED": False, "SITE": str(site_variant(tmp_path, INFORMATION, WITH_INFORMATION))}


def information_link(page: str) -> str | None:
    found = re.search(r'class="[^"]*information-ticket[^"]*" href="([^"]+)"', page)
    return found and found.group(1).replace("&amp;", "&")


def test_a_card_that_is_not_here_yet_is_offered_the_information_ticket(app, client, reader):
    client.get("/kiosk/visit?lang=en")
    page = check_screen(client, reader, "pickup", "type-m")  # not in the pickup register
    assert "Your new card is not here yet" in page and "take-ticket" not in page
    assert "Make an appointment" not in page  # nothing to book: the letter comes
    link = information_link(page)
    assert link == "/kiosk/confirm?visit=info"
    confirm = client.get(link).get_data(as_text=True)
    assert "Information" in confirm
    issued = client.post(
        "/kiosk/confirm", data={"flow_id": re.search(r'name="flow_id"[^>]*value="([^"]+)"', confirm)[1]}
    )
    assert issued.headers["Location"].endswith("/kiosk/ticket")
    with app.app_context():
        [ticket] = office.queue.waiting()
    assert (ticket.number, ticket.service) == ("I001", "info")


def test_a_new_card_by_appointment_gets_the_profiles_line_and_page_in_the_citizens_language(client, reader):
    client.get("/kiosk/visit?lang=fr")
    page = check_screen(client, reader, "activation", "issued-2017")
    assert "take-ticket" not in page
    assert "09 123 45 67" in page and "demostad.example/afspraak" in page
    assert "du lundi au vendredi" in page  # the hours in French, as the profile gives them
    assert information_link(page) == "/kiosk/confirm?visit=info"


def test_the_lost_card_screen_gives_the_appointment_line(client):
    page = client.get("/kiosk/lost?lang=de").get_data(as_text=True)
    assert "09 123 45 67" in page and "Montag bis Freitag" in page


def test_without_an_appointment_line_or_information_service_it_says_to_ask_at_the_counter(app, client, reader):
    site = app.extensions["office"]["site"]
    kiosk = site.kiosk.model_copy(update={"information_service": None})
    app.extensions["office"]["site"] = dataclasses.replace(site, appointments=AppointmentSettings(), kiosk=kiosk)
    client.get("/kiosk/visit?lang=en")
    page = check_screen(client, reader, "activation", "issued-2017")
    assert "Ask at the counter for an appointment." in page and information_link(page) is None


@pytest.mark.browser
def test_a_bank_card_or_belgian_card_is_told_where_to_go(app, kiosk, reader):
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".visit-activation").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify\?visit=activation$"))
    where = kiosk.locator('[data-shown-for="not_residence_card"]')
    expect(where).to_be_hidden()
    reader.insert("not-eid")  # a bank card
    expect(kiosk.locator(".reader-message")).to_contain_text("not a residence card")
    expect(where).to_be_visible()
    assert axe_violations(kiosk) == []
    where.locator(".information-ticket").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/confirm\?visit=info$"))
    kiosk.locator(".take-ticket").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))
    expect(kiosk.locator(".ticket-number")).to_have_text("I001")


def test_a_belgian_identity_card_is_offered_the_information_ticket(client, reader):
    client.get("/kiosk/visit?lang=en")
    client.get("/kiosk/identify?visit=activation")
    reader.insert("belgian-eid")
    page = client.get("/kiosk/identify").get_data(as_text=True)
    assert "This card is not a residence card" in page
    shown = re.search(r'<div data-shown-for="not_residence_card"\s*>(.*?)</div>\s*</div>', page, re.S)
    assert shown is not None  # not hidden: the card in the reader is one
    assert information_link(shown.group(1)) == "/kiosk/confirm?visit=info"


def test_a_kiosk_that_took_too_many_typed_numbers_offers_the_information_ticket(app, client):
    throttle = app.extensions["office"]["keypad_throttle"]
    while not throttle.blocked("keypad"):
        throttle.count("keypad")
    client.get("/kiosk/identify/number?visit=pickup&lang=en")
    refused = client.post("/kiosk/identify/number", data={"national_number": "85073099239"})
    assert refused.status_code == 429
    assert information_link(refused.get_data(as_text=True)) == "/kiosk/confirm?visit=info"
