"""The kiosk screen's supervisor (kiosk-screen) with Debian's Chromium and `kiosk serve`: the
browser started before the app waits for it and then shows the kiosk; a restart ordered from
the facility dashboard's API restarts the browser; a page that stops reporting in (its
browser frozen) gets a new browser."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.live import CHROMIUM, CHROMIUM_ARGS
from tests.system import free_port, require_debian_packages, stop_group, wait_until

pytestmark = pytest.mark.browser
KIOSK = [sys.executable, "-m", "kiosk.cli"]
SCREEN = [sys.executable, "-m", "kiosk.screen"]


def supervisor_state(kiosk: str) -> dict | None:
    try:
        with urllib.request.urlopen(kiosk + "/kiosk/supervisor", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def browsers_started(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"browser started \(pid (\d+)\)", log.read_text())]


def test_the_screen_waits_for_the_app_and_restarts_its_browser_when_asked_or_stuck(tmp_path):
    require_debian_packages("chromium")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_DATA_DIR=str(tmp_path / "data"), KIOSK_NAME="hall-left")
    subprocess.run([*KIOSK, "init-db"], env=env, check=True, capture_output=True, timeout=120)
    token = subprocess.run(
        [*KIOSK, "token", "create", "--role", "ops", "--name", "facility tool"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()
    office, port = free_port(), free_port()
    kiosk = f"http://127.0.0.1:{port}"
    browser = [CHROMIUM, *CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'profile'}", "{start}"]
    screen_log = tmp_path / "screen.log"
    with open(screen_log, "w") as out:  # the screen first, as at a kiosk PC's boot
        screen = subprocess.Popen(
            [*SCREEN, "--url", kiosk, "--every", "0.5", "--silent", "3", "--", *browser],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = None
    try:
        wait_until(lambda: browsers_started(screen_log), timeout=30, what="the browser started")
        with open(tmp_path / "serve.log", "w") as out:
            app = subprocess.Popen(
                [*KIOSK, "serve", "--port", str(office), "--kiosk-port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def alive():
            state = supervisor_state(kiosk)
            return state is not None and state["screen_alive"] is True

        wait_until(alive, timeout=60, interval=0.2, what="the waiting page to go to the kiosk and report in")
        assert len(browsers_started(screen_log)) == 1

        request = urllib.request.Request(
            f"http://127.0.0.1:{office}/api/kiosks/hall-left/restart",
            json.dumps({"what": "browser"}).encode(),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        wait_until(lambda: len(browsers_started(screen_log)) == 2, timeout=30, what="the browser restarted")
        wait_until(alive, timeout=60, interval=0.2, what="the new browser's page to report in")

        os.killpg(browsers_started(screen_log)[-1], signal.SIGSTOP)  # frozen: its page asks no more
        wait_until(lambda: len(browsers_started(screen_log)) == 3, timeout=60, what="the stuck browser replaced")
        assert "the kiosk's page stopped reporting in" in screen_log.read_text()
        wait_until(alive, timeout=60, interval=0.2, what="the page reporting in again")
    finally:
        stop_group(screen, timeout_s=30)
        if app is not None:
            stop_group(app)
    assert "browser ended" not in screen_log.read_text()  # every restart was the supervisor's own
