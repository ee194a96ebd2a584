"""The demo with any site profile (KIOSK_SITE), and the landing page's links."""

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from kiosk import create_app
from kiosk.storage import migrate
from tests.sites import CLOSED_ALL_WEEK, site_variant
from tests.system import wait_until

NO_PICKUP = (
    ('[[services]]\nid = "pickup"\nletter = "A"\nfee_cents = 0\nminutes = 6\n', ""),
    (
        'services = ["pickup", "activation", "pin_reset", "new_codes"]',
        'services = ["activation", "pin_reset", "new_codes"]',
    ),
    ('services = ["pickup", "activation"]', 'services = ["activation"]'),
)
ACTIVATION_OFF = (('id = "activation"\nletter = "B"\n', 'id = "activation"\nletter = "B"\nenabled = false\n'),)
PCSC_READER = (('[reader]\nkind = "simulated"', '[reader]\nkind = "pcsc"'),)


def make_app(tmp_path, site, clock=None):
    config = {
        "SITE": str(site),
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kiosk.sqlite3'}",
        "TESTING": True,
    }
    if clock:
        config["CLOCK"] = clock
    app = create_app(config)
    with app.app_context():
        from kiosk.extensions import office

        migrate(office.engine)
    return app


def load(app):
    from kiosk.demo import load_demo_data
    from kiosk.extensions import office

    with app.app_context():
        return load_demo_data(), office


def test_the_demo_data_leaves_out_what_the_profile_does_not_offer(tmp_path, clock):
    app = make_app(tmp_path, site_variant(tmp_path, *NO_PICKUP, *ACTIVATION_OFF), clock)
    loaded, office = load(app)
    assert loaded.pickups == 0 and loaded.users == ["clerk", "supervisor", "facility"]
    assert loaded.waiting == ["C001", "D001"]  # pickup is not a service here, activation is off
    assert loaded.left_out == [
        "pickup register: the site profile has no pickup service",
        "waiting tickets for activation, pickup: not offered by the site profile",
    ]
    with app.app_context():
        assert [t.service for t in office.queue.waiting()] == ["pin_reset", "new_codes"]


def test_the_demo_data_on_a_closed_day_then_on_the_next_start(tmp_path, clock):
    app = make_app(tmp_path, site_variant(tmp_path, *CLOSED_ALL_WEEK), clock)
    loaded, office = load(app)
    assert loaded.pickups == 3 and loaded.waiting == []
    assert loaded.left_out == ["waiting tickets: the office is closed now by the site profile's opening hours"]
    again, _ = load(app)  # no history yet, so loaded again: what is there is kept
    assert again.users == [] and again.pickups == 3 and again.waiting == []
    with app.app_context():
        assert office.queue.waiting() == []


def test_the_demo_data_is_not_added_to_a_queue_with_history(tmp_path, clock):
    from kiosk.site import DEMO_PROFILE

    app = make_app(tmp_path, DEMO_PROFILE, clock)
    first, _ = load(app)
    assert len(first.waiting) == 6
    second, office = load(app)
    assert second.waiting == [] and second.users == [] and second.pickups == 0
    assert second.left_out == ["the database already has a queue history: nothing added"]
    with app.app_context():
        assert len(office.queue.waiting()) == 6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_kiosk_demo_uses_kiosk_site_and_says_so(tmp_path):
    site = site_variant(
        tmp_path,
        *CLOSED_ALL_WEEK,
        ('[printer]\nkind = "simulated"', '[printer]\nkind = "simulated"\nmode = "cover_open"'),
    )
    port, kiosk_port, log = free_port(), free_port(), tmp_path / "demo.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_SITE=str(site), KIOSK_DATA_DIR=str(tmp_path / "data"))
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "demo", "--port", str(port), "--kiosk-port", str(kiosk_port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def answers():
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    return response.read().decode()
            except OSError:
                return None

        home = wait_until(answers, timeout=60, interval=0.05, what="the demo to answer")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    text = log.read_text()
    assert f"Site profile: {site} (from KIOSK_SITE)" in text, text
    assert "Card reader: simulated; ticket printer: simulated, mode cover_open" in text
    assert "Demo pickup register: 3 new cards" in text
    assert "Demo data left out: waiting tickets: the office is closed now" in text
    assert "Demo sign-ins at /login: clerk, supervisor, facility" in text
    assert f"The kiosk screen, for this PC's own browser only: http://127.0.0.1:{kiosk_port}/kiosk/" in text
    # the landing page is the office's; the kiosk's screens are on the kiosk's own listener
    assert f'href="http://127.0.0.1:{kiosk_port}/kiosk/dev/cards"' in home and 'href="/login"' in home


def links(html: str) -> dict[str, str]:
    return dict((name.strip(), href) for href, name in re.findall(r'<a href="([^"]+)">([^<]+)</a>', html))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_landing_page_links_every_screen_from_this_pc(client):
    html = client.get("/").get_data(as_text=True)
    assert links(html) == {
        "Kiosk": "/kiosk/",
        "Simulated card reader": "/kiosk/dev/cards",
        "Sign in": "/login",
        "Desk": "/desk/",
        "Board": "/board/",
        "Status page": "/t/",
        "API": "/api/openapi.json",
        "Kiosks": "/ops/",
        "Back office": "/office/",
    }
    for href in links(html).values():
        assert client.get(href, follow_redirects=True).status_code == 200, href


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_landing_page_says_why_the_simulated_reader_is_not_linked(client):
    html = client.get("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}).get_data(as_text=True)
    assert "Simulated card reader" not in links(html) and "Sign in" in links(html)
    assert "<span>Simulated card reader</span>" in html
    assert "(only in the browser of the kiosk PC, on the kiosk&#39;s own port)" in html


def test_the_landing_page_with_a_real_reader(tmp_path):
    app = make_app(tmp_path, site_variant(tmp_path, *PCSC_READER))
    html = app.test_client().get("/").get_data(as_text=True)
    assert "Simulated card reader" not in links(html)
    assert "(this site&#39;s card reader is a real one)" in html
