"""The kiosk's JSON endpoints and its fault handling, without a browser."""

import re
import sqlite3

import pytest
from sqlalchemy.engine import make_url

from kiosk import storage
from kiosk.extensions import office
from tests.citizen.screens import check_screen, flow_id
from tests.conftest import bearer

REMOTE = {"REMOTE_ADDR": "192.0.2.10"}
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_reader_state_says_nothing_of_the_card(client, reader, tokens):
    reader.insert("adult-f-plus")
    response = client.get("/kiosk/card")
    mine = response.get_json()
    assert set(mine) == {"state", "error", "version", "read", "checked", "card_is_in"}
    assert mine["state"] == "ready" and mine["card_is_in"] is True and mine["checked"] is True
    card = reader.snapshot().card
    for detail in (card.last_name, card.card_number, card.chip_number, card.national_number[:6]):
        assert detail not in response.get_data(as_text=True)
    # from another machine the reader is not there at all, whatever token it sends
    for token in (None, tokens["desk"], tokens["kiosk"]):
        headers = bearer(token) if token else {}
        assert client.get("/kiosk/card", environ_base=REMOTE, headers=headers).status_code == 404


def test_the_reader_states_reach_the_screen(client, reader):
    assert client.get("/kiosk/card").get_json()["state"] == "waiting"
    reader.insert("not-eid")
    assert client.get("/kiosk/card").get_json() | {"version": 0} == {
        "state": "error",
        "error": "not_residence_card",
        "card_is_in": True,
        "version": 0,
        "read": None,
        "checked": False,
    }
    reader.remove()
    assert client.get("/kiosk/card").get_json()["card_is_in"] is False
    reader.set_reader_present(False)
    assert client.get("/kiosk/card").get_json()["state"] == "no_reader"
    health = client.get("/kiosk/health").get_json()
    assert (health["in_service"], health["reasons"]) == (False, ["reader"])
    assert health["reader"] == "no_reader"


def test_an_expired_form_brings_the_citizen_home(app, client, reader):
    reader.insert("adult-f-plus")
    client.get("/kiosk/identify?visit=activation")
    response = client.post("/kiosk/check", data={"csrf_token": "stale", "confirmed": ["card"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/kiosk/")
    with app.app_context():
        assert office.queue.waiting() == []


def test_a_forged_visit_or_language_goes_nowhere(client):
    assert client.get("/kiosk/identify?visit=passport").headers["Location"].endswith("/kiosk/visit")
    assert client.get("/kiosk/identify/number?visit=activation").headers["Location"].endswith("/kiosk/visit")
    assert client.get("/kiosk/check").headers["Location"].endswith("/kiosk/")
    client.get("/kiosk/visit?lang=xx")
    assert 'lang="nl"' in client.get("/kiosk/visit").get_data(as_text=True)
    client.get("/kiosk/visit?lang=fr")
    assert 'lang="fr"' in client.get("/kiosk/visit").get_data(as_text=True)


def test_the_simulated_reader_page_is_for_this_pc_only(client):
    assert client.get("/kiosk/dev/cards").status_code == 200
    assert client.get("/kiosk/dev/cards", environ_base=REMOTE).status_code == 404
    assert client.post("/kiosk/dev/cards/insert", json={"card": "adult-f-plus"}, environ_base=REMOTE).status_code == 404
    assert client.post("/kiosk/dev/cards/insert", json={"card": "nope"}).status_code == 400


def test_out_of_service_while_the_database_is_locked(monkeypatch, app_config, database_url, reader):
    monkeypatch.setattr(storage, "SQLITE_BUSY_MS", 200)
    from kiosk import create_app

    app = create_app({**app_config, "DATABASE_URL": database_url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        storage.migrate(office.engine)
    client = app.test_client()
    other = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    with app.app_context():
        reader_of_app = office.reader
    form = {"confirmed": ["card"], "flow_id": flow_id(check_screen(client, reader_of_app))}
    page = client.post("/kiosk/check", data=form)
    assert page.status_code == 503 and "out of service" in page.get_data(as_text=True)
    other.execute("COMMIT")
    other.close()
    assert client.get("/kiosk/health").get_json()["in_service"]
    page = client.post("/kiosk/check", data=form)  # no ticket yet: the same screen may try again
    assert page.status_code == 302 and page.headers["Location"].endswith("/kiosk/ticket")
    assert re.search(r"C00\d", client.get("/kiosk/ticket").get_data(as_text=True))
    reader_of_app.stop()
    app.extensions["office"]["engine"].dispose()


class TestHealth:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": False}

    def test_health_reports_the_printer_before_and_after_a_ticket(self, client, reader):
        before = client.get("/kiosk/health").get_json()["printer"]  # asked on its own, not only at a ticket
        assert before["ready"] and before["paper"] == "ok"
        form = {"confirmed": ["card"], "flow_id": flow_id(check_screen(client, reader))}
        assert client.post("/kiosk/check", data=form).status_code == 302
        printer = client.get("/kiosk/health").get_json()["printer"]
        assert printer["ready"] and printer["paper"] == "ok"


def test_the_card_command_inserts_into_a_running_kiosk(live_server, reader):
    from click.testing import CliRunner

    from kiosk.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["card", "insert", "type-h", "--url", live_server.url])
    assert result.exit_code == 0, result.output
    assert reader.snapshot().card.card_type == "H"
    assert runner.invoke(main, ["card", "remove", "--url", live_server.url]).exit_code == 0
    assert reader.snapshot().card is None
    wrong = runner.invoke(main, ["card", "insert", "nope", "--url", live_server.url])
    assert wrong.exit_code != 0 and "nope" in wrong.output


class TestNoScreenOnlyTickets:
    """A site that forbids on-screen-only tickets goes out of service when the printer does."""

    @pytest.fixture
    def app_config(self, app_config, tmp_path):
        from tests.sites import site_variant

        return {
            **app_config,
            "SITE": str(
                site_variant(
                    tmp_path,
                    ('[printer]\nkind = "simulated"', '[printer]\nkind = "simulated"\nmode = "cover_open"'),
                    ("idle_seconds = 60", "idle_seconds = 60\nscreen_only_tickets = false"),
                )
            ),
        }

    def test_printer_trouble_takes_the_kiosk_out_of_service(self, app, client, reader):
        page = client.get("/kiosk/")
        assert page.status_code == 503 and 'data-reasons="printer"' in page.get_data(as_text=True)
        assert client.get("/kiosk/health").get_json()["printer"]["cover_open"]
        with app.app_context():
            office.printer.printer.mode = "ok"  # the cover is closed again
        assert client.get("/kiosk/").status_code == 200

    def test_no_screen_of_the_flow_issues_while_the_printer_is_down(self, app, client, reader):
        with app.app_context():
            office.printer.printer.mode = "ok"
            page = check_screen(client, reader)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            form = {"confirmed": ["card", "puk"], "flow_id": flow_id(page), "csrf_token": token}
            office.printer.printer.mode = "paper_out"  # while the citizen reads the check screen
            taken = client.post("/kiosk/check", data=form)  # or a link straight to it
            assert taken.status_code == 503 and 'data-reasons="printer"' in taken.get_data(as_text=True)
            assert office.queue.waiting() == []


def test_screens_waiting_for_the_card_leave_the_kiosk_page_its_threads(app, reader):
    import http.client
    import time
    from concurrent.futures import ThreadPoolExecutor

    from kiosk.extensions import CARD_WAITERS
    from kiosk.server import KIOSK_THREADS
    from tests.live import LiveServer

    server = LiveServer(app, threads=KIOSK_THREADS)  # as many threads as the kiosk's listener has
    port = int(server.url.rsplit(":", 1)[1])

    def get(path: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        finally:
            conn.close()

    try:
        version = reader.snapshot().version
        with ThreadPoolExecutor(16) as pool:
            waits = [pool.submit(get, f"/kiosk/card?after={version}") for _ in range(16)]
            started = time.monotonic()
            assert get("/kiosk/") == 200
            assert time.monotonic() - started < 2  # not after the waits' five seconds
            statuses = [wait.result(timeout=15) for wait in waits]
        assert statuses.count(200) <= CARD_WAITERS and statuses.count(429) >= 16 - CARD_WAITERS
    finally:
        server.stop()
