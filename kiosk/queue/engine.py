"""The queue engine: tickets, numbering, calling and waits. Plain Python and SQLAlchemy.

Race safety comes from the database, not from locks in this process, so several app
instances can share one PostgreSQL:
- numbers come from an upsert on (day, letter) that returns the new value; a unique
  constraint on (day, number) backs it up;
- calling is one UPDATE of the oldest waiting ticket, picked with FOR UPDATE SKIP LOCKED
  (PostgreSQL) or inside a write transaction (BEGIN IMMEDIATE on SQLite), and the UPDATE
  re-checks the status, so a ticket is never called at two counters.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from statistics import fmean
from types import EllipsisType
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError

from kiosk.clock import Clock
from kiosk.schema import counter_states, issue_keys, number_sequences, ticket_events, tickets
from kiosk.storage import for_reading, writing

from .errors import (
    CounterHasTicket,
    InvalidTransition,
    OfficeClosed,
    ServiceDisabled,
    TicketNotFound,
    UnknownCounter,
    UnknownService,
)
from .rules import QueueRules

log = logging.getLogger(__name__)

WAITING, CALLED, SERVING, DONE = "waiting", "called", "serving", "done"
NO_SHOW, PARKED, CANCELLED, EXPIRED = "no_show", "parked", "cancelled", "expired"
OPEN_STATES = (WAITING, CALLED, SERVING, PARKED)
AT_COUNTER = (CALLED, SERVING)

# action -> (states it applies to, new state, event kind)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "recall": ((CALLED,), CALLED, "recalled"),
    "start": ((CALLED,), SERVING, "started"),
    "finish": (AT_COUNTER, DONE, "finished"),
    "no_show": ((CALLED,), NO_SHOW, "no_show"),
    "park": (AT_COUNTER, PARKED, "parked"),
    "return": ((PARKED,), WAITING, "returned"),
    "cancel": ((WAITING, PARKED), CANCELLED, "cancelled"),
}
TRANSFERABLE = OPEN_STATES
WAIT_INPUTS_TTL = dt.timedelta(seconds=5)
# Nobody is served in the first seconds after their call: a Call next that names the ticket
# called this recently is the same press again (a double click, a key bounce, a retry).
SAME_PRESS = dt.timedelta(seconds=3)
# Ids are 64-bit in both databases; a bigger number names no ticket (and SQLite could not
# even bind it).
MAX_ID = 2**63 - 1


def shown(value: object, limit: int = 40) -> str:
    """A caller's value in a message: quoted, and cut so a long one cannot fill the message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _next_number_statement(dialect):
    """INSERT ... ON CONFLICT DO UPDATE ... RETURNING: one atomic statement per number."""
    stmt = dialect.insert(number_sequences).values(day=bindparam("day"), letter=bindparam("letter"), last=1)
    return stmt.on_conflict_do_update(
        index_elements=["day", "letter"], set_={"last": number_sequences.c.last + 1}
    ).returning(number_sequences.c.last)


# Built once: issuing is the hot path and building SQL expressions costs more than running them.
_NEXT_NUMBER = {"sqlite": _next_number_statement(sqlite), "postgresql": _next_number_statement(postgresql)}
_NEW_TICKET_POSITION = (
    select(func.count())
    .select_from(tickets)
    .where(
        tickets.c.day == bindparam("day"),
        tickets.c.status == WAITING,
        tickets.c.service == bindparam("service"),
        tickets.c.priority >= bindparam("priority"),
    )
)


_LOAD = select(tickets).where(tickets.c.id == bindparam("ticket_id"))
_INSERT_EVENT = insert(ticket_events)
# What is at the counter when it calls the next one, locked on PostgreSQL: a second call at
# the same counter waits, then no longer finds the ticket the first one finished.
_HELD_AT_COUNTER = (
    select(tickets.c.id, tickets.c.service, tickets.c.called_at)
    .where(tickets.c.counter == bindparam("at_counter"), tickets.c.status.in_(AT_COUNTER))
    .order_by(tickets.c.called_at.desc(), tickets.c.id.desc())
    .with_for_update()
)
_FINISH_HELD = (
    update(tickets)
    .where(tickets.c.id.in_(bindparam("ids", expanding=True)), tickets.c.status.in_(AT_COUNTER))
    .values(status=DONE, finished_at=bindparam("now"))
)
_AT_COUNTER = (
    select(tickets)
    .where(tickets.c.counter == bindparam("counter"), tickets.c.status.in_(AT_COUNTER))
    .order_by(tickets.c.called_at.desc(), tickets.c.id.desc())
    .limit(1)
)
# Take the longest waiting ticket and call it in one statement. On PostgreSQL the candidate
# is locked (SKIP LOCKED: two counters never wait on each other nor get the same ticket);
# on SQLite the write transaction already holds the database's only write lock.
_CALL_NEXT = (
    update(tickets)
    .where(
        tickets.c.id
        == select(tickets.c.id)
        .where(
            tickets.c.day == bindparam("today"),
            tickets.c.status == WAITING,
            tickets.c.service.in_(bindparam("services", expanding=True)),
        )
        .order_by(tickets.c.priority.desc(), tickets.c.arrived_at, tickets.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery(),
        tickets.c.status == WAITING,
    )
    .values(status=CALLED, counter=bindparam("to_counter"), called_at=bindparam("now"))
    .returning(*tickets.c)
)
_COUNTER_STATE = select(counter_states).where(counter_states.c.number == bindparam("counter"))


# The queue version grows with every committed change. The newest event id alone would not
# do on PostgreSQL: ids are handed out at insert, not at commit, so a transaction that
# commits after a later one would leave it unchanged and its call unseen. Counting the
# events among the newest VERSION_WINDOW ids catches that late commit; the pair is packed
# into one growing integer (the count is 1..VERSION_WINDOW whenever there are events).
VERSION_WINDOW = 1000
_newest = select(func.coalesce(func.max(ticket_events.c.id), 0)).scalar_subquery()
_VERSION = select(
    cast(_newest, BigInteger) * (VERSION_WINDOW + 1)
    + select(func.count())
    .select_from(ticket_events)
    .where(ticket_events.c.id > _newest - VERSION_WINDOW)
    .scalar_subquery()
)


@functools.cache
def _status_change(columns: frozenset[str]):
    """UPDATE that sets status (and `columns`) only while the status is still allowed."""
    return (
        update(tickets)
        .where(
            tickets.c.id == bindparam("ticket_id"),
            tickets.c.status.in_(bindparam("allowed", expanding=True)),
        )
        .values(status=bindparam("new_status"), **{c: bindparam(f"new_{c}") for c in columns})
    )


@dataclass(frozen=True)
class Ticket:
    id: int
    day: dt.date
    number: str
    service: str
    status: str
    priority: int
    language: str
    counter: int | None
    arrived_at: dt.datetime
    called_at: dt.datetime | None
    finished_at: dt.datetime | None
    status_token: str
    checkin: dict[str, Any] | None


@dataclass(frozen=True)
class Place:
    """Where a waiting ticket stands: 1 = next for its service; 0 = it waits no more (an
    issue retried with its key after the ticket was called)."""

    position: int
    estimated_wait_s: int


NOT_WAITING = Place(0, 0)


@dataclass(frozen=True)
class WaitInputs:
    mean_seconds: dict[str, float]  # recent mean time at the counter, per service
    serving: dict[str, int]  # open counters serving each service


@dataclass(frozen=True)
class CounterState:
    open: bool
    services: tuple[str, ...]


@dataclass(frozen=True)
class ServiceLoad:
    service: str
    enabled: bool
    waiting: int
    estimated_wait_s: int  # for someone taking a ticket now


@dataclass(frozen=True)
class Call:
    id: int  # the call's event: a second call of the same number at the same counter is a new one
    number: str
    counter: int
    at: dt.datetime


@dataclass(frozen=True)
class Overview:
    services: list[ServiceLoad]
    calls: list[Call]  # newest first, one per ticket
    version: int


class QueueEngine:
    def __init__(self, engine: Engine, rules: QueueRules, clock: Clock):
        self.engine = engine
        self.reader = for_reading(engine)
        self.rules = rules
        self.clock = clock
        self._wait_cache: tuple[dt.datetime, WaitInputs] | None = None  # (read at, inputs)

    # --- issuing -------------------------------------------------------------------------

    def issued_for(self, key: str) -> Ticket | None:
        """Today's ticket issued with `key`, if any."""
        with self.reader.connect() as conn:
            found = conn.execute(
                select(issue_keys.c.ticket_id).where(issue_keys.c.day == self.business_day(), issue_keys.c.key == key)
            ).scalar()
            return None if found is None else self._load(conn, found)

    def issue(
        self,
        service: str,
        *,
        language: str,
        checkin: dict | None = None,
        priority: bool = False,
        key: str | None = None,
    ) -> tuple[Ticket, Place]:
        """A new ticket, or, with a `key` issued with today already, that ticket: a client
        that retries after a time-out never gets a second one. A key is at most 64 characters."""
        try:
            return self._issue(service, language=language, checkin=checkin, priority=priority, key=key)
        except IntegrityError:
            # the same key issued by another request at the same moment (PostgreSQL): its ticket
            existing = self.issued_for(key) if key is not None else None
            if existing is None:
                raise
            return existing, self.place(existing) or NOT_WAITING

    def _issue(
        self, service: str, *, language: str, checkin: dict | None, priority: bool, key: str | None
    ) -> tuple[Ticket, Place]:
        if key is not None and (existing := self.issued_for(key)) is not None:
            return existing, self.place(existing) or NOT_WAITING
        rule = self.rules.services.get(service)
        if rule is None:
            raise UnknownService(f"There is no service {shown(service)}.")
        if not rule.enabled:
            raise ServiceDisabled(f"The service {service!r} is not offered at the moment.")
        now = self.clock()
        if not self.rules.is_open(now):
            raise OfficeClosed("The office is closed now; tickets are issued during opening hours.")
        day = self.rules.business_day(now)
        with writing(self.engine) as conn:
            seq = self._next_number(conn, day, rule.letter)
            values: dict[str, Any] = dict(
                day=day,
                number=f"{rule.letter}{seq:03d}",
                service=service,
                status=WAITING,
                priority=1 if priority else 0,
                language=language,
                counter=None,
                arrived_at=now,
                called_at=None,
                finished_at=None,
                status_token=secrets.token_urlsafe(9),
                checkin=checkin,
            )
            ticket_id = conn.execute(insert(tickets).returning(tickets.c.id), values).scalar_one()
            if key is not None:
                conn.execute(insert(issue_keys).values(day=day, key=key, ticket_id=ticket_id))
            self._event(conn, ticket_id, "issued", now, service)
            ticket = Ticket(id=ticket_id, **values)
            # The newest arrival: everyone waiting for the service at its priority or higher
            # is ahead of it, and the count includes the ticket itself.
            position = conn.execute(
                _NEW_TICKET_POSITION, dict(day=day, service=service, priority=ticket.priority)
            ).scalar_one()
            place = Place(position, self._estimate(conn, service, position))
        if seq == 1:  # first ticket of the day for this letter: close what yesterday left open
            try:
                self.close_past_days()
            except DBAPIError as exc:  # the ticket is issued: it must reach the citizen regardless
                log.warning("could not close past days (%s); housekeeping does it later", type(exc).__name__)
        return ticket, place

    def _next_number(self, conn: Connection, day: dt.date, letter: str) -> int:
        return conn.execute(_NEXT_NUMBER[conn.dialect.name], dict(day=day, letter=letter)).scalar_one()

    # --- calling -------------------------------------------------------------------------

    def call_next(self, counter: int, *, current: int | None | EllipsisType = ...) -> Ticket | None:
        """Call the next ticket for `counter`, finishing the one still at that counter.

        `current` is the ticket the caller believes is at the counter (None: nobody); only
        that one is finished. CounterHasTicket, with what the counter holds, and nothing
        changes when the counter holds another (a second desk or a retry came first), or
        when `current` was called there less than SAME_PRESS ago (a double press): neither
        may finish a citizen who was just called. Without `current`, whatever is at the
        counter is finished.

        Priority first, then the longest waiting across every service the counter serves,
        so no service starves.
        """
        now = self.clock()
        day = self.rules.business_day(now)
        with writing(self.engine) as conn:
            served, opened = self._open_counter(conn, counter, None, now, only_if_closed=True)
            held = conn.execute(_HELD_AT_COUNTER, dict(at_counter=counter)).all()
            if current is not ...:
                self._check_current(conn, counter, current, held, now)
            if held:
                conn.execute(_FINISH_HELD, dict(ids=[row.id for row in held], now=now))
            events = [
                dict(ticket_id=row.id, at=now, kind="finished", service=row.service, counter=counter) for row in held
            ]
            row = conn.execute(_CALL_NEXT, dict(today=day, services=list(served), to_counter=counter, now=now)).first()
            if row is not None:
                events.append(dict(ticket_id=row.id, at=now, kind="called", service=row.service, counter=counter))
            if events:
                conn.execute(_INSERT_EVENT, events)
        if opened:
            self._wait_cache = None
        return None if row is None else Ticket(**row._mapping)

    def _check_current(self, conn: Connection, counter: int, current: int | None, held, now: dt.datetime) -> None:
        """Raise CounterHasTicket unless `current` is what the counter holds, called long enough ago."""
        if [row.id for row in held] != ([] if current is None else [current]):
            # Read again: on PostgreSQL a call that committed while this one waited for its
            # lock is seen by a new statement only.
            ticket = self._at_counter(conn, counter)
            held_now = f"has another ticket than you think ({ticket.number})" if ticket else "has nobody now"
            raise CounterHasTicket(  # raised inside the transaction: anything done here is undone
                f"Counter {counter} {held_now}: nothing was finished or called. Look at the counter again.", ticket
            )
        if held and held[0].called_at is not None and now - held[0].called_at < SAME_PRESS:
            ticket = self._load(conn, held[0].id)
            raise CounterHasTicket(
                f"{ticket.number} was called only a moment ago: nothing was finished or called.", ticket
            )

    def _at_counter(self, conn: Connection, counter: int) -> Ticket | None:
        row = conn.execute(_AT_COUNTER, dict(counter=counter)).first()
        return None if row is None else Ticket(**row._mapping)

    def recall(self, ticket_id: int) -> Ticket:
        return self._apply(ticket_id, "recall")

    def start(self, ticket_id: int) -> Ticket:
        return self._apply(ticket_id, "start")

    def finish(self, ticket_id: int) -> Ticket:
        return self._apply(ticket_id, "finish", finished_at=self.clock())

    def no_show(self, ticket_id: int) -> Ticket:
        return self._apply(ticket_id, "no_show", finished_at=self.clock())

    def park(self, ticket_id: int) -> Ticket:
        return self._apply(ticket_id, "park", counter=None)

    def return_to_queue(self, ticket_id: int) -> Ticket:
        """Back in line at its original arrival time, so it does not start at the back."""
        return self._apply(ticket_id, "return", counter=None)

    def cancel(self, ticket_id: int) -> Ticket:
        return self._apply(ticket_id, "cancel", finished_at=self.clock())

    def transfer(self, ticket_id: int, service: str) -> Ticket:
        """Move to another service's line; the number and arrival time stay."""
        if service not in self.rules.services:
            raise UnknownService(f"There is no service {shown(service)}.")
        now = self.clock()
        with writing(self.engine) as conn:
            ticket = self._load(conn, ticket_id)
            if ticket.status not in TRANSFERABLE:
                raise InvalidTransition(f"Ticket {ticket.number} is {ticket.status}: it cannot be transferred.")
            if not self._set(conn, ticket_id, (ticket.status,), WAITING, service=service, counter=None):
                raise InvalidTransition(f"Ticket {ticket.number} changed meanwhile; try again.")
            self._event(conn, ticket_id, "transferred", now, service, ticket.counter)
            return self._load(conn, ticket_id)

    def _apply(self, ticket_id: int, action: str, **values) -> Ticket:
        allowed, new_status, kind = TRANSITIONS[action]
        now = self.clock()
        with writing(self.engine) as conn:
            ticket = self._load(conn, ticket_id)
            if not self._set(conn, ticket_id, allowed, new_status, **values):
                raise InvalidTransition(
                    f"Ticket {ticket.number} is {ticket.status}: cannot {action.replace('_', ' ')}."
                )
            self._event(conn, ticket_id, kind, now, ticket.service, ticket.counter)
            return self._load(conn, ticket_id)

    def update_checkin(self, ticket_id: int, checkin: dict) -> None:
        """Add what was recorded after issuing (e.g. the code request) to the check-in."""
        with writing(self.engine) as conn:
            conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(checkin=checkin))

    def amend_checkin(self, ticket_id: int, amend: Callable[[dict | None], dict]) -> None:
        """Change the stored check-in as `amend` says, from what is stored now: two things
        learnt after issuing (the code request, the card's checks) never undo each other."""
        with writing(self.engine) as conn:
            row = conn.execute(_LOAD.with_for_update(), dict(ticket_id=ticket_id)).first()
            if row is None:
                raise TicketNotFound(f"There is no ticket {ticket_id}.")
            conn.execute(update(tickets).where(tickets.c.id == ticket_id).values(checkin=amend(row.checkin)))

    # --- counters ------------------------------------------------------------------------

    def open_counter(self, counter: int, services: list[str] | None = None) -> tuple[str, ...]:
        """Open a counter for the given services (default: all it may serve)."""
        with writing(self.engine) as conn:
            served, _ = self._open_counter(conn, counter, services, self.clock(), only_if_closed=False)
        self._wait_cache = None  # open counters divide the wait: no stale estimate after a change
        return served

    def close_counter(self, counter: int) -> None:
        if counter not in self.rules.counters:
            raise UnknownCounter(f"There is no counter {counter}.")
        now = self.clock()
        with writing(self.engine) as conn:
            changed = conn.execute(
                update(counter_states)
                .where(counter_states.c.number == counter, counter_states.c.open)
                .values(open=False, updated_at=now)
            ).rowcount
            if changed:
                self._event(conn, None, "counter_closed", now, None, counter)
        self._wait_cache = None

    def _open_counter(self, conn, counter, services, now, *, only_if_closed) -> tuple[tuple[str, ...], bool]:
        """The services the counter now serves, and whether this opened or changed it."""
        allowed = self.rules.counters.get(counter)
        if allowed is None:
            raise UnknownCounter(f"There is no counter {counter}.")
        state = conn.execute(_COUNTER_STATE, dict(counter=counter)).first()
        if only_if_closed and state is not None and state.open:
            return tuple(state.services), False
        if services is None:
            services = list(state.services) if state is not None else list(allowed)
        if not services:
            raise UnknownService("Choose at least one service.")
        unknown = [s for s in services if s not in self.rules.services]
        if unknown:
            raise UnknownService(f"Unknown services {unknown}.")
        not_here = [s for s in services if s not in allowed]
        if not_here:
            raise UnknownService(f"Counter {counter} does not serve {', '.join(not_here)} (see the site profile).")
        values = dict(open=True, services=list(services), updated_at=now)
        if state is None:
            conn.execute(insert(counter_states).values(number=counter, **values))
        else:
            conn.execute(update(counter_states).where(counter_states.c.number == counter).values(**values))
        self._event(conn, None, "counter_opened", now, None, counter)
        return tuple(services), True

    def counters(self) -> dict[int, CounterState]:
        """Every counter that was ever opened: open now or not, and the services it serves
        (a closed one: the services it will serve again when it opens)."""
        with self.reader.connect() as conn:
            rows = conn.execute(select(counter_states)).all()
        return {row.number: CounterState(row.open, tuple(row.services)) for row in rows}

    def _open_counters(self, conn) -> dict[int, tuple[str, ...]]:
        rows = conn.execute(select(counter_states).where(counter_states.c.open)).all()
        return {row.number: tuple(row.services) for row in rows}

    # --- reading -------------------------------------------------------------------------

    def business_day(self) -> dt.date:
        """The day tickets are numbered and kept in; it starts at the site's reset hour."""
        return self.rules.business_day(self.clock())

    def today(self) -> dt.date:
        """The office's calendar date now (not the business day, which starts at the reset hour)."""
        return self.rules.local(self.clock()).date()

    def ticket(self, ticket_id: int) -> Ticket:
        with self.reader.connect() as conn:
            return self._load(conn, ticket_id)

    def ticket_by_token(self, token: str) -> Ticket | None:
        """The status page's ticket; only today's tickets are found."""
        if "\x00" in token:  # in no token, and PostgreSQL refuses it in text
            return None
        with self.reader.connect() as conn:
            row = conn.execute(select(tickets).where(tickets.c.status_token == token)).first()
        if row is None or row.day != self.business_day():
            return None
        return Ticket(**row._mapping)

    def place(self, ticket: Ticket) -> Place | None:
        """Place in line and estimated wait; None when the ticket no longer waits."""
        if ticket.status != WAITING:
            return None
        with self.reader.connect() as conn:
            return self._place(conn, ticket)

    def waiting(self, services: tuple[str, ...] | None = None) -> list[Ticket]:
        """Today's waiting tickets in calling order."""
        day = self.business_day()
        query = select(tickets).where(tickets.c.day == day, tickets.c.status == WAITING)
        if services is not None:
            query = query.where(tickets.c.service.in_(services))
        query = query.order_by(tickets.c.priority.desc(), tickets.c.arrived_at, tickets.c.id)
        with self.reader.connect() as conn:
            return [Ticket(**row._mapping) for row in conn.execute(query)]

    def at_counter(self, counter: int) -> Ticket | None:
        """The ticket called or being served at the counter (call_next keeps it to one)."""
        with self.reader.connect() as conn:
            return self._at_counter(conn, counter)

    def parked(self) -> list[Ticket]:
        """Today's parked tickets, longest waiting first."""
        day = self.business_day()
        query = (
            select(tickets)
            .where(tickets.c.day == day, tickets.c.status == PARKED)
            .order_by(tickets.c.arrived_at, tickets.c.id)
        )
        with self.reader.connect() as conn:
            return [Ticket(**row._mapping) for row in conn.execute(query)]

    def overview(self, calls: int = 10) -> Overview:
        day = self.business_day()
        with self.reader.connect() as conn:
            # The version first: a change made while reading then shows as a newer version
            # on the next poll, never as a version that claims what was not read.
            version = self._version(conn)
            counts: dict[str, int] = dict(
                conn.execute(
                    select(tickets.c.service, func.count())
                    .where(tickets.c.day == day, tickets.c.status == WAITING)
                    .group_by(tickets.c.service)
                ).all()
            )
            loads = [
                ServiceLoad(
                    rule.id,
                    rule.enabled,
                    counts.get(rule.id, 0),
                    self._estimate(conn, rule.id, counts.get(rule.id, 0) + 1),
                )
                for rule in self.rules.services.values()
            ]
            latest = self._calls(conn, day, calls)
        return Overview(loads, latest, version)

    def calls(self, calls: int = 10) -> list[Call]:
        """Today's latest calls, newest first, one per ticket (what the board shows)."""
        with self.reader.connect() as conn:
            return self._calls(conn, self.business_day(), calls)

    def _calls(self, conn, day: dt.date, calls: int) -> list[Call]:
        recent = conn.execute(
            select(ticket_events.c.id, tickets.c.number, ticket_events.c.counter, ticket_events.c.at)
            .join(tickets, tickets.c.id == ticket_events.c.ticket_id)
            .where(tickets.c.day == day, ticket_events.c.kind.in_(("called", "recalled")))
            .order_by(ticket_events.c.id.desc())
            .limit(calls * 3)
        ).all()
        seen: set[str] = set()
        latest: list[Call] = []
        for row in recent:
            if row.number not in seen and len(latest) < calls:
                seen.add(row.number)
                latest.append(Call(row.id, row.number, row.counter, row.at))
        return latest

    def version(self) -> int:
        """Grows with every change: live screens compare it to know when to refresh."""
        with self.reader.connect() as conn:
            return self._version(conn)

    def _version(self, conn) -> int:
        return conn.execute(_VERSION).scalar_one()

    # --- housekeeping --------------------------------------------------------------------

    def close_past_days(self) -> int:
        """Expire tickets that were still open when their day ended; history stays."""
        now = self.clock()
        today = self.rules.business_day(now)
        with writing(self.engine) as conn:
            stale = conn.execute(
                select(tickets.c.id, tickets.c.service).where(tickets.c.day < today, tickets.c.status.in_(OPEN_STATES))
            ).all()
            if stale:
                conn.execute(
                    update(tickets)
                    .where(tickets.c.id.in_([r.id for r in stale]), tickets.c.status.in_(OPEN_STATES))
                    .values(status=EXPIRED, counter=None)
                )
                conn.execute(
                    insert(ticket_events),
                    [dict(ticket_id=r.id, at=now, kind="expired", service=r.service) for r in stale],
                )
        return len(stale)

    def purge_personal_data(self, retention_days: int) -> int:
        """Forget check-in data (names, national numbers) older than the retention, and the
        issue keys of past days (a retry comes within the day)."""
        before = self.business_day() - dt.timedelta(days=retention_days)
        with writing(self.engine) as conn:
            conn.execute(delete(issue_keys).where(issue_keys.c.day < self.business_day()))
            return conn.execute(
                update(tickets).where(tickets.c.day < before, tickets.c.checkin.is_not(None)).values(checkin=null())
            ).rowcount

    # --- internals -----------------------------------------------------------------------

    def _load(self, conn: Connection, ticket_id: int) -> Ticket:
        row = None if not 0 < ticket_id <= MAX_ID else conn.execute(_LOAD, dict(ticket_id=ticket_id)).first()
        if row is None:
            raise TicketNotFound(f"There is no ticket {ticket_id}.")
        return Ticket(**row._mapping)

    def _set(self, conn: Connection, ticket_id: int, allowed, new_status: str, **values) -> bool:
        """Change the status only if it is still one of `allowed`: the race guard."""
        params = {f"new_{c}": v for c, v in values.items()}
        result = conn.execute(
            _status_change(frozenset(values)),
            dict(ticket_id=ticket_id, allowed=list(allowed), new_status=new_status, **params),
        )
        return result.rowcount == 1

    def _event(self, conn, ticket_id, kind, at, service, counter=None) -> None:
        conn.execute(_INSERT_EVENT, dict(ticket_id=ticket_id, at=at, kind=kind, service=service, counter=counter))

    def _place(self, conn: Connection, ticket: Ticket) -> Place:
        t = tickets.c
        ahead = conn.execute(
            select(func.count())
            .select_from(tickets)
            .where(
                t.day == ticket.day,
                t.status == WAITING,
                t.service == ticket.service,
                or_(
                    t.priority > ticket.priority,
                    and_(
                        t.priority == ticket.priority,
                        or_(
                            t.arrived_at < ticket.arrived_at, and_(t.arrived_at == ticket.arrived_at, t.id < ticket.id)
                        ),
                    ),
                ),
            )
        ).scalar_one()
        position = ahead + 1
        return Place(position, self._estimate(conn, ticket.service, position))

    def _estimate(self, conn, service: str, position: int) -> int:
        """Place in line x recent mean service time / open counters serving the service."""
        inputs = self._wait_inputs(conn)
        return round(position * inputs.mean_seconds[service] / max(inputs.serving.get(service, 0), 1))

    def _wait_inputs(self, conn) -> WaitInputs:
        """Service times and open counters change slowly: read them at most every few
        seconds of the engine's clock (and at once after this engine opens or closes a
        counter), not for every ticket."""
        now = self.clock()
        cached = self._wait_cache
        if cached is not None and cached[0] <= now < cached[0] + WAIT_INPUTS_TTL:
            return cached[1]
        serving: dict[str, int] = {}
        for services in self._open_counters(conn).values():
            for service in services:
                serving[service] = serving.get(service, 0) + 1
        inputs = WaitInputs(
            {service: self._mean_service_seconds(conn, service) for service in self.rules.services},
            serving,
        )
        self._wait_cache = (now, inputs)
        return inputs

    def _mean_service_seconds(self, conn, service: str) -> float:
        since = self.clock() - dt.timedelta(days=self.rules.history_days)
        rows = conn.execute(
            select(tickets.c.called_at, tickets.c.finished_at)
            .where(
                tickets.c.service == service,
                tickets.c.status == DONE,
                tickets.c.finished_at >= since,
                tickets.c.called_at.is_not(None),
            )
            .order_by(tickets.c.finished_at.desc())
            .limit(self.rules.history_size)
        ).all()
        if not rows:
            return self.rules.services[service].default_seconds
        return fmean((r.finished_at - r.called_at).total_seconds() for r in rows)
