"""Hostile input and faults against a running `kiosk demo` (and, with PostgreSQL, `kiosk serve`).

    .venv/bin/python bench/abuse.py [--idle 1500] [--postgres URL]

Prints:
1. the time to refuse a 256 KB contact field (and a 60 KB one, under the body limit, that
   the form refuses), and another client's p95 on the office's listener meanwhile;
2. the kiosk page's p95 on the kiosk's listener, alone and with --idle idle connections
   held open on the office's listener;
3. the p95 of issuing a ticket (one every 20 ms) while `kiosk pickups import` loads a
   100,000-row file into the same SQLite database;
4. with PostgreSQL (--postgres or KIOSK_TEST_POSTGRES_URL): the seconds from the thaw of a
   database that hung (a proxy that stops passing data) to the first ticket issued, and the
   duplicate tickets after 100 issues, each retried by its client until it got an answer,
   while the database hangs and thaws every few seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py would hide the standard library's `queue`; the tests' proxy lives in the checkout
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from kiosk.storage import HELD_S  # noqa: E402
from tests.netproxy import TcpProxy  # noqa: E402  (the same freezing proxy the tests use)

KIOSK = [sys.executable, "-m", "kiosk.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


class Browser:
    """One client with its own cookies."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def open(self, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@contextlib.contextmanager
def started(command: list[str], env: dict, url: str):
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"{' '.join(command[2:4])} did not start") from None
                threading.Event().wait(0.05)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def refusals(office: str, kiosk: str) -> None:
    screen = Browser(kiosk)
    screen.open("/kiosk/visit?lang=en")
    screen.open("/kiosk/identify?visit=new_codes")
    body = json.dumps({"card": "type-h"}).encode()
    screen.open("/kiosk/dev/cards/insert", body, {"Content-Type": "application/json"})
    _, page = screen.open("/kiosk/check")
    form = {
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1),
        "flow_id": re.search(r'name="flow_id"[^>]*value="([^"]+)"', page).group(1),
    }
    other = Browser(office)
    for size_kb in (256, 60):
        stop, latencies = threading.Event(), []

        def poll(stop=stop, latencies=latencies):
            while not stop.is_set():
                began = time.perf_counter()
                other.open("/kiosk/health")
                latencies.append(time.perf_counter() - began)

        poller = threading.Thread(target=poll)
        poller.start()
        took, statuses = [], set()
        try:
            for _ in range(20):
                data = urllib.parse.urlencode({**form, "contact": "a@" * (size_kb * 512)}).encode()
                began = time.perf_counter()
                status, _ = screen.open("/kiosk/check", data, {"Content-Type": "application/x-www-form-urlencoded"})
                took.append(time.perf_counter() - began)
                statuses.add(status)
        finally:
            stop.set()
            poller.join(timeout=30)
        print(
            f"{size_kb} KB contact field: refused ({'/'.join(map(str, sorted(statuses)))}) in median "
            f"{statistics.median(took) * 1000:.1f} ms, max {max(took) * 1000:.1f} ms; another client's "
            f"p95 meanwhile {p95(latencies) * 1000:.1f} ms"
        )


def kiosk_page_with_idle_connections(office_port: int, kiosk: str, idle: int) -> None:
    screen = Browser(kiosk)

    def kiosk_p95() -> float:
        took = []
        for _ in range(50):
            began = time.perf_counter()
            status, _ = screen.open("/kiosk/")
            assert status == 200, status
            took.append(time.perf_counter() - began)
        return p95(took)

    alone = kiosk_p95()
    held = [socket.create_connection(("127.0.0.1", office_port), timeout=10) for _ in range(idle)]
    try:
        crowded = kiosk_p95()
    finally:
        for sock in held:
            sock.close()
    print(f"kiosk page p95: {alone * 1000:.1f} ms alone, {crowded * 1000:.1f} ms with {idle} idle office connections")


def issue_during_import(tmp: Path, rows: int = 100_000) -> None:
    import datetime as dt

    from kiosk.clock import OfficeClock
    from kiosk.queue import QueueEngine, QueueRules
    from kiosk.site import DEMO_PROFILE, load_site_profile
    from kiosk.storage import make_engine, migrate

    data = tmp / "import"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["KIOSK_DATA_DIR"] = str(data)
    subprocess.run([*KIOSK, "init-db"], env=env, check=True, capture_output=True, timeout=120)
    engine = make_engine(f"sqlite:///{data / 'kiosk.sqlite3'}")
    migrate(engine)
    queue = QueueEngine(engine, QueueRules.from_site(load_site_profile(DEMO_PROFILE)), OfficeClock(engine))
    arrived = (queue.today() - dt.timedelta(days=3)).isoformat()
    lines = [f'B{i:09d},85073003328,"Testperson, {i}",Kast A,{arrived}' for i in range(rows)]
    (data / "cards.csv").write_text("card_number,national_number,name,storage,arrived_on\n" + "\n".join(lines) + "\n")
    try:
        queue.issue("pickup", language="nl")
    except Exception as exc:  # noqa: BLE001  (a closed office: said, and nothing to measure)
        print(f"issue during a {rows:,}-row import: not measured ({type(exc).__name__}: {exc})")
        return
    importer = subprocess.Popen(
        [*KIOSK, "pickups", "import", str(data / "cards.csv")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    took, due, pause = [], time.perf_counter(), threading.Event()
    while importer.poll() is None:
        if time.perf_counter() < due:
            pause.wait(due - time.perf_counter())
            continue
        queue.issue("pickup", language="nl")
        took.append(time.perf_counter() - due)  # from when it was due: a stall delays all due meanwhile
        due += 0.020
    engine.dispose()
    print(
        f"issue during a {rows:,}-row pickup import: p95 {p95(took) * 1000:.1f} ms, max {max(took) * 1000:.0f} ms "
        f"over {len(took)} tickets (import exit {importer.returncode})"
    )


def hung_database(postgres: str, tmp: Path) -> None:
    import sqlalchemy

    schema = f"bench_{secrets.token_hex(4)}"
    admin = sqlalchemy.create_engine(postgres)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    try:
        url = sqlalchemy.engine.make_url(postgres)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        through = url.set(host="127.0.0.1", port=proxy.port, query={"options": f"-csearch_path={schema}"})
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        env.update(KIOSK_DATA_DIR=str(tmp / "pg"), KIOSK_DATABASE_URL=through.render_as_string(hide_password=False))
        subprocess.run([*KIOSK, "init-db"], env=env, check=True, capture_output=True, timeout=120)
        office, kiosk = free_port(), free_port()
        serve = [*KIOSK, "serve", "--port", str(office), "--kiosk-port", str(kiosk)]
        with started(serve, env, f"http://127.0.0.1:{office}/kiosk/health"):
            issue_url = f"http://127.0.0.1:{kiosk}/api/tickets"

            def issue(timeout: float, key: str | None = None) -> int | None:
                headers = {"Content-Type": "application/json"} | ({"Idempotency-Key": key} if key else {})
                request = urllib.request.Request(issue_url, json.dumps({"service": "pickup"}).encode(), headers)
                try:
                    with urllib.request.urlopen(request, timeout=timeout) as response:
                        return response.status
                except urllib.error.HTTPError as exc:
                    return exc.code
                except OSError:
                    return None  # the client's own time-out

            assert issue(10) == 201
            proxy.freeze()
            threading.Event().wait(5)
            proxy.thaw()
            thawed = time.monotonic()
            while issue(10) != 201:
                pass
            print(f"first ticket {time.monotonic() - thawed:.2f} s after the database thawed")

            stop = threading.Event()

            def weather():
                while not stop.is_set():
                    proxy.freeze()
                    stop.wait(3)
                    proxy.thaw()
                    stop.wait(2)

            def tickets() -> int:
                with admin.connect() as conn:
                    return conn.execute(sqlalchemy.text(f"SELECT count(*) FROM {schema}.tickets")).scalar_one()

            for with_key in (False, True):
                before, retries = tickets(), 0
                storm = threading.Thread(target=weather)
                stop.clear()
                storm.start()
                try:
                    for n in range(100):
                        key = f"bench-{n}" if with_key else None
                        while issue(2, key) not in (200, 201):  # a client that retries after its own 2 s
                            retries += 1
                finally:
                    stop.set()
                    storm.join(timeout=30)
                    proxy.thaw()
                threading.Event().wait(HELD_S + 2)  # what was still under way ends, one way or the other
                how = "with an Idempotency-Key" if with_key else "without a key"
                print(
                    f"duplicate tickets after 100 issues {how}, retried {retries} times during freezes: "
                    f"{tickets() - before - 100}"
                )
        proxy.close()
    finally:
        with admin.begin() as conn:
            conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=1500)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * args.idle + 200
    if hard != resource.RLIM_INFINITY and hard < wanted:
        raise SystemExit(f"--idle {args.idle} needs {wanted} open files; the limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))  # the server inherits it
    with tempfile.TemporaryDirectory(prefix="snelbalie-abuse-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        env["KIOSK_DATA_DIR"] = str(Path(tmp) / "demo")
        office, kiosk = free_port(), free_port()
        demo = [*KIOSK, "demo", "--port", str(office), "--kiosk-port", str(kiosk)]
        with started(demo, env, f"http://127.0.0.1:{office}/kiosk/health"):
            refusals(f"http://127.0.0.1:{office}", f"http://127.0.0.1:{kiosk}")
            kiosk_page_with_idle_connections(office, f"http://127.0.0.1:{kiosk}", args.idle)
        issue_during_import(Path(tmp))
        if args.postgres:
            hung_database(args.postgres, Path(tmp))
        else:
            print("hung database: skipped (no PostgreSQL: --postgres or KIOSK_TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
