"""The supervisors' back office over a year of history.

    .venv/bin/python bench/office.py [--tickets 75000] [--requests 40] [--postgres URL]
                                     [--screenshots docs/screens]

Builds a year of business days (Monday to Friday, 75,000 tickets with their events, as the
queue engine writes them) in a temporary SQLite database, and in a fresh schema of PostgreSQL
when --postgres (default: KIOSK_TEST_POSTGRES_URL) names a server that answers. Then, per
database, prints:
1. the statistics page for the whole year, /office/stats, asked for by a signed-in supervisor
   through the Flask test client (p50/p95 over --requests requests, after one not counted;
   target: p95 under 300 ms), and its domain part alone (kiosk.stats.compute);
2. the same for the CSV export, /office/stats.csv;
3. outbox messages per second, written and sent to a real SMTP server on loopback.
With --screenshots, also saves office-stats.png and office-live.png there (Chromium against
a live server over the SQLite history, with someone waiting past the alarm).

Each measurement is a function taking the prepared office (`Office` below) and returning its
lines: one more is one more entry in MEASUREMENTS.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py would hide the standard library's `queue` module from this folder.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import sqlalchemy  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from kiosk import create_app  # noqa: E402
from kiosk.accounts.users import create_user  # noqa: E402
from kiosk.extensions import office  # noqa: E402
from kiosk.queue import QueueRules  # noqa: E402
from kiosk.schema import ticket_events, tickets  # noqa: E402
from kiosk.site import DEMO_PROFILE, load_site_profile  # noqa: E402
from kiosk.stats import History, Period, compute  # noqa: E402
from kiosk.storage import make_engine, migrate  # noqa: E402
from tests.clock import Clock  # noqa: E402  (the tests' settable clock)

LAST_DAY = dt.date(2026, 11, 20)  # a Friday: the history is the year up to it
NOW = dt.datetime(2026, 11, 23, 9, 15)  # the office's clock (UTC): the Monday after, 10:15 in Brussels
PASSWORD = "bench-bench-bench"
TODAY_TICKETS = 40
# local opening hours of the generated office, and its mix of visits
SPANS = ((dt.time(8, 30), dt.time(12, 30)), (dt.time(13, 30), dt.time(16, 0)))
MIX = {"pickup": 0.45, "activation": 0.25, "pin_reset": 0.2, "new_codes": 0.1}


# --- the history ---------------------------------------------------------------------------


def business_days(last: dt.date, days: int = 365) -> list[dt.date]:
    return [d for d in (last - dt.timedelta(days=n) for n in range(days - 1, -1, -1)) if d.weekday() < 5]


def build_history(engine, rules: QueueRules, total: int, last: dt.date = LAST_DAY, seed: int = 1) -> int:
    """`total` tickets over the year up to `last`, each with the events the queue engine writes
    for it: issued; called (some recalled, some parked and called again) and then finished or
    no-show; or left open and expired the next morning; or cancelled. Returns the events written."""
    rng = random.Random(seed)
    zone: ZoneInfo = rules.timezone
    days = business_days(last)
    services = [s for s in MIX if s in rules.services] or list(rules.services)
    weights = [MIX.get(s, 1.0) for s in services]
    serving = {s: [c for c, served in rules.counters.items() if s in served] or [1] for s in services}
    opening = sum((dt.datetime.combine(last, b) - dt.datetime.combine(last, a)).total_seconds() for a, b in SPANS)
    written = 0

    def utc(day: dt.date, open_s: float) -> dt.datetime:
        """The moment `open_s` seconds of opening time into the day."""
        for start, end in SPANS:
            length = (dt.datetime.combine(day, end) - dt.datetime.combine(day, start)).total_seconds()
            if open_s < length:
                break
            open_s -= length
        local = dt.datetime.combine(day, start, zone) + dt.timedelta(seconds=open_s)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    for n, day in enumerate(days):
        with engine.begin() as conn:  # a day at a time: no connection is held for long (kiosk.storage.Watchdog)
            count = total // len(days) + (1 if n < total % len(days) else 0)
            arrivals = sorted(rng.uniform(0, opening) for _ in range(count))
            numbers: dict[str, int] = {}
            rows, plans = [], []
            for local_s in arrivals:
                service = rng.choices(services, weights)[0]
                letter = rules.services[service].letter
                numbers[letter] = numbers.get(letter, 0) + 1
                arrived = utc(day, local_s)
                fate = rng.random()
                wait = dt.timedelta(seconds=min(rng.expovariate(1 / 540), 5400))
                minutes = rules.services[service].default_seconds / 60
                served = dt.timedelta(seconds=max(30.0, rng.lognormvariate(0, 0.4) * minutes * 60))
                counter = rng.choice(serving[service])
                plan: list[tuple[str, dt.datetime, int | None]] = [("issued", arrived, None)]
                row = dict(
                    day=day,
                    number=f"{letter}{numbers[letter]:03d}",
                    service=service,
                    priority=0,
                    language="nl",
                    arrived_at=arrived,
                    status_token=secrets.token_urlsafe(9),
                    checkin=None,
                    counter=None,
                    called_at=None,
                    finished_at=None,
                )
                if fate < 0.03:  # still waiting at closing: expired the next morning
                    row["status"] = "expired"
                    morning = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(4), zone)
                    plan.append(("expired", morning.astimezone(dt.UTC).replace(tzinfo=None), None))
                elif fate < 0.05:
                    row.update(status="cancelled", finished_at=arrived + wait / 2)
                    plan.append(("cancelled", arrived + wait / 2, None))
                else:
                    called = arrived + wait
                    plan.append(("called", called, counter))
                    if fate < 0.06:  # parked a while, then called again
                        plan += [("parked", called + served / 2, counter), ("returned", called + served, None)]
                        called += served + dt.timedelta(minutes=5)
                        plan.append(("called", called, counter))
                    if fate < 0.12:
                        plan.append(("recalled", called + dt.timedelta(seconds=40), counter))
                    if fate < 0.17:
                        row.update(status="no_show", counter=counter, called_at=called)
                        row["finished_at"] = called + dt.timedelta(minutes=2)
                        plan.append(("no_show", row["finished_at"], counter))
                    else:
                        row.update(status="done", counter=counter, called_at=called, finished_at=called + served)
                        plan += [
                            ("started", called + dt.timedelta(seconds=30), counter),
                            ("finished", called + served, counter),
                        ]
                rows.append(row)
                plans.append((service, plan))
            ids = conn.execute(insert(tickets).returning(tickets.c.id, sort_by_parameter_order=True), rows).scalars()
            events = [
                dict(ticket_id=ticket_id, at=at, kind=kind, service=service, counter=counter)
                for ticket_id, (service, plan) in zip(ids, plans, strict=True)
                for kind, at, counter in plan
            ]
            conn.execute(insert(ticket_events), events)
            written += len(events)
    return written


# --- the office under measurement ----------------------------------------------------------


@dataclass
class Office:
    """A prepared office: the app over a database with a year of history, and a supervisor."""

    name: str  # "SQLite" or "PostgreSQL"
    app: object
    client: object  # the Flask test client, signed in as a supervisor
    period: Period
    tickets: int
    events: int
    built_s: float


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(call: Callable[[], object], requests: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of `requests` calls."""
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, p(times, 0.95) * 1000


def stats_page(o: Office, requests: int) -> list[str]:
    """The page of a year: its first request counts every ticket; later ones only those of a day
    still open (today), as the app keeps what closed days counted (kiosk.stats.History)."""
    today = NOW.date()
    lines = []
    for label, period in (
        ("a past year", o.period),
        ("the year up to today", Period(today - dt.timedelta(days=364), today)),
    ):
        url = f"/office/stats?from={period.first}&to={period.last}"

        def page(url=url) -> bytes:
            response = o.client.get(url)
            assert response.status_code == 200, response.status_code
            return response.data

        started = time.perf_counter()
        size = len(page())
        first = time.perf_counter() - started
        p50, p95 = timed(page, requests)
        lines.append(
            f"/office/stats, {label} ({period.days} days, {o.tickets} tickets, {o.events} events) on {o.name}: "
            f"first request {first * 1000:.0f} ms, then p50 {p50:.0f} ms, p95 {p95:.0f} ms over {requests} "
            f"requests ({size // 1024} KB; target p95 < 300 ms)"
        )
    with o.app.app_context():
        queue = office.queue
        afresh = timed(lambda: compute(queue, o.period), max(3, requests // 8))
        kept = History(queue)
        kept.compute(o.period)
        warm = timed(lambda: kept.compute(o.period), requests)
    lines.append(
        f"  kiosk.stats for a past year: counted afresh p50 {afresh[0]:.0f} ms, p95 {afresh[1]:.0f} ms; "
        f"with the closed days kept p50 {warm[0]:.0f} ms, p95 {warm[1]:.0f} ms"
    )
    return lines


def stats_csv(o: Office, requests: int) -> list[str]:
    url = f"/office/stats.csv?from={o.period.first}&to={o.period.last}"
    o.client.get(url)
    p50, p95 = timed(lambda: o.client.get(url).data, requests)
    return [f"/office/stats.csv on {o.name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms"]


OUTBOX_MESSAGES = 300


def outbox_rate(o: Office, requests: int) -> list[str]:
    """Messages per second: written (each in its own transaction, as a code request's arrival
    writes one), then sent by one worker to a real SMTP server on loopback (aiosmtpd), one
    connection per message as kiosk.senders does."""
    from aiosmtpd.controller import Controller

    from kiosk import outbox
    from kiosk.senders import MailSender
    from kiosk.site import MailSettings
    from kiosk.storage import writing

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            Sink.received += 1
            return "250 OK"

    from tests.system import free_port

    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        settings = MailSettings(host="127.0.0.1", port=port, sender="burgerzaken@demostad.example", starttls=False)
        with o.app.app_context():
            engine, now = office.engine, office.clock()
            started = time.perf_counter()
            for n in range(OUTBOX_MESSAGES):
                with writing(engine) as conn:
                    outbox.enqueue(
                        conn,
                        channel="email",
                        address=f"citizen{n}@example.org",
                        language="nl",
                        template="codes_arrived",
                        params={},
                        now=now,
                    )
            written_s = time.perf_counter() - started
        worker = outbox.Worker(o.app, senders={"email": MailSender(settings, "Demostad", environ={})}, off={})
        started = time.perf_counter()
        while worker.work_once(limit=50):
            pass
        sent_s = time.perf_counter() - started
    finally:
        controller.stop()
    assert Sink.received == OUTBOX_MESSAGES, Sink.received
    return [
        f"outbox on {o.name}: {OUTBOX_MESSAGES} messages written at {OUTBOX_MESSAGES / written_s:.0f}/s, "
        f"sent by one worker over SMTP at {OUTBOX_MESSAGES / sent_s:.0f}/s"
    ]


MEASUREMENTS: list[Callable[[Office, int], list[str]]] = [stats_page, stats_csv, outbox_rate]


@contextlib.contextmanager
def databases(postgres: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """(name, URL) of each database to measure: SQLite, and PostgreSQL in a schema of its own."""
    found = [("SQLite", f"sqlite:///{tmp / 'office.sqlite3'}")]
    schema = f"bench_{secrets.token_hex(4)}"
    admin = None
    if postgres:
        admin = sqlalchemy.create_engine(postgres, connect_args={"connect_timeout": 3})
        try:
            with admin.begin() as conn:
                conn.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
        except sqlalchemy.exc.OperationalError as exc:
            print(f"PostgreSQL left out: {postgres} does not answer ({type(exc.orig).__name__})")
            admin.dispose()
            admin = None
        else:
            url = sqlalchemy.engine.make_url(postgres).set(query={"options": f"-csearch_path={schema}"})
            found.append(("PostgreSQL", url.render_as_string(hide_password=False)))
    try:
        yield found
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def sign_in(client, username: str) -> None:
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.status_code


@contextlib.contextmanager
def prepared(name: str, url: str, tmp: Path, total: int, clock: Clock) -> Iterator[Office]:
    site = load_site_profile(DEMO_PROFILE)
    engine = make_engine(url)
    try:
        migrate(engine)
        started = time.perf_counter()
        events = build_history(engine, QueueRules.from_site(site), total)
        if engine.dialect.name == "sqlite":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")  # as a long-running office's database would have
        built_s = time.perf_counter() - started
        create_user(engine, "supervisor", "supervisor", PASSWORD, clock())
    finally:
        engine.dispose()
    data = tmp / name.lower()
    app = create_app({"SITE": str(DEMO_PROFILE), "DATA_DIR": str(data), "DATABASE_URL": url, "CLOCK": clock})
    with app.app_context():  # today so far: some served, some waiting
        queue = office.queue
        for n in range(TODAY_TICKETS):
            queue.issue(list(MIX)[n % len(MIX)], language="nl")
        for n in range(TODAY_TICKETS // 2):
            queue.call_next(n % 3 + 1)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, "supervisor")
    try:
        yield Office(name, app, client, Period(LAST_DAY - dt.timedelta(days=364), LAST_DAY), total, events, built_s)
    finally:
        app.extensions["office"]["engine"].dispose()


# --- pictures ------------------------------------------------------------------------------


def screenshots(o: Office, clock: Clock, folder: Path) -> None:
    """/office/stats over the four weeks before today, and /office/live with today's citizens waiting
    past the alarm."""
    from playwright.sync_api import expect, sync_playwright

    from tests.live import CHROMIUM, CHROMIUM_ARGS, LiveServer

    clock.advance(minutes=36)  # today's citizens still waiting have waited past the alarm's 30 minutes
    server = LiveServer(o.app)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en").new_page()
            page.goto(f"{server.url}/login?next=/office/stats")
            page.get_by_label("User name").fill("supervisor")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            first = LAST_DAY - dt.timedelta(days=27)
            page.goto(f"{server.url}/office/stats?from={first}&to={LAST_DAY}")
            page.screenshot(path=str(folder / "office-stats.png"), full_page=True)
            page.goto(f"{server.url}/office/live")
            expect(page.get_by_role("alert")).to_be_visible(timeout=5000)
            expect(page.locator("#waiting-total")).not_to_have_text("–")
            page.screenshot(path=str(folder / "office-live.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
    print(f"screenshots in {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=75_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--postgres", default=os.environ.get("KIOSK_TEST_POSTGRES_URL", ""))
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="snelbalie-office-") as tmp, databases(args.postgres, Path(tmp)) as found:
        for name, url in found:
            clock = Clock(NOW)
            with prepared(name, url, Path(tmp), args.tickets, clock) as o:
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"{name}: {o.tickets} tickets and {o.events} events written in {o.built_s:.1f} s (load {load})")
                for measure in MEASUREMENTS:
                    for line in measure(o, args.requests):
                        print(line, flush=True)
                if args.screenshots and name == "SQLite":
                    args.screenshots.mkdir(parents=True, exist_ok=True)
                    screenshots(o, clock, args.screenshots)


if __name__ == "__main__":
    main()
