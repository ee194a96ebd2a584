"""A message when the citizen's turn is near: to whoever left a contact, once the site's
`[kiosk] turn_soon_ahead` people are still ahead of them.

The contact comes from the status page (the citizen's own phone) or from the kiosk's check
screen (for a code request, the same contact that says the codes are in). A watcher looks every few seconds (every instance: the message is marked
written in the same transaction as it is put in the outbox, so only one of them writes it).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import Engine, delete, select, update

from . import outbox
from .contacts import CHANNEL, parse_contact
from .errors import describe
from .queue.engine import WAITING
from .schema import tickets, turn_alerts
from .storage import reading, writing

log = logging.getLogger(__name__)

LOOK_S = 2.0


def subscribe(engine: Engine, ticket_id: int, contact: str, now: dt.datetime) -> None:
    """Ask for the message (again: a new contact replaces the last). ValueError as
    kiosk.contacts.parse_contact says, or "empty" for nothing typed."""
    kind, value = parse_contact(contact)
    if kind is None or value is None:
        raise ValueError("empty")
    with writing(engine) as conn:
        conn.execute(delete(turn_alerts).where(turn_alerts.c.ticket_id == ticket_id, turn_alerts.c.sent_at.is_(None)))
        if conn.execute(select(turn_alerts.c.ticket_id).where(turn_alerts.c.ticket_id == ticket_id)).first():
            return  # already written: one message per ticket
        conn.execute(
            turn_alerts.insert().values(ticket_id=ticket_id, channel=CHANNEL[kind], address=value, created_at=now)
        )


def subscribed(engine: Engine, ticket_id: int) -> bool:
    with reading(engine) as conn:
        return (
            conn.execute(select(turn_alerts.c.ticket_id).where(turn_alerts.c.ticket_id == ticket_id)).first()
            is not None
        )


def write_due(office, ahead_at_most: int) -> int:
    """Put a message in the outbox for every waiting ticket of today with this many or fewer
    people ahead; returns how many. A ticket called meanwhile gets none."""
    queue, engine = office.queue, office.engine
    with reading(engine) as conn:
        rows = conn.execute(
            select(turn_alerts.c.ticket_id)
            .join(tickets, tickets.c.id == turn_alerts.c.ticket_id)
            .where(turn_alerts.c.sent_at.is_(None), tickets.c.day == queue.business_day())
        ).all()
    written = 0
    for row in rows:
        ticket = queue.ticket(row.ticket_id)
        place = queue.place(ticket)
        if ticket.status == WAITING and (place is None or place.position - 1 > ahead_at_most):
            continue
        now = office.clock()
        with writing(engine) as conn:
            alert = conn.execute(
                select(turn_alerts).where(turn_alerts.c.ticket_id == ticket.id, turn_alerts.c.sent_at.is_(None))
            ).first()
            taken = conn.execute(
                update(turn_alerts)
                .where(turn_alerts.c.ticket_id == ticket.id, turn_alerts.c.sent_at.is_(None))
                .values(sent_at=now, address=None)
            ).rowcount
            if alert is None or taken != 1 or ticket.status != WAITING or place is None:
                continue  # another instance wrote it, or the ticket no longer waits: nothing to say
            outbox.enqueue(
                conn,
                channel=alert.channel,
                address=alert.address,
                language=ticket.language,
                template="turn_soon",
                params={"number": ticket.number, "ahead": place.position - 1},
                now=now,
            )
            written += 1
    return written


def purge_past_days(engine: Engine, today: dt.date) -> int:
    """Alerts of past days are of no use: forgotten with their contact."""
    with writing(engine) as conn:
        past = select(tickets.c.id).where(tickets.c.day < today).scalar_subquery()
        return conn.execute(delete(turn_alerts).where(turn_alerts.c.ticket_id.in_(past))).rowcount


class Watch(threading.Thread):
    """Looks every `every_s` seconds while the site has turn_soon_ahead set; a failure is
    logged once and tried again at the next look."""

    def __init__(self, app, every_s: float = LOOK_S):
        super().__init__(name="turn-soon", daemon=True)
        self.app, self.every_s = app, every_s
        self.stopped = threading.Event()
        self._trouble: str | None = None

    def run(self) -> None:
        from .extensions import office

        while not self.stopped.wait(self.every_s):
            with self.app.app_context():
                try:
                    write_due(office, office.site.kiosk.turn_soon_ahead)
                    self._trouble = None
                except Exception as exc:  # noqa: BLE001 - the watch must outlive any failure
                    if describe(exc) != self._trouble:
                        self._trouble = describe(exc)
                        log.warning("turn soon: cannot look now (%s); trying again", self._trouble)

    def stop(self, timeout_s: float = 30) -> None:
        self.stopped.set()
        self.join(timeout_s)
