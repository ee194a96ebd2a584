"""Prometheus metrics for facility staff: the office's queue, this instance's requests and devices.

The queue's figures are read from the database at scrape time, not counted in this process,
so every instance of an office reports the same truth and a restart loses nothing: in PromQL
take `max by (service)` over the instances. The request latencies and the devices are this
instance's own, labelled by route (never by path: a status token or a ticket id must not
become a label) and by the kiosk's name. No personal data: services, counts, seconds, states.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from .errors import describe
from .extensions import Devices
from .queue import QueueEngine
from .queue.engine import WAITING
from .schema import ticket_events, tickets

log = logging.getLogger(__name__)

PREFIX = "snelbalie"
# Requests take milliseconds; the card's long poll and a print wait up to their deadlines.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
NO_ROUTE = "none"  # a path no rule matched (a 404): its path is anybody's text

bp = Blueprint("metrics", __name__)


def kiosk_name() -> str:
    """The name this instance's devices are reported under."""
    return os.environ.get("KIOSK_NAME") or socket.gethostname()


class QueueCollector(Collector):
    """Today's tickets per service, read when scraped: three indexed queries on one connection."""

    def __init__(self, queue: QueueEngine):
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_database_up", "1 when this instance could read the queue for this scrape.")
        try:
            families = self._queue_families()
        except DBAPIError as exc:
            log.warning("metrics: queue not read: %s", describe(exc))
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _queue_families(self) -> list[Metric]:
        rules, now = self.queue.rules, self.queue.clock()
        day = rules.business_day(now)
        # The counters restart with each business day: their start tells Prometheus so.
        day_start = dt.datetime.combine(day, dt.time(rules.reset_hour), tzinfo=rules.timezone).timestamp()
        with self.queue.reader.connect() as conn:
            events = conn.execute(
                select(ticket_events.c.kind, ticket_events.c.service, func.count())
                .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
                .where(tickets.c.day == day, ticket_events.c.kind.in_(("issued", "called")))
                .group_by(ticket_events.c.kind, ticket_events.c.service)
            ).all()
            waiting = conn.execute(
                select(tickets.c.service, func.count(), func.min(tickets.c.arrived_at))
                .where(tickets.c.day == day, tickets.c.status == WAITING)
                .group_by(tickets.c.service)
            ).all()
        counts = {(kind, service): n for kind, service, n in events}
        lines = {service: (n, oldest) for service, n, oldest in waiting}
        issued = CounterMetricFamily(
            f"{PREFIX}_tickets_issued", "Tickets issued today (business day) per service.", labels=["service"]
        )
        called = CounterMetricFamily(
            f"{PREFIX}_tickets_called",
            "Tickets called to a counter today per service (recalls not counted).",
            labels=["service"],
        )
        people = GaugeMetricFamily(f"{PREFIX}_queue_waiting", "Tickets waiting now per service.", labels=["service"])
        oldest_wait = GaugeMetricFamily(
            f"{PREFIX}_queue_oldest_wait_seconds",
            "How long the longest waiting ticket has waited, per service (0: nobody waits).",
            labels=["service"],
        )
        # Every service of the site, also a quiet one: a series that appears late breaks rate().
        for service in sorted({*rules.services, *(s for _, s in counts), *lines}):
            issued.add_metric([service], counts.get(("issued", service), 0), created=day_start)
            called.add_metric([service], counts.get(("called", service), 0), created=day_start)
            n, since = lines.get(service, (0, None))
            people.add_metric([service], n)
            oldest_wait.add_metric([service], max((now - since).total_seconds(), 0.0) if since else 0.0)
        return [issued, called, people, oldest_wait]


class DeviceCollector(Collector):
    """This PC's card reader and ticket printer, as they last reported: only those the app has
    started (an office server without a kiosk has none), and never a call to the printer, so
    a scrape takes no device's time."""

    def __init__(self, devices: Devices):
        self.devices = devices

    def collect(self) -> Iterator[Metric]:
        name = kiosk_name()
        reader = self.devices.made_reader()
        if reader is not None:
            from hardware.card.reader_service import ReaderState

            current = reader.snapshot().state
            state = GaugeMetricFamily(
                f"{PREFIX}_reader_state", "The card reader's state: 1 for the current one.", labels=["kiosk", "state"]
            )
            for each in ReaderState:
                state.add_metric([name, str(each)], 1 if each == current else 0)
            yield state
        printer = self.devices.made_printer()
        status = printer.latest_status if printer is not None else None
        if status is None:
            return
        from hardware.printer.status import PAPER_STATES

        def gauge(metric: str, text: str, value: float) -> GaugeMetricFamily:
            family = GaugeMetricFamily(f"{PREFIX}_printer_{metric}", text, labels=["kiosk"])
            family.add_metric([name], value)
            return family

        yield gauge("online", "1 when the ticket printer reported itself online.", status.online)
        yield gauge("ready", "1 when the ticket printer could print a ticket.", status.ready)
        yield gauge("cover_open", "1 when the ticket printer's cover was open.", status.cover_open)
        paper = GaugeMetricFamily(
            f"{PREFIX}_printer_paper", "The ticket printer's paper: 1 for the current state.", labels=["kiosk", "paper"]
        )
        for kind in PAPER_STATES:
            paper.add_metric([name, kind], 1 if kind == status.paper else 0)
        yield paper
        yield gauge(
            "status_checked_timestamp_seconds",
            "When the printer's status was last seen (a ticket or the kiosk screen's check).",
            status.checked_at.timestamp(),
        )


def init_app(app: Flask) -> None:
    """A registry of the app's own: tests and tools that make several apps must not share one."""
    office = app.extensions["office"]
    registry = CollectorRegistry()
    registry.register(QueueCollector(office["queue"]))
    registry.register(DeviceCollector(office["devices"]))
    latency = Histogram(
        f"{PREFIX}_http_request_duration_seconds",
        "Time to answer a request, by route and status class.",
        ["endpoint", "status"],
        registry=registry,
        buckets=LATENCY_BUCKETS,
    )
    app.extensions["metrics"] = {"registry": registry, "latency": latency}

    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    # First of the hooks: one before it may refuse the request (CSRF, sign-in), which is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.endpoint if request.url_rule is not None and request.endpoint else NO_ROUTE
            latency.labels(endpoint, f"{response.status_code // 100}xx").observe(time.perf_counter() - started)
        return response


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; unauthenticated like /api/queue: counts and states only."""
    registry = current_app.extensions["metrics"]["registry"]
    return Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)
