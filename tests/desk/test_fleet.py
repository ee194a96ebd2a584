"""Facility staff's view of the fleet: heartbeats into the shared database, the dashboard and
the API, and orders that reach a kiosk through the database (kiosk.fleet)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kiosk.fleet import Heartbeat, recent_alerts
from tests.desk.conftest import PASSWORD, SignedIn

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def member(app):
    return app.extensions["office"]["member"]


def kiosks(client, token) -> list[dict]:
    response = client.get("/api/kiosks", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["kiosks"]


def test_a_heartbeat_puts_the_kiosk_on_the_dashboard(app, client, tokens, clock):
    assert kiosks(client, tokens["ops"]) == []
    assert Heartbeat(app).beat_once()
    [kiosk] = kiosks(client, tokens["ops"])
    assert kiosk["name"] == member(app).name and kiosk["in_service"] and kiosk["reason"] is None
    assert kiosk["reader"] == "waiting" and kiosk["printer"]["online"] and kiosk["printer"]["paper"] == "ok"
    assert kiosk["clock_offset_s"] == 0.0 and kiosk["version"] and kiosk["age_s"] == 0
    assert kiosk["screen_alive"] is None and kiosk["alerts"] == []  # just started: its page may not have asked yet
    client.get("/kiosk/screen")  # the kiosk's own page asks
    Heartbeat(app).beat_once()
    assert kiosks(client, tokens["ops"])[0]["screen_alive"] is True
    member(app)._born -= 60  # a minute on, and the page never asked again
    member(app)._screen_seen -= 60
    Heartbeat(app).beat_once()
    [kiosk] = kiosks(client, tokens["ops"])
    assert kiosk["screen_alive"] is False and "screen" in kiosk["alerts"]
    clock.advance(seconds=61)
    [silent] = kiosks(client, tokens["ops"])
    assert not silent["in_service"] and "silent" in silent["alerts"] and "no heartbeat" in silent["reason"]


def test_only_facility_tokens_and_staff_may_see_and_order(app, client, tokens, staff):
    Heartbeat(app).beat_once()
    name = member(app).name
    assert client.get("/api/kiosks").status_code == 401
    assert client.get("/api/kiosks", headers=bearer(tokens["desk"])).status_code == 403
    assert client.post(f"/api/kiosks/{name}/reload", headers=bearer(tokens["kiosk"])).status_code == 403
    assert SignedIn(client, "facility").get("/api/kiosks").status_code == 200
    assert client.get("/ops/").status_code == 200  # the same browser, signed in as facility
    clerk = app.test_client()
    SignedIn(clerk, "clerk")
    assert clerk.get("/ops/").status_code == 403 and clerk.get("/api/kiosks").status_code == 403


def test_out_of_service_from_the_dashboard_and_back(app, client, tokens, clock):
    beat = Heartbeat(app)
    beat.beat_once()
    name, ops = member(app).name, bearer(tokens["ops"])
    taken = client.post(f"/api/kiosks/{name}/out-of-service", json={"message": "Paper roll being changed"}, headers=ops)
    assert taken.status_code == 202
    assert client.get("/kiosk/").status_code == 200  # until the kiosk fetches its orders
    beat.beat_once()
    home = client.get("/kiosk/")
    page = home.get_data(as_text=True)
    assert home.status_code == 503 and 'data-reasons="staff"' in page and "Paper roll being changed" in page
    health = client.get("/kiosk/health")
    assert health.status_code == 503 and health.get_json()["kiosk"] == name  # for monitoring tools
    assert client.get("/kiosk/screen").get_json()["in_service"] is False
    [kiosk] = kiosks(client, tokens["ops"])
    assert not kiosk["in_service"] and kiosk["reason"] == "Paper roll being changed"
    assert "out_of_service" in kiosk["alerts"]

    clock.advance(minutes=5)
    assert client.post(f"/api/kiosks/{name}/in-service", headers=ops).status_code == 202
    beat.beat_once()
    assert client.get("/kiosk/").status_code == 200 and client.get("/kiosk/health").status_code == 200
    with app.app_context():
        [alert] = [
            a for a in recent_alerts(app.extensions["office"]["engine"], clock()) if a["kind"] == "out_of_service"
        ]
    assert alert["kiosk"] == name and alert["ended_at"] is not None


def test_reload_and_restart_orders_reach_the_kiosk(app, client, tokens):
    beat = Heartbeat(app)
    beat.beat_once()
    name, ops = member(app).name, bearer(tokens["ops"])
    before = client.get("/kiosk/screen").get_json()["reloads"]
    assert client.post(f"/api/kiosks/{name}/reload", headers=ops).status_code == 202
    assert client.post(f"/api/kiosks/{name}/restart", json={"what": "browser"}, headers=ops).status_code == 202
    beat.beat_once()
    assert client.get("/kiosk/screen").get_json()["reloads"] == before + 1
    assert member(app).restarts["browser"] == 1
    assert client.post(f"/api/kiosks/{name}/restart", json={"what": "everything"}, headers=ops).status_code == 400
    assert client.post("/api/kiosks/no-such-kiosk/reload", headers=ops).status_code == 404
    assert (
        client.post(f"/api/kiosks/{name}/out-of-service", json={"message": "x" * 201}, headers=ops).status_code == 400
    )


def test_nothing_personal_reaches_the_fleet(app, client, tokens, reader):
    from tests.citizen.screens import check_screen

    check_screen(client, reader, visit="pickup")  # a citizen's card in the reader
    Heartbeat(app).beat_once()
    body = client.get("/api/kiosks", headers=bearer(tokens["ops"])).get_data(as_text=True)
    card = reader.snapshot().card
    for detail in (card.last_name, card.national_number, card.card_number, card.given_names):
        assert detail not in body


# --- in the browser ---------------------------------------------------------------------------


@pytest.fixture
def reader(app):
    with app.app_context():
        service = app.extensions["office"]["devices"].reader()
    yield service


@pytest.mark.browser
@sqlite_only
def test_the_dashboard_takes_a_kiosk_out_of_service_and_back_within_seconds(app, live_server, browser, staff):
    beat = Heartbeat(app, every_s=0.5)
    beat.start()
    contexts = []
    assert app.test_client().post("/api/tickets", json={"service": "pickup"}).status_code == 201
    try:
        contexts.append(browser.new_context(viewport={"width": 1080, "height": 1920}))
        kiosk = contexts[-1].new_page()
        kiosk.goto(live_server.url + "/kiosk/")
        contexts.append(browser.new_context(viewport={"width": 1600, "height": 900}, locale="en-GB"))
        ops = contexts[-1].new_page()
        ops.goto(live_server.url + "/ops/")
        ops.get_by_label("User name").fill("facility")
        ops.get_by_label("Password").fill(PASSWORD)
        ops.get_by_role("button", name="Sign in").click()
        expect(ops).to_have_url(re.compile(r"/ops/$"))
        row = ops.locator(f'tr[data-kiosk="{member(app).name}"]')
        expect(row).to_contain_text("In service")
        expect(row).to_contain_text(re.compile(r"1, last at \d\d:\d\d"))  # tickets today, the last one's time
        row.get_by_label("Message on the kiosk").fill("Back in ten minutes")
        row.get_by_role("button", name="Take out of service").click()
        # on the kiosk's screen within two seconds, in every language, with staff's words
        expect(kiosk.locator(".out-of-service")).to_be_visible(timeout=2000)
        expect(kiosk.locator(".staff-message")).to_have_text("Back in ten minutes")
        expect(row).to_contain_text("Out of service: Back in ten minutes")
        ops.locator(f'tr[data-kiosk="{member(app).name}"]').get_by_role("button", name="Back in service").click()
        expect(kiosk.locator(".out-of-service")).to_have_count(0, timeout=3000)
        expect(kiosk).to_have_url(re.compile(r"/kiosk/$"))
    finally:
        for context in contexts:
            context.close()
        beat.stop()
