"""The kiosk screen's supervisor (kiosk-screen) with Debian's Chromium and `kiosk serve`: the
browser started before the app waits for it and then shows the kiosk; a restart ordered from
the facility dashboard's API restarts the browser; a page that stops reporting in (its
browser frozen) gets a new browser. And the rotation it gives Debian's cage turns the output."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from kiosk.screen import rotated
from tests.live import CHROMIUM, CHROMIUM_ARGS
from tests.system import (
    KIOSK,
    free_port,
    kiosk_env,
    missing,
    office_ready,
    require_debian_packages,
    stop_group,
    wait_until,
)

SCREEN = [sys.executable, "-m", "kiosk.screen"]


def supervisor_state(kiosk: str) -> dict | None:
    try:
        with urllib.request.urlopen(kiosk + "/kiosk/supervisor", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def browsers_started(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"browser started \(pid (\d+)\)", log.read_text())]


@pytest.mark.browser
def test_the_screen_waits_for_the_app_and_restarts_its_browser_when_asked_or_stuck(tmp_path):
    require_debian_packages("chromium")
    env = kiosk_env(KIOSK_DATA_DIR=str(tmp_path / "data"), KIOSK_NAME="hall-left")
    token = office_ready(env, "ops", "facility tool")
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


def test_a_rotation_is_cages_quarter_turns_after_cage_itself():
    command = ["/usr/bin/cage", "--", "/usr/bin/chromium", "--kiosk", "{start}"]
    assert rotated(command, 0) == command
    assert rotated(command, 90) == ["/usr/bin/cage", "-r", "--", "/usr/bin/chromium", "--kiosk", "{start}"]
    assert rotated(command, 270)[:5] == ["/usr/bin/cage", "-r", "-r", "-r", "--"]
    wrapped = ["dbus-run-session", "--", "cage", "--", "chromium"]
    assert rotated(wrapped, 180) == ["dbus-run-session", "--", "cage", "-r", "-r", "--", "chromium"]
    with pytest.raises(ValueError, match="rotation must be one of 0, 90, 180, 270"):
        rotated(command, 45)
    with pytest.raises(ValueError, match="no cage"):
        rotated(["chromium", "--kiosk"], 90)


def test_a_wrong_rotation_stops_kiosk_screen_with_the_reason():
    env = dict(os.environ, KIOSK_SCREEN_ROTATION="45")
    run = subprocess.run([*SCREEN, "--", "cage", "--", "true"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "KIOSK_SCREEN_ROTATION" in run.stderr and "45" in run.stderr, run.stderr


def test_cage_turns_its_output_as_the_rotation_says(tmp_path):
    """kiosk-screen with KIOSK_SCREEN_ROTATION=90 runs Debian's cage on its headless backend;
    the client it starts (wayland-info instead of Chromium) sees an output turned a quarter."""
    if os.geteuid() != 0:
        missing("cage runs as another user here (it refuses root): run the suite as root")
    require_debian_packages("cage", "xwayland", "wayland-utils")
    # Xwayland, which cage starts, makes its socket and lock in /tmp as the screen's user
    if stat.S_IMODE(os.stat("/tmp").st_mode) & 0o1777 != 0o1777:
        missing("Xwayland needs a /tmp anyone may write, with the sticky bit, as Debian sets it up")
    # the runtime directory, where cage makes its socket, is the screen user's own; not under
    # /tmp's pytest folders, which only root may enter
    runtime = Path(f"/run/snelbalie-test-{os.getpid()}")
    runtime.mkdir(mode=0o700)
    os.chown(runtime, 65534, 65534)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIOSK_SCREEN_ROTATION="90",
        XDG_RUNTIME_DIR=str(runtime),
        WLR_BACKENDS="headless",
        WLR_RENDERER="pixman",
        WLR_LIBINPUT_NO_DEVICES="1",
    )
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]  # the screen's user
    screen = [*SCREEN, "--url", f"http://127.0.0.1:{free_port()}", "--every", "0.2", "--", *nobody, "cage", "--"]
    log = tmp_path / "screen.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [*screen, "wayland-info"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: "output_transform: 90" in log.read_text(), timeout=30, what="wayland-info under cage")
    except AssertionError as timed_out:
        raise AssertionError(f"{timed_out}; its output:\n{log.read_text()[-3000:]}") from None
    finally:
        stop_group(process)
        shutil.rmtree(runtime, ignore_errors=True)
    shown = log.read_text()
    assert "logical_width: 720, logical_height: 1280" in shown  # the headless 1280x720, now portrait
