"""/metrics for facility staff: the office's queue as the database holds it, this instance's
requests by route and its devices by kiosk name; Prometheus' own tool accepts the output."""

from __future__ import annotations

import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kiosk.server import LISTENER, OFFICE
from tests.conftest import bearer
from tests.sites import site_variant
from tests.system import require_debian_packages

# A monitoring server elsewhere on the office network, through the office's listener.
MONITOR = {"REMOTE_ADDR": "192.0.2.20", LISTENER: OFFICE}


def scrape_text(client) -> str:
    response = client.get("/metrics", environ_base=MONITOR)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """Every sample by its name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(scrape_text(client))
        for sample in family.samples
    }


def per_service(samples, name: str) -> dict[str, float]:
    return {dict(labels)["service"]: value for (each, labels), value in samples.items() if each == name}


def issue(client, service: str) -> dict:
    response = client.post("/api/tickets", json={"service": service})
    assert response.status_code == 201
    return response.get_json()


def test_the_days_tickets_are_counted_per_service_from_the_database(
    app, app_config, database_url, client, tokens, clock
):
    for service in ("pickup", "pickup", "activation", "pickup"):
        issue(client, service)
    desk = bearer(tokens["desk"])
    clock.advance(minutes=4)
    assert client.post("/api/counters/1/call-next", headers=desk).get_json()["number"] == "A001"
    clock.advance(minutes=1)
    second = client.post("/api/counters/1/call-next", headers=desk).get_json()
    assert second["number"] == "A002"
    assert client.post(f"/api/tickets/{second['id']}/recall", headers=desk).status_code == 200  # not a new call

    samples = scrape(client)
    assert samples[("snelbalie_database_up", frozenset())] == 1
    assert per_service(samples, "snelbalie_tickets_issued_total") == {
        "pickup": 3,
        "activation": 1,
        "pin_reset": 0,
        "new_codes": 0,
    }
    assert per_service(samples, "snelbalie_tickets_called_total") == {
        "pickup": 2,
        "activation": 0,
        "pin_reset": 0,
        "new_codes": 0,
    }
    assert per_service(samples, "snelbalie_queue_waiting") == {
        "pickup": 1,
        "activation": 1,
        "pin_reset": 0,
        "new_codes": 0,
    }
    oldest = per_service(samples, "snelbalie_queue_oldest_wait_seconds")
    assert oldest == {"pickup": 300, "activation": 300, "pin_reset": 0, "new_codes": 0}

    # Another instance of the office on the same database reports the same queue, and only
    # its own requests.
    from kiosk import create_app

    other = create_app({**app_config, "DATABASE_URL": database_url})
    try:
        theirs = scrape(other.test_client())
        for name in ("snelbalie_tickets_issued_total", "snelbalie_tickets_called_total", "snelbalie_queue_waiting"):
            assert per_service(theirs, name) == per_service(samples, name), name
        assert not any(name.startswith("snelbalie_http_request_duration_seconds") for name, _ in theirs)
    finally:
        other.extensions["office"]["engine"].dispose()

    clock.advance(days=1)  # a new business day: nothing issued, nobody waiting (yesterday's expire)
    next_day = scrape(client)
    assert set(per_service(next_day, "snelbalie_tickets_issued_total").values()) == {0}
    assert set(per_service(next_day, "snelbalie_queue_waiting").values()) == {0}


def test_request_latency_is_labelled_by_route_and_status_class(client):
    issue(client, "pickup")
    client.get("/api/queue", environ_base=MONITOR)
    client.get("/no/such/page", environ_base=MONITOR)
    samples = scrape(client)
    counts = {
        (dict(labels)["endpoint"], dict(labels)["status"]): value
        for (name, labels), value in samples.items()
        if name == "snelbalie_http_request_duration_seconds_count"
    }
    assert counts == {("api.issue_ticket", "2xx"): 1, ("api.queue_overview", "2xx"): 1, ("none", "4xx"): 1}


def test_a_status_token_never_becomes_a_label(app, client, tokens):
    ticket = issue(client, "pickup")
    token = ticket["status_url"].rsplit("/", 1)[1]
    phone = {"REMOTE_ADDR": "198.51.100.7", LISTENER: OFFICE}
    assert client.get(f"/t/{token}", environ_base=phone).status_code == 200
    assert client.get(f"/t/{token}/status", environ_base=phone).status_code == 200
    assert client.get(f"/t/{token}/not-a-page", environ_base=phone).status_code == 404
    client.post(f"/api/tickets/{ticket['id']}/recall", headers=bearer(tokens["desk"]))

    text = scrape_text(client)
    assert token not in text and ticket["number"] not in text
    labels = {
        value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for key, value in sample.labels.items()
        if key == "endpoint"
    }
    assert labels <= {rule.endpoint for rule in app.url_map.iter_rules()} | {"none"}
    assert {"track.page", "track.status", "none"} <= labels


def test_an_office_server_without_a_kiosk_reports_no_devices(app, client):
    scrape_text(client)
    client.get("/api/queue", environ_base=MONITOR)
    text = scrape_text(client)
    assert "snelbalie_reader" not in text and "snelbalie_printer" not in text
    devices = app.extensions["office"]["devices"]
    assert devices.made_reader() is None and devices.made_printer() is None  # the scrape started none


class TestAKioskWithItsPaperNearTheEnd:
    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        site = site_variant(
            tmp_path, ('[printer]\nkind = "simulated"', '[printer]\nkind = "simulated"\nmode = "paper_near_end"')
        )
        return {**app_config, "SITE": str(site)}

    def test_its_reader_and_printer_are_reported_under_its_name(self, client, monkeypatch):
        monkeypatch.setenv("KIOSK_NAME", "hall-left")
        assert client.get("/kiosk/health").status_code == 200  # the kiosk's own screen starts both
        samples = scrape(client)
        kiosk = ("kiosk", "hall-left")
        reader = {dict(labels)["state"]: v for (n, labels), v in samples.items() if n == "snelbalie_reader_state"}
        assert reader == {"no_reader": 0, "waiting": 1, "reading": 0, "ready": 0, "error": 0}
        paper = {dict(labels)["paper"]: v for (n, labels), v in samples.items() if n == "snelbalie_printer_paper"}
        assert paper == {"ok": 0, "near_end": 1, "out": 0, "unknown": 0}
        assert samples[("snelbalie_printer_online", frozenset({kiosk}))] == 1
        assert samples[("snelbalie_printer_ready", frozenset({kiosk}))] == 1
        assert samples[("snelbalie_printer_cover_open", frozenset({kiosk}))] == 0
        assert all(dict(labels).get("kiosk", "hall-left") == "hall-left" for _, labels in samples)


def test_promtool_accepts_the_metrics(client, tokens):
    require_debian_packages("prometheus")
    issue(client, "pickup")
    client.post("/api/counters/1/call-next", headers=bearer(tokens["desk"]))
    client.get("/kiosk/health")  # with the devices' gauges too
    client.get("/metrics", environ_base=MONITOR)
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=scrape_text(client), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), result
