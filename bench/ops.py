"""The fleet of kiosks: 50 kiosks heartbeating into one database, a facility dashboard on it.

    .venv/bin/python bench/ops.py [--kiosks 50] [--seconds 30] [--postgres URL]

Starts `kiosk serve` (one real kiosk, with its own heartbeat) and, in this process, 50 more
kiosks that each write a heartbeat every second into the same database (kiosk.fleet.beat,
as an instance does). Prints:
1. heartbeat to dashboard: from a kiosk's heartbeat being written until /api/kiosks shows
   it (p50/p95; the dashboard's page asks every 2 s on top of that);
2. out-of-service order to kiosk screen: from POST /api/kiosks/{name}/out-of-service until
   the real kiosk's screen state (/kiosk/screen, which its page asks twice a second) says
   out of service (p50/p95; target 2 s);
3. the CPU seconds per minute the fleet costs the dashboard's server (`kiosk serve`, its
   heartbeat and answering the dashboard every 2 s) and this process (the 50 heartbeats).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from kiosk import fleet  # noqa: E402
from kiosk.storage import make_engine  # noqa: E402
from tests.system import KIOSK, free_port, kiosk_env, office_ready  # noqa: E402  (as the tests start an office)


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def get(url: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return json.loads(response.read())


def post(url: str, token: str, body: dict) -> None:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    )
    urllib.request.urlopen(request, timeout=10).close()


@contextlib.contextmanager
def database(postgres: str, tmp: Path):
    if not postgres:
        yield f"sqlite:///{tmp / 'data' / 'kiosk.sqlite3'}"
        return
    import sqlalchemy

    schema = f"bench_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    try:
        url = sqlalchemy.engine.make_url(postgres).set(query={"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def run(args, url: str, tmp: Path) -> None:
    env = kiosk_env(KIOSK_DATA_DIR=str(tmp / "data"), KIOSK_DATABASE_URL=url, KIOSK_NAME="real-kiosk")
    token = office_ready(env, "ops", "bench ops")
    office, kiosk = free_port(), free_port()
    server = subprocess.Popen(
        [*KIOSK, "serve", "--port", str(office), "--kiosk-port", str(kiosk)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    engine = make_engine(url)
    stop = threading.Event()
    try:
        api = f"http://127.0.0.1:{office}/api/kiosks"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if any(k["name"] == "real-kiosk" for k in get(api, token)["kiosks"]):
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("kiosk serve did not start its heartbeat")
            stop.wait(0.1)

        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        state = {"reader": "waiting", "printer": {"online": True, "paper": "ok", "cover_open": False}, "reasons": []}

        def kiosk_life(name: str, marks: dict) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                fleet.beat(engine, name, {**state, "tickets_today": n}, "bench", started, now)
                marks[name] = (n, time.monotonic())
                stop.wait(1.0)

        marks: dict[str, tuple[int, float]] = {}
        lives = [threading.Thread(target=kiosk_life, args=(f"sim-{i:02d}", marks)) for i in range(args.kiosks)]
        began = time.monotonic()
        for life in lives:
            life.start()

        # 1. heartbeat to dashboard: one simulated kiosk followed, every heartbeat of it
        seen_after: list[float] = []
        probe = "sim-00"
        while time.monotonic() - began < args.seconds / 2:
            if probe not in marks:
                stop.wait(0.05)
                continue
            n, at = marks[probe]
            while time.monotonic() - at < 5:
                shown = {k["name"]: k["tickets_today"] for k in get(api, token)["kiosks"]}
                if shown.get(probe, 0) >= n:
                    break
            seen_after.append(time.monotonic() - at)
            while marks[probe][0] == n and time.monotonic() - at < 5:  # its next heartbeat
                stop.wait(0.01)

        # 2. out-of-service order to the kiosk's screen
        screen = f"http://127.0.0.1:{kiosk}/kiosk/screen"
        reached: list[float] = []
        while time.monotonic() - began < args.seconds:
            for kind, want in (("out-of-service", False), ("in-service", True)):
                ordered = time.monotonic()
                post(f"{api}/real-kiosk/{kind}", token, {"message": "bench"} if not want else {})
                while get(screen)["in_service"] is not want and time.monotonic() - ordered < 10:
                    stop.wait(0.02)
                reached.append(time.monotonic() - ordered)

        # 3. what the fleet costs, with the dashboard asking every 2 s (the loops above asked more)
        window_began, own0, server0 = time.monotonic(), cpu_s(os.getpid()), cpu_s(server.pid)
        while time.monotonic() - window_began < min(20.0, args.seconds):
            get(api, token)
            stop.wait(2.0)
        window = time.monotonic() - window_began
        server_per_min = (cpu_s(server.pid) - server0) / window * 60
        own_per_min = (cpu_s(os.getpid()) - own0) / window * 60

        print(
            f"{args.kiosks + 1} kiosks on {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}: "
            f"heartbeat to /api/kiosks p50 {statistics.median(seen_after) * 1000:.0f} ms, "
            f"p95 {p(seen_after, 0.95) * 1000:.0f} ms (the dashboard asks every 2 s on top)"
        )
        print(
            f"out-of-service order to kiosk screen state p50 {statistics.median(reached) * 1000:.0f} ms, "
            f"p95 {p(reached, 0.95) * 1000:.0f} ms over {len(reached)} orders (the page asks every 0.5 s on top)"
        )
        print(
            f"CPU per minute: kiosk serve (its heartbeat and the dashboard every 2 s) {server_per_min:.2f} s, "
            f"{args.kiosks} simulated heartbeats {own_per_min:.2f} s"
        )
    finally:
        stop.set()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="snelbalie-ops-") as tmp, database(args.postgres, Path(tmp)) as url:
        run(args, url, Path(tmp))


if __name__ == "__main__":
    main()
