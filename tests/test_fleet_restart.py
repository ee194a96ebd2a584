"""An order reaches a kiosk instance through the database, and "restart the app" ends the
process for its supervisor to start again: here the test is that supervisor, as systemd is
on a kiosk PC (Restart=always)."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

from tests.system import KIOSK, free_port, kiosk_env, office_ready, stop_group, wait_until


class Supervisor:
    """Starts `kiosk serve` and starts it again whenever it ends, until stopped."""

    def __init__(self, command: list[str], env: dict, log: Path):
        self.command, self.env, self.log = command, env, log
        self.starts: list[int] = []  # the pids, in order
        self._stopping = threading.Event()
        self._process: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            with open(self.log, "a") as out:
                self._process = subprocess.Popen(
                    self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            self.starts.append(self._process.pid)
            self._process.wait()

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None:
            stop_group(self._process)
        self._thread.join(timeout=30)


def api(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


def test_a_restart_order_reaches_the_kiosk_and_its_supervisor_starts_it_again(tmp_path):
    env = kiosk_env(KIOSK_DATA_DIR=str(tmp_path / "data"), KIOSK_NAME="hall-left")
    token = office_ready(env, "ops", "facility tool")
    office, kiosk = free_port(), free_port()
    supervisor = Supervisor(
        [*KIOSK, "serve", "--port", str(office), "--kiosk-port", str(kiosk)], env, tmp_path / "serve.log"
    )
    try:
        kiosks = f"http://127.0.0.1:{office}/api/kiosks"

        def heartbeat_seen():
            status, body = api(kiosks, token)
            return status == 200 and [k for k in body["kiosks"] if k["name"] == "hall-left" and k["age_s"] < 5]

        wait_until(heartbeat_seen, timeout=60, interval=0.1, what="the kiosk's first heartbeat")
        assert len(supervisor.starts) == 1
        status, _ = api(f"{kiosks}/hall-left/restart", token, {"what": "app"})
        assert status == 202
        wait_until(lambda: len(supervisor.starts) == 2, timeout=30, interval=0.05, what="the app ending for a restart")
        wait_until(heartbeat_seen, timeout=60, interval=0.1, what="the restarted kiosk's heartbeat")
        assert len(supervisor.starts) == 2, (tmp_path / "serve.log").read_text()  # once, not in a loop
    finally:
        supervisor.stop()
