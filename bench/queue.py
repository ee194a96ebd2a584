"""Queue throughput and latency over HTTP against a running `kiosk serve`.

    .venv/bin/python bench/queue.py [--seconds 10] [--postgres URL]

For SQLite (a fresh file) and PostgreSQL (a fresh schema, when --postgres or
KIOSK_TEST_POSTGRES_URL is given) it starts `kiosk serve`, then runs 20 issuers and
10 counters calling next, each on its own keep-alive connection, against a database that
already holds a year of history (250 office days of 300 tickets, with their events):

1. saturation: every client sends its next request as soon as the last one answered;
   prints tickets/s and calls/s the server sustains;
2. paced: issuers at 10 tickets/s each (200/s in all), counters at 5 calls/s each, each
   with Poisson arrivals; prints p50/p95 of issue and call-next at that load.
"""

from __future__ import annotations

import sys

# This file's name hides the standard library's `queue` module from its own folder.
sys.path[:] = [p for p in sys.path if p != __import__("os").path.dirname(__file__)]

import argparse
import datetime as dt
import http.client
import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from kiosk.schema import ticket_events, tickets
from kiosk.storage import make_engine, writing

ROOT = Path(__file__).resolve().parent.parent
KIOSK = [sys.executable, "-m", "kiosk.cli"]
ISSUERS, CALLERS = 20, 10
HISTORY_DAYS, HISTORY_PER_DAY = 250, 300
SERVICES = ["pickup", "activation", "pin_reset", "new_codes"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_site(directory: Path) -> Path:
    """The demo profile with ten counters serving everything."""
    text = (ROOT / "kiosk" / "profiles" / "demo.toml").read_text(encoding="utf-8")
    text = (
        text[: text.index("[[counters]]")]
        + "".join(f"[[counters]]\nnumber = {n}\nservices = {json.dumps(SERVICES)}\n\n" for n in range(1, CALLERS + 1))
        + text[text.index("[opening_hours]") :]
    )
    path = directory / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def seed_history(database_url: str, days: int, per_day: int) -> None:
    """Past office days of finished tickets and their events, as a year in service leaves."""
    engine = make_engine(database_url, held_s=None)  # a year of history in one long transaction
    before = dt.date.today() - dt.timedelta(days=1)  # clear of the office's business day, whatever its reset hour
    shuffle = random.Random(1)
    with writing(engine) as conn:
        for back in range(days, 0, -1):
            day = before - dt.timedelta(days=back)
            opening = dt.datetime.combine(day, dt.time(8))
            rows = []
            for n in range(per_day):
                arrived = opening + dt.timedelta(seconds=n * 100)
                called = arrived + dt.timedelta(seconds=shuffle.randint(60, 1800))
                rows.append(
                    dict(
                        day=day,
                        number=f"{'ABCD'[n % 4]}{n // 4 + 1:03d}",
                        service=SERVICES[n % 4],
                        status="done",
                        priority=0,
                        language="nl",
                        counter=n % CALLERS + 1,
                        arrived_at=arrived,
                        called_at=called,
                        finished_at=called + dt.timedelta(seconds=shuffle.randint(60, 600)),
                        status_token=secrets.token_urlsafe(9),
                        checkin=None,
                    )
                )
            ids = conn.execute(insert(tickets).returning(tickets.c.id, sort_by_parameter_order=True), rows).scalars()
            conn.execute(
                insert(ticket_events),
                [
                    dict(
                        ticket_id=ticket_id,
                        at=row[at],
                        kind=kind,
                        service=row["service"],
                        counter=None if kind == "issued" else row["counter"],
                    )
                    for ticket_id, row in zip(ids, rows, strict=True)
                    for kind, at in (("issued", "arrived_at"), ("called", "called_at"), ("finished", "finished_at"))
                ],
            )
    with engine.connect() as conn:  # planner statistics, as a year of autovacuum would have left
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()


class Server:
    def __init__(self, database_url: str, directory: Path, threads: int = 8):
        self.port = free_port()
        self.env = dict(
            os.environ,
            KIOSK_SITE=str(bench_site(directory)),
            KIOSK_DATA_DIR=str(directory),
            KIOSK_DATABASE_URL=database_url,
        )
        subprocess.run([*KIOSK, "init-db"], env=self.env, check=True, capture_output=True)
        seed_history(database_url, HISTORY_DAYS, HISTORY_PER_DAY)
        self.desk_token, self.kiosk_token = (
            subprocess.run(
                [*KIOSK, "token", "create", "--role", role, "--name", f"bench {role}"],
                env=self.env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            for role in ("desk", "kiosk")
        )
        self.process = subprocess.Popen(
            [*KIOSK, "serve", "--port", str(self.port), "--no-kiosk", "--threads", str(threads)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("kiosk serve did not start") from None
                time.sleep(0.05)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Client:
    def __init__(self, port: int, headers: dict):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = {"Content-Type": "application/json", **headers}

    def post(self, path: str, body: dict | None = None) -> tuple[int, float]:
        start = time.perf_counter()
        self.conn.request("POST", path, body=json.dumps(body or {}), headers=self.headers)
        response = self.conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - start


def run(server: Server, seconds: float, issue_rate: float | None, call_rate: float | None):
    """Issuers and callers for `seconds`; rate None = as fast as the server answers."""
    results = {"issue": [], "call": []}
    failures = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(ISSUERS + CALLERS)

    def worker(kind: str, n: int):
        token = server.kiosk_token if kind == "issue" else server.desk_token
        client = Client(server.port, {"Authorization": f"Bearer {token}"})
        rate = issue_rate if kind == "issue" else call_rate
        arrivals = random.Random(n * 2 + (kind == "call"))
        start.wait()
        next_at = time.monotonic()
        mine, i = [], 0
        while time.monotonic() < stop_at:
            if rate:
                # Poisson arrivals, as from independent kiosks and desks: clients paced in
                # lockstep would all send at the same instant and measure their own queue.
                next_at += arrivals.expovariate(rate)
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)  # pacing an open-loop load generator, not waiting for a result
            if kind == "issue":
                status, took = client.post("/api/tickets", {"service": SERVICES[(n + i) % 4]})
                ok = status == 201
            else:
                status, took = client.post(f"/api/counters/{n}/call-next")
                ok = status in (200, 204)
            i += 1
            if not ok:
                failures.append(status)
            mine.append(took)
        with lock:
            results[kind].extend(mine)

    threads = [threading.Thread(target=worker, args=("issue", n)) for n in range(ISSUERS)]
    threads += [threading.Thread(target=worker, args=("call", n)) for n in range(1, CALLERS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, failures


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000 if len(values) > 1 else float("nan")


def report(name: str, server: Server, seconds: float):
    results, failures = run(server, seconds, None, None)
    print(
        f"{name} saturation: {len(results['issue']) / seconds:.0f} tickets/s, "
        f"{len(results['call']) / seconds:.0f} call-next/s "
        f"(issue p50 {percentile(results['issue'], 50):.1f} ms, p95 {percentile(results['issue'], 95):.1f} ms)"
        + (f", {len(failures)} failed: {sorted(set(failures))}" if failures else "")
    )
    results, failures = run(server, seconds, 10.0, 5.0)
    print(
        f"{name} paced (Poisson) 200 tickets/s + 50 calls/s: {len(results['issue']) / seconds:.0f} tickets/s; "
        f"issue p50 {percentile(results['issue'], 50):.1f} ms p95 {percentile(results['issue'], 95):.1f} ms; "
        f"call-next p50 {percentile(results['call'], 50):.1f} ms p95 {percentile(results['call'], 95):.1f} ms"
        + (f"; {len(failures)} failed: {sorted(set(failures))}" if failures else "")
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL"))
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of the server")
    args = parser.parse_args()
    print(
        f"bench/queue.py: {ISSUERS} issuers, {CALLERS} counters, {os.cpu_count()} cores, "
        f"kiosk serve --threads {args.threads}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        measure("sqlite", f"sqlite:///{tmp}/bench.sqlite3", args)
    if not args.postgres:
        print("postgres: skipped (give --postgres URL or set KIOSK_TEST_POSTGRES_URL)")
        return
    schema = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in args.postgres else "?"
    try:
        measure("postgres", f"{args.postgres}{sep}options=-csearch_path%3D{schema}", args)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def measure(name: str, database_url: str, args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(database_url, Path(tmp), args.threads)
        try:
            report(name, server, args.seconds)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
