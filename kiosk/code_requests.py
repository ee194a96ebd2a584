"""Requests for new PIN and PUK codes (both lost), from the kiosk to collection.

requested (at the kiosk, with the ticket) → ordered (the clerk took the fee) → arrived (the
codes came in) → notified (the citizen was sent a message) → reminded (as often as the site
says) → collected; or destroyed, the site's months after they arrived; or cancelled at any
open step, with a reason. Every change is logged with who and when. A message is written to
the outbox in the same transaction as the change that causes it (kiosk.outbox), so none is
lost and none is sent for a change that did not happen.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, null, select, update

from . import outbox
from .contacts import CHANNEL, parse_contact
from .schema import code_request_events, code_requests, tickets
from .site import CodeSettings
from .storage import reading, writing

REASON_MAX = 200

OPEN = ("requested", "ordered", "arrived", "notified", "reminded")
CLOSED = ("collected", "destroyed", "cancelled")
STATES = OPEN + CLOSED
WAITING = ("arrived", "notified", "reminded")  # the codes lie in the office
# What staff may move a request to, and from where; notified and reminded are the outbox's.
MOVES = {
    "ordered": ("requested",),
    "arrived": ("ordered",),
    "collected": WAITING,
    "destroyed": WAITING,
    "cancelled": OPEN,
}
SYSTEM = "system"  # who made the changes nobody pressed a button for


class MoveRefused(ValueError):
    """The request is not in a state that allows the change; `status` is where it is."""

    def __init__(self, request_id: int, status: str | None, to: str):
        self.request_id, self.status, self.to = request_id, status, to
        where = "does not exist" if status is None else f"is {status}"
        super().__init__(f"Code request {request_id} {where}: it cannot become {to}.")


@dataclass(frozen=True)
class CodeRequest:
    id: int
    ticket_id: int
    contact_kind: str | None
    status: str
    requested_at: dt.datetime


@dataclass(frozen=True)
class Listed:
    """A request as the back office lists it (the national number only for staff)."""

    id: int
    ticket_number: str
    language: str
    national_number: str | None
    contact_kind: str | None
    status: str
    requested_at: dt.datetime
    updated_at: dt.datetime
    arrived_at: dt.datetime | None
    notified_at: dt.datetime | None
    reminders: int
    next_step: str  # see next_step()
    due_on: dt.date | None  # when the next step falls due, if it waits for a date


def record(engine: Engine, ticket_id: int, national_number: str | None, contact: str, now: dt.datetime) -> CodeRequest:
    kind, value = parse_contact(contact)
    with writing(engine) as conn:
        request_id = conn.execute(
            insert(code_requests).returning(code_requests.c.id),
            dict(
                ticket_id=ticket_id,
                national_number=national_number,
                contact_kind=kind,
                contact=value,
                status="requested",
                requested_at=now,
                updated_at=now,
            ),
        ).scalar_one()
        _log(conn, request_id, "requested", SYSTEM, now)
    return CodeRequest(request_id, ticket_id, kind, "requested", now)


def for_ticket(engine: Engine, ticket_id: int) -> CodeRequest | None:
    with reading(engine) as conn:
        row = conn.execute(select(code_requests).where(code_requests.c.ticket_id == ticket_id)).first()
    return None if row is None else CodeRequest(row.id, row.ticket_id, row.contact_kind, row.status, row.requested_at)


def state_of(engine: Engine, request_id: int) -> str | None:
    with reading(engine) as conn:
        return conn.execute(select(code_requests.c.status).where(code_requests.c.id == request_id)).scalar()


def for_desk(engine: Engine, request_id: int) -> tuple[str, str | None, str | None] | None:
    """Where a request is, and how the citizen is told (kind and address; None once closed
    or without one): the clerk checks the contact with the citizen at the counter."""
    columns = (code_requests.c.status, code_requests.c.contact_kind, code_requests.c.contact)
    with reading(engine) as conn:
        row = conn.execute(select(*columns).where(code_requests.c.id == request_id)).first()
    return None if row is None else (row.status, row.contact_kind, row.contact)


# --- the life of a request ------------------------------------------------------------------


def move(engine: Engine, request_id: int, to: str, by: str, now: dt.datetime, reason: str | None = None) -> str:
    """Move one request to `to` (a key of MOVES); returns the state it is in afterwards,
    which for "arrived" is "notified" when the citizen left a contact. Raises MoveRefused,
    or ValueError for a cancellation without a reason."""
    with writing(engine) as conn:
        return _move(conn, request_id, to, by, now, reason)


def arrived_for(engine: Engine, national_numbers: list[str], by: str, now: dt.datetime) -> tuple[list[int], list[str]]:
    """The codes of a delivery, by the national numbers on the envelopes: every ordered
    request of each is marked arrived, all in one transaction. Returns the requests marked
    and the numbers that have no ordered request (a typing error, or one never ordered)."""
    marked: list[int] = []
    unknown: list[str] = []
    with writing(engine) as conn:
        for number in dict.fromkeys(national_numbers):
            ids = (
                conn.execute(
                    select(code_requests.c.id).where(
                        code_requests.c.national_number == number, code_requests.c.status == "ordered"
                    )
                )
                .scalars()
                .all()
            )
            if not ids:
                unknown.append(number)
            for request_id in ids:
                _move(conn, request_id, "arrived", by, now)
                marked.append(request_id)
    return marked, unknown


def _move(conn: Connection, request_id: int, to: str, by: str, now: dt.datetime, reason: str | None = None) -> str:
    if to not in MOVES:
        raise ValueError(f"a code request cannot be moved to {to!r}")
    reason = (reason or "").strip() or None
    if to == "cancelled" and reason is None:
        raise ValueError("Say why the request is cancelled.")
    if reason is not None and len(reason) > REASON_MAX:
        raise ValueError(f"The reason may have at most {REASON_MAX} characters.")
    row = conn.execute(
        select(code_requests, tickets.c.language)
        .join(tickets, tickets.c.id == code_requests.c.ticket_id)
        .where(code_requests.c.id == request_id)
    ).first()
    # the UPDATE names the state it saw: of two clerks pressing at once, one is refused
    if row is None or row.status not in MOVES[to]:
        raise MoveRefused(request_id, None if row is None else row.status, to)
    values: dict = dict(status=to, updated_at=now)
    if to == "arrived":
        values["arrived_at"] = now
    if to in CLOSED:
        values.update(closed_at=now, contact=null())  # nobody is told anything any more
    changed = conn.execute(
        update(code_requests)
        .where(code_requests.c.id == request_id, code_requests.c.status == row.status)
        .values(**values)
    ).rowcount
    if changed != 1:
        raise MoveRefused(request_id, row.status, to)
    _log(conn, request_id, to, by, now, reason)
    if to == "arrived" and row.contact:
        _notify(conn, request_id, row.contact_kind, row.contact, row.language, "codes_arrived", {}, now)
        return "notified"
    return to


def _notify(
    conn: Connection,
    request_id: int,
    kind: str,
    contact: str,
    language: str,
    template: str,
    params: dict,
    now: dt.datetime,
    reminders: int = 0,
) -> None:
    outbox.enqueue(
        conn,
        channel=CHANNEL[kind],
        address=contact,
        language=language,
        template=template,
        params=params,
        now=now,
    )
    status = "reminded" if reminders else "notified"
    conn.execute(
        update(code_requests)
        .where(code_requests.c.id == request_id)
        .values(status=status, notified_at=now, reminders=reminders, updated_at=now)
    )
    _log(conn, request_id, status, SYSTEM, now)


def _log(conn: Connection, request_id: int, status: str, by: str, now: dt.datetime, reason: str | None = None) -> None:
    conn.execute(insert(code_request_events).values(request_id=request_id, at=now, status=status, by=by, reason=reason))


def send_reminders(engine: Engine, settings: CodeSettings, now: dt.datetime) -> int:
    """A reminder to each citizen told more than `reminder_days` ago, up to `reminders`
    times; returns how many were written to the outbox. Run daily (kiosk.housekeeping):
    a second run the same day finds nothing due."""
    if not settings.reminders:
        return 0
    due = now - dt.timedelta(days=settings.reminder_days)
    sent = 0
    with writing(engine) as conn:
        rows = conn.execute(
            select(code_requests, tickets.c.language)
            .join(tickets, tickets.c.id == code_requests.c.ticket_id)
            .where(
                code_requests.c.status.in_(("notified", "reminded")),
                code_requests.c.reminders < settings.reminders,
                code_requests.c.notified_at <= due,
                code_requests.c.contact.is_not(None),
            )
        ).all()
        for row in rows:
            reminder = row.reminders + 1
            params = {"reminder": reminder, "destroy_on": destroy_on(row.arrived_at, settings).isoformat()}
            _notify(conn, row.id, row.contact_kind, row.contact, row.language, "codes_reminder", params, now, reminder)
            sent += 1
    return sent


def cancel_unordered(engine: Engine, today: dt.date, now: dt.datetime) -> int:
    """Requests of past business days whose fee nobody took: the citizen did not come to the
    counter, or left. Cancelled, so their data can go."""
    with writing(engine) as conn:
        ids = (
            conn.execute(
                select(code_requests.c.id)
                .join(tickets, tickets.c.id == code_requests.c.ticket_id)
                .where(code_requests.c.status == "requested", tickets.c.day < today)
            )
            .scalars()
            .all()
        )
        for request_id in ids:
            _move(conn, request_id, "cancelled", SYSTEM, now, "not ordered at the counter on the day")
    return len(ids)


def destroy_on(arrived_at: dt.datetime, settings: CodeSettings) -> dt.date:
    """The day the codes may be destroyed: the site's months after they arrived (the 31st
    becomes the month's last day)."""
    months = arrived_at.month - 1 + settings.destroy_after_months
    year, month = arrived_at.year + months // 12, months % 12 + 1
    return dt.date(year, month, min(arrived_at.day, calendar.monthrange(year, month)[1]))


def next_step(status: str, arrived_at: dt.datetime | None, settings: CodeSettings, today: dt.date) -> str:
    """What the office has to do next: "take_fee", "await_codes", "tell_citizen" (no contact
    left: by letter or phone), "await_citizen", "destroy" (its months are over) or "none"."""
    if status == "requested":
        return "take_fee"
    if status == "ordered":
        return "await_codes"
    if status in WAITING and arrived_at is not None and destroy_on(arrived_at, settings) <= today:
        return "destroy"
    if status == "arrived":
        return "tell_citizen"
    if status in WAITING:
        return "await_citizen"
    return "none"


def listing(
    engine: Engine, settings: CodeSettings, today: dt.date, status: str | None = None, limit: int = 500
) -> list[Listed]:
    """Requests in `status` (every open one for None), oldest first."""
    query = (
        select(code_requests, tickets.c.number, tickets.c.language)
        .join(tickets, tickets.c.id == code_requests.c.ticket_id)
        .where(code_requests.c.status == status if status else code_requests.c.status.in_(OPEN))
        .order_by(code_requests.c.requested_at, code_requests.c.id)
        .limit(limit)
    )
    with reading(engine) as conn:
        rows = conn.execute(query).all()
    listed = []
    for row in rows:
        step = next_step(row.status, row.arrived_at, settings, today)
        due = destroy_on(row.arrived_at, settings) if row.arrived_at and row.status in WAITING else None
        listed.append(
            Listed(
                row.id,
                row.number,
                row.language,
                row.national_number,
                row.contact_kind,
                row.status,
                row.requested_at,
                row.updated_at,
                row.arrived_at,
                row.notified_at,
                row.reminders,
                step,
                due,
            )
        )
    return listed


def counts(engine: Engine) -> dict[str, int]:
    """How many requests are in each open state."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(code_requests.c.status, func.count())
            .where(code_requests.c.status.in_(OPEN))
            .group_by(code_requests.c.status)
        ).all()
    return {status: 0 for status in OPEN} | {row[0]: row[1] for row in rows}


def history(engine: Engine, request_id: int) -> list[tuple[dt.datetime, str, str, str | None]]:
    """(when, state, who, reason) of every change, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(
            select(code_request_events.c.at, code_request_events.c.status, code_request_events.c.by)
            .add_columns(code_request_events.c.reason)
            .where(code_request_events.c.request_id == request_id)
            .order_by(code_request_events.c.id)
        ).all()
    return [(row.at, row.status, row.by, row.reason) for row in rows]


def purge_personal_data(engine: Engine, before: dt.datetime) -> int:
    """Forget who asked and how to reach them once the request is older than the retention
    and closed; an open one keeps them until it closes (a closed one lost its contact then)."""
    with writing(engine) as conn:
        return conn.execute(
            update(code_requests)
            .where(
                code_requests.c.requested_at < before,
                code_requests.c.status.in_(CLOSED),
                code_requests.c.national_number.is_not(None),
            )
            .values(national_number=null(), contact=null())
        ).rowcount
