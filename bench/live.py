"""Live screens under load: call-to-screen latency and the server's CPU with 100 open screens.

Starts `kiosk serve` on a free port with a fresh data directory, opens simulated screens that
poll /live/version with If-None-Match like static/live.js does (and fetch their data when it
moves, as the board and status page do), then calls tickets from a desk token and measures,
for every screen and call, the time from sending the call until that screen has seen the new
version and fetched what it shows. The server's CPU comes from /proc/<pid>/stat.

    .venv/bin/python bench/live.py [--screens 100] [--calls 20] [--interval 0.5]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path, and bench/queue.py would stand in for the
# standard library's queue (which psycopg imports).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
KIOSK = [sys.executable, "-m", "kiosk.cli"]
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


class Screen(threading.Thread):
    """One open board or status page: a kept-alive connection, a poll every `interval`."""

    def __init__(self, port: int, interval: float, data_path: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.interval, self.data_path, self.stop = port, interval, data_path, stop
        self.seen: list[tuple[float, int]] = []  # (when its data was in, version) per change
        self.requests = 0
        self.errors = 0

    def get(self, conn, path, headers=None):
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        self.requests += 1
        return response, body

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        etag = None
        next_poll = time.monotonic() + random.uniform(0, self.interval)  # screens open at random times
        while not self.stop.is_set():
            time.sleep(max(0.0, next_poll - time.monotonic()))
            try:
                response, body = self.get(conn, "/live/version", {"If-None-Match": etag} if etag else {})
                if response.status == 200:
                    etag = response.getheader("ETag")
                    self.get(conn, self.data_path)  # what the screen shows comes with this
                    self.seen.append((time.monotonic(), json.loads(body)["version"]))
            except (OSError, http.client.HTTPException):
                self.errors += 1
                conn.close()
            # like setTimeout after each answer in static/live.js
            next_poll = time.monotonic() + self.interval


def request(port: int, method: str, path: str, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@contextlib.contextmanager
def database(postgres_url: str | None):
    """None (SQLite in the data directory), or a PostgreSQL schema made for this run."""
    if not postgres_url:
        yield None
        return
    from sqlalchemy import create_engine, text

    schema = f"bench_{os.getpid()}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{postgres_url}{'&' if '?' in postgres_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument(
        "--boards",
        type=int,
        default=10,
        help="of the screens, how many are boards (fetch /api/queue on a change); the rest are status pages",
    )
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="poll interval (static/live.js: 0.5)")
    parser.add_argument("--idle-seconds", type=float, default=20, help="CPU window with polling only")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument(
        "--postgres", metavar="URL", help="run on a fresh schema of this PostgreSQL database instead of an SQLite file"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="snelbalie-bench-") as data_dir, database(args.postgres) as url:
        env = dict(os.environ, KIOSK_DATA_DIR=data_dir, PYTHONPATH=str(ROOT))
        env.pop("KIOSK_DATABASE_URL", None)
        if url:
            env["KIOSK_DATABASE_URL"] = url
        subprocess.run([*KIOSK, "init-db"], env=env, check=True, capture_output=True, cwd=ROOT)
        token, kiosk_token = (
            subprocess.run(
                [*KIOSK, "token", "create", "--role", role, "--name", f"bench {role}"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout.strip()
            for role in ("desk", "kiosk")
        )
        port = free_port()
        server = subprocess.Popen(
            [*KIOSK, "serve", "--port", str(port), "--no-kiosk", "--threads", str(args.threads)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            run(args, port, token, kiosk_token, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=10)


def run(args, port: int, token: str, kiosk_token: str, pid: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            request(port, "GET", "/live/version")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)

    # A waiting line long enough for every call; a status page follows one of these tickets.
    services = ["pickup", "activation", "pin_reset"]
    status_paths = []
    for i in range(args.calls + args.screens):
        _, ticket = request(port, "POST", "/api/tickets", {"service": services[i % 3]}, kiosk_token)
        status_paths.append("/t/" + ticket["status_url"].rsplit("/", 1)[1] + "/status")
    for counter in (1, 2, 3):
        request(port, "POST", f"/api/counters/{counter}/open", {}, token)

    stop = threading.Event()
    screens = [
        Screen(port, args.interval, "/api/queue" if i < args.boards else status_paths[-1 - i], stop)
        for i in range(args.screens)
    ]
    for screen in screens:
        screen.start()
    time.sleep(3)  # every screen has made its first poll and fetched its data

    requests_before = sum(s.requests for s in screens)
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    time.sleep(args.idle_seconds)
    idle_cpu = cpu_seconds(pid) - cpu_before
    idle_wall = time.monotonic() - wall_before
    idle_requests = sum(s.requests for s in screens) - requests_before

    calls = []  # (sent at, version after the call)
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    for i in range(args.calls):
        time.sleep(random.uniform(1.5, 2.5))  # not in step with the screens' polls
        sent = time.monotonic()
        status, _ = request(port, "POST", f"/api/counters/{1 + i % 3}/call-next", token=token)
        assert status == 200, status
        _, overview = request(port, "GET", "/api/queue")
        calls.append((sent, overview["version"]))
    time.sleep(1.5)
    call_cpu = cpu_seconds(pid) - cpu_before
    call_wall = time.monotonic() - wall_before
    stop.set()
    for screen in screens:
        screen.join(timeout=15)

    latencies, missed = [], 0
    for sent, version in calls:
        for screen in screens:
            seen = [when for when, v in screen.seen if v >= version and when >= sent]
            if seen:
                latencies.append(min(seen) - sent)
            else:
                missed += 1
    errors = sum(s.errors for s in screens)
    print(
        f"screens: {args.screens} ({args.boards} boards, {args.screens - args.boards} status pages), "
        f"poll every {args.interval * 1000:.0f} ms, waitress threads: {args.threads}, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}"
    )
    print(
        f"calls: {len(calls)}; observations (screen x call): {len(latencies)}, missed: {missed}, "
        f"request errors: {errors}"
    )
    print(
        "call-to-screen latency (call sent -> new version seen and the screen's data fetched): "
        f"p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
        f"(mean {statistics.fmean(latencies) * 1000:.0f} ms)"
    )
    print(
        f"server CPU, screens polling only: {idle_cpu / idle_wall * 60:.1f} CPU s per minute "
        f"({idle_requests / idle_wall:.0f} requests/s)"
    )
    print(f"server CPU, screens polling + a call every ~2 s: {call_cpu / call_wall * 60:.1f} CPU s per minute")


if __name__ == "__main__":
    main()
