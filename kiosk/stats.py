"""Statistics for supervisors over a period of business days, and the wait alarm of the live view.

What is counted, all from the tickets and their events (kept as history; check-in data is not read):
- issued: the tickets of the period's business days (`tickets.day`);
- waiting time: from arrival to the ticket's first call (its first `called` event). A ticket
  parked or transferred and called again keeps that first wait: it is the one the citizen sat
  through before anyone saw them. A ticket never called has none;
- service time: from the call that ended in the finish to the finish (`called_at` to
  `finished_at` of the tickets done);
- no-shows, and tickets left at closing: still open when their day ended (expired by
  QueueEngine.close_past_days).
Per hour is the hour of arrival in the site's time zone; per service, the service a ticket
ended in (a transfer moves it); per counter, the counter a ticket ended at (done or no-show).

The median is the middle value (the mean of the two middle ones for an even count); the 90th
percentile is the nearest rank: the shortest time that 90 % of the tickets did not exceed,
always a time that was measured. Both are computed here, in Python, from rows that are the same
on SQLite and PostgreSQL: one code path, no dialect's percentile function. Counting a year of a
busy office (75,000 tickets) that way takes most of a second, so History keeps what closed days
counted (bench/office.py measures both).
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import bindparam, func, select

from .queue import QueueEngine, QueueRules
from .queue.engine import DONE, EXPIRED, NO_SHOW, OPEN_STATES, WAITING
from .schema import ticket_events, tickets
from .site import SiteProfile

MAX_DAYS = 366  # a year, leap day included: what a page is measured for (bench/office.py)
P90 = 90
Key = TypeVar("Key", str, int)


class PeriodError(ValueError):
    """A period that cannot be shown; `kind` says why: "reversed" or "too_long"."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Period:
    """Business days from `first` to `last`, both included."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise PeriodError("reversed", f"{self.last} is before {self.first}")
        if self.days > MAX_DAYS:
            raise PeriodError("too_long", f"{self.days} days is more than {MAX_DAYS}")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range(self.days)]


def median(ordered: Sequence[float]) -> float | None:
    """The middle of sorted values; None for none."""
    n = len(ordered)
    if not n:
        return None
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(ordered: Sequence[float], percent: int) -> float | None:
    """Nearest rank of sorted values: the smallest one that `percent` % of them do not exceed."""
    n = len(ordered)
    if not n:
        return None
    rank = (percent * n + 99) // 100  # ceil(percent * n / 100) in integers: 0.9 * 70 is 63.00000000000001
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Spread:
    """Durations in seconds: how many were measured, their median and 90th percentile."""

    count: int
    median_s: float | None
    p90_s: float | None

    @classmethod
    def of(cls, ordered: Sequence[float]) -> Spread:
        return cls(len(ordered), median(ordered), percentile(ordered, P90))


@dataclass(frozen=True)
class Figures:
    issued: int  # per counter: the tickets that ended there
    served: int  # done
    no_shows: int
    left_at_closing: int  # expired: still open when the day ended
    wait: Spread  # arrival to first call
    service: Spread  # call to finish, of the tickets served

    @property
    def other(self) -> int:
        """Neither served, nor a no-show, nor left: cancelled, or still open today."""
        return self.issued - self.served - self.no_shows - self.left_at_closing


@dataclass(frozen=True)
class Statistics:
    period: Period
    total: Figures
    by_day: dict[dt.date, Figures]  # every open day of the period, and every day with tickets
    by_hour: dict[int, Figures]  # local hour of arrival, from the first to the last with tickets
    by_service: dict[str, Figures]  # the site's services in its order, then any others with tickets
    by_counter: dict[int, Figures]  # the site's counters in its order, then any others with tickets


class _Tally:
    """Figures being counted: plain attributes, as this runs for every ticket of the period."""

    __slots__ = ("issued", "served", "no_shows", "left", "waits", "services")

    def __init__(self) -> None:
        self.issued = self.served = self.no_shows = self.left = 0
        self.waits: list[float] = []
        self.services: list[float] = []

    def add(self, other: _Tally) -> None:
        self.issued += other.issued
        self.served += other.served
        self.no_shows += other.no_shows
        self.left += other.left
        self.waits += other.waits
        self.services += other.services

    def figures(self) -> Figures:
        # sorted copies: a kept day's lists are merged again by later periods
        return Figures(
            self.issued,
            self.served,
            self.no_shows,
            self.left,
            Spread.of(sorted(self.waits)),
            Spread.of(sorted(self.services)),
        )


@dataclass
class _Day:
    """One business day's tallies: all its tickets, and per hour, service and counter."""

    tickets: tuple[int, int]  # how many, and the newest id: what tells a kept day is still the same
    closed: bool  # a past day with no ticket open: it can change no more
    counted: _Tally = field(default_factory=_Tally)
    hours: defaultdict[int, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    services: defaultdict[str, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    counters: defaultdict[int, _Tally] = field(default_factory=lambda: defaultdict(_Tally))

    @functools.cached_property
    def figures(self) -> Figures:
        return self.counted.figures()


_TICKETS = select(
    tickets.c.id,
    tickets.c.day,
    tickets.c.service,
    tickets.c.status,
    tickets.c.counter,
    tickets.c.arrived_at,
    tickets.c.called_at,
    tickets.c.finished_at,
).where(tickets.c.day.in_(bindparam("days", expanding=True)))
# `called_at` is the latest call. Only a ticket put back in line (returned from parked, or
# transferred) is called again, so only those few need their events for the first call;
# reading the first call of every ticket from its events doubled the time of a year's query.
_CALLED_FIRST = (
    select(ticket_events.c.ticket_id, func.min(ticket_events.c.at))
    .where(
        ticket_events.c.kind == "called",
        ticket_events.c.ticket_id.in_(
            select(ticket_events.c.ticket_id)
            .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
            .where(
                ticket_events.c.kind.in_(("returned", "transferred")),
                tickets.c.day.in_(bindparam("days", expanding=True)),
            )
        ),
    )
    .group_by(ticket_events.c.ticket_id)
)
_DAYS = (
    select(tickets.c.day, func.count(), func.max(tickets.c.id))
    .where(tickets.c.day >= bindparam("first"), tickets.c.day <= bindparam("last"))
    .group_by(tickets.c.day)
)


def _local_hour(rules: QueueRules) -> Callable[[dt.datetime], int]:
    """The local hour of a UTC time, converted once per quarter of an hour: every time zone's
    offset is a whole number of quarters, and converting each of a year's tickets alone costs
    more than reading them."""
    known: dict[int, int] = {}

    def hour(utc: dt.datetime) -> int:
        quarter = utc.toordinal() * 96 + utc.hour * 4 + utc.minute // 15
        found = known.get(quarter)
        if found is None:
            found = known[quarter] = rules.local(utc).hour
        return found

    return hour


class History:
    """The figures of any period, from the queue's database, keeping what each closed day
    counted: a past day whose tickets are all done, no-show, cancelled or expired changes no
    more, so a year's page reads only today's tickets again, and one number per day that tells
    a kept day is unchanged (a restored backup, history written after). Measured with a year
    of 75,000 tickets (bench/office.py, a 2-core PC): counting them all takes 0.8 s; with the
    days kept, 15 ms for a past year and about 50 ms for one up to today.

    Only counts and durations are kept, never a ticket's identity: at most KEPT_DAYS days (about
    110 bytes per ticket, the oldest dropped first) and the closed days of the KEPT_PERIODS
    periods last asked for, merged."""

    KEPT_DAYS = 2 * MAX_DAYS
    KEPT_PERIODS = 4  # the periods last asked for, their closed days merged

    def __init__(self, queue: QueueEngine):
        self.queue = queue
        self._kept: dict[dt.date, _Day] = {}
        self._periods: dict[tuple, _Merged] = {}
        self._lock = threading.Lock()

    def compute(self, period: Period) -> Statistics:
        today = self.queue.rules.business_day(self.queue.clock())
        # Read, then count: a connection is not held while Python counts (kiosk.storage.Watchdog).
        with self.queue.reader.connect() as conn:
            found = {
                day: (count, newest)
                for day, count, newest in conn.execute(_DAYS, dict(first=period.first, last=period.last))
            }
            days = {d: kept for d in found if (kept := self._kept.get(d)) is not None and kept.tickets == found[d]}
            missing = [d for d in found if d not in days]
            rows = conn.execute(_TICKETS, dict(days=missing)).all() if missing else []
            first_calls = dict(conn.execute(_CALLED_FIRST, dict(days=missing)).all()) if missing else {}
        counted = self._count(rows, first_calls, found, today)
        self._keep({d: day for d, day in counted.items() if day.closed})
        return self._statistics(period, {**days, **counted})

    def _count(self, rows, first_calls: dict[int, dt.datetime], found: dict, today: dt.date) -> dict[dt.date, _Day]:
        hour_of = _local_hour(self.queue.rules)
        days: dict[dt.date, _Day] = {}
        for ticket_id, day, service, status, counter, arrived_at, called_at, finished_at in rows:
            into = days.get(day)
            if into is None:
                into = days[day] = _Day(found[day], day < today)
            first_call = first_calls.get(ticket_id, called_at)
            wait = None if first_call is None else (first_call - arrived_at).total_seconds()
            served = (finished_at - called_at).total_seconds() if status == DONE and called_at and finished_at else None
            if status in OPEN_STATES:
                into.closed = False
            tallies = [into.counted, into.hours[hour_of(arrived_at)], into.services[service]]
            if counter is not None and status in (DONE, NO_SHOW):
                tallies.append(into.counters[counter])
            for tally in tallies:
                tally.issued += 1
                if wait is not None:
                    tally.waits.append(wait)
                if served is not None:
                    tally.served += 1
                    tally.services.append(served)
                elif status == NO_SHOW:
                    tally.no_shows += 1
                elif status == EXPIRED:
                    tally.left += 1
        return days

    def _keep(self, closed: dict[dt.date, _Day]) -> None:
        for day in closed.values():
            for tally in (*day.hours.values(), *day.services.values(), *day.counters.values()):
                tally.waits.sort()  # merged again for every period: sorted runs merge fastest
                tally.services.sort()
        with self._lock:
            self._kept.update(closed)
            while len(self._kept) > self.KEPT_DAYS:
                del self._kept[next(iter(self._kept))]

    def _merged(self, period: Period, closed: dict[dt.date, _Day]) -> _Merged:
        """The closed days of the period merged, kept for the next pages of the same period:
        then only today's few tickets are merged into lists already sorted."""
        key = (period, tuple((d, closed[d].tickets) for d in sorted(closed)))
        merged = self._periods.get(key)
        if merged is None:
            merged = _Merged()
            for day in closed.values():
                merged.add(day)
            merged.sort()
            with self._lock:
                self._periods[key] = merged
                while len(self._periods) > self.KEPT_PERIODS:
                    del self._periods[next(iter(self._periods))]
        return merged

    def _statistics(self, period: Period, days: dict[dt.date, _Day]) -> Statistics:
        rules = self.queue.rules
        merged = self._merged(period, {d: day for d, day in days.items() if day.closed})
        if all(day.closed for day in days.values()):
            parts = merged.parts(rules)
        else:
            hours, services, counters = merged.copy()
            for day in days.values():
                if not day.closed:
                    _merge(hours, day.hours)
                    _merge(services, day.services)
                    _merge(counters, day.counters)
            parts = _parts(rules, hours, services, counters)
        empty = _Tally().figures()
        shown_days = sorted({*(d for d in period.dates() if _is_open_day(rules, d)), *days})
        return Statistics(
            period, parts[0], {d: days[d].figures if d in days else empty for d in shown_days}, *parts[1:]
        )


_Parts = tuple[Figures, dict[int, Figures], dict[str, Figures], dict[int, Figures]]


def _parts(rules: QueueRules, hours, services, counters) -> _Parts:
    """The total, and the figures per hour, service and counter, of merged tallies."""
    total = _Tally()
    for tally in services.values():  # every ticket has one service
        total.add(tally)
    shown_hours = range(min(hours), max(hours) + 1) if hours else range(0)
    return (
        total.figures(),
        {h: hours[h].figures() for h in shown_hours},
        {s: services[s].figures() for s in _in_order(rules.services, services)},
        {c: counters[c].figures() for c in _in_order(rules.counters, counters)},
    )


def _merge(into: defaultdict[Key, _Tally], tallies: dict[Key, _Tally]) -> None:
    for key, tally in tallies.items():
        into[key].add(tally)


class _Merged:
    """Days' tallies per hour, service and counter, added up."""

    def __init__(self) -> None:
        self.hours: defaultdict[int, _Tally] = defaultdict(_Tally)
        self.services: defaultdict[str, _Tally] = defaultdict(_Tally)
        self.counters: defaultdict[int, _Tally] = defaultdict(_Tally)
        self._parts: _Parts | None = None

    def add(self, day: _Day) -> None:
        _merge(self.hours, day.hours)
        _merge(self.services, day.services)
        _merge(self.counters, day.counters)

    def sort(self) -> None:
        for tally in (*self.hours.values(), *self.services.values(), *self.counters.values()):
            tally.waits.sort()
            tally.services.sort()

    def parts(self, rules: QueueRules) -> _Parts:
        """The figures of these days alone, worked out once: a past period asked for again."""
        if self._parts is None:
            self._parts = _parts(rules, self.hours, self.services, self.counters)
        return self._parts

    def copy(self) -> tuple[defaultdict[int, _Tally], defaultdict[str, _Tally], defaultdict[int, _Tally]]:
        """Fresh tallies to add to: what is kept is never changed."""
        return _copied(self.hours), _copied(self.services), _copied(self.counters)


def _copied(tallies: dict[Key, _Tally]) -> defaultdict[Key, _Tally]:
    fresh: defaultdict[Key, _Tally] = defaultdict(_Tally)
    _merge(fresh, tallies)
    return fresh


def compute(queue: QueueEngine, period: Period) -> Statistics:
    """The period's figures, all counted afresh."""
    return History(queue).compute(period)


def _is_open_day(rules: QueueRules, day: dt.date) -> bool:
    hours = rules.opening_hours
    return day not in hours.closed_dates and bool(hours.week.get(day.weekday()))


def _in_order(known: Iterable[Key], counted: Iterable[Key]) -> list[Key]:
    first = list(known)
    return first + sorted(set(counted) - set(first))


# --- now: who waits, and the alarm ----------------------------------------------------------


@dataclass(frozen=True)
class ServiceWait:
    service: str
    waiting: int
    oldest: dt.timedelta | None  # the longest wait of anyone waiting for it now


@dataclass(frozen=True)
class WaitAlarm:
    """On once someone has waited `threshold` or longer (the profile's `wait_alarm_minutes`)."""

    threshold: dt.timedelta
    oldest: dt.timedelta | None

    @property
    def on(self) -> bool:
        return self.oldest is not None and self.oldest >= self.threshold

    @property
    def due_in(self) -> dt.timedelta | None:
        """How long until it goes on if nobody is called meanwhile; None when on, or nobody waits."""
        return None if self.oldest is None or self.on else self.threshold - self.oldest


_WAITING_NOW = (
    select(tickets.c.service, func.count(), func.min(tickets.c.arrived_at))
    .where(tickets.c.day == bindparam("day"), tickets.c.status == WAITING)
    .group_by(tickets.c.service)
)


def waiting_now(queue: QueueEngine, now: dt.datetime | None = None) -> list[ServiceWait]:
    """Today's waiting tickets per service: the site's services, then any other with someone waiting."""
    now = queue.clock() if now is None else now
    with queue.reader.connect() as conn:
        found = {row[0]: row for row in conn.execute(_WAITING_NOW, dict(day=queue.rules.business_day(now)))}
    return [
        ServiceWait(s, found[s][1], max(now - found[s][2], dt.timedelta(0))) if s in found else ServiceWait(s, 0, None)
        for s in _in_order(queue.rules.services, found)
    ]


def longest(waits: Iterable[ServiceWait]) -> dt.timedelta | None:
    return max((w.oldest for w in waits if w.oldest is not None), default=None)


def oldest_wait(queue: QueueEngine, now: dt.datetime | None = None) -> dt.timedelta | None:
    """The longest wait of anyone waiting now; None when nobody waits."""
    return longest(waiting_now(queue, now))


def wait_alarm(site: SiteProfile, oldest: dt.timedelta | None) -> WaitAlarm:
    """E.g. `wait_alarm(office.site, oldest_wait(office.queue))`."""
    return WaitAlarm(dt.timedelta(minutes=site.wait_alarm_minutes), oldest)
