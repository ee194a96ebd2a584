"""The outbox: messages to citizens, written in the same transaction as the change that causes
them (a code request's codes arrived) and sent by a worker that outlives restarts and outages.

A message is pending until it is sent; each failed attempt makes it due again later (30 s,
doubling, at most an hour apart) until it is given up, failed, after MAX_ATTEMPTS or a day. A
message on a channel this instance cannot send on is held, with the reason, until an instance
that can takes it. Staff see what waits and what failed (`pending`, `failures`) and can send a
failed one again (`retry`).

A worker takes one due message at a time under a lease (`claimed_until`): until the lease
ends no other worker, of this instance or of another on the same database, takes it.
PostgreSQL's FOR UPDATE SKIP LOCKED keeps two claims from meeting; SQLite lets one writer in
at a time. The send runs outside any transaction. An instance that stops mid-send leaves its
lease to run out, and the message is due again: sent at least once, recorded as sent once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from .contacts import parse_contact
from .errors import describe
from .messages import TEMPLATES, check_params, render
from .schema import outbox
from .senders import Outgoing, Sender, failure, senders_for
from .site import SiteProfile
from .storage import reading, writing

log = logging.getLogger(__name__)

_LANGUAGE = re.compile(r"[a-z]{2,3}")  # as the site profile's languages

FIRST_RETRY_S = 30.0
LONGEST_RETRY_S = 3600.0
MAX_ATTEMPTS = 25  # with the backoff above, about a day of trying
GIVE_UP_AFTER = dt.timedelta(days=1)  # from the first attempt
# Far longer than one send can take (kiosk.senders.SEND_TIMEOUT_S per network step): a lease
# that ran out means its worker is gone, not slow.
LEASE_S = 300.0
POLL_S = 2.0  # how often an idle worker looks for due messages ("your turn soon" cannot wait long)
BATCH = 20  # messages sent in one look before the worker checks whether it is stopped

PENDING, HELD, SENT, FAILED = "pending", "held", "sent", "failed"
# the channel -> the kind of contact kiosk.contacts.parse_contact finds for it
CHANNELS = {"email": "email", "sms": "phone"}


def enqueue(
    conn: Connection,
    *,
    channel: str,
    address: str,
    language: str,
    template: str,
    params: Mapping[str, Any],
    now: dt.datetime,
) -> int:
    """Write a message in the caller's transaction (`with writing(engine) as conn:`); its id.

    The address is normalised as a code request's contact is. ValueError for a channel,
    address, template or parameters that could never be sent; its text never quotes the address.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})")
    kind, value = parse_contact(address)
    if kind != CHANNELS[channel]:
        raise ValueError(f"the address is not one for the {channel} channel")
    if not _LANGUAGE.fullmatch(language):
        raise ValueError("language must be a language code like 'nl'")
    checked = check_params(template, params)
    return conn.execute(
        insert(outbox).returning(outbox.c.id),
        dict(
            channel=channel,
            address=value,
            language=language,
            template=template,
            params=checked,
            state=PENDING,
            created_at=now,
            due_at=now,
            attempts=0,
        ),
    ).scalar_one()


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds under its lease, with what it needs to send it."""

    id: int
    token: str  # the lease's: only its holder records a failure
    channel: str
    address: str
    language: str
    template: str
    params: dict[str, Any]
    attempts: int  # this one included
    created_at: dt.datetime
    first_attempt_at: dt.datetime


@dataclass(frozen=True)
class Entry:
    """A message as staff see it: never its address."""

    id: int
    channel: str
    template: str
    state: str
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    due_at: dt.datetime
    failed_at: dt.datetime | None


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return dt.timedelta(seconds=min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), LONGEST_RETRY_S))


def _unclaimed(now: dt.datetime) -> ColumnElement[bool]:
    return or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now)


def _sendable(channels: Iterable[str], now: dt.datetime) -> ColumnElement[bool]:
    """Due on one of `channels`; a held message too, since this worker can send it."""
    return and_(
        outbox.c.state.in_((PENDING, HELD)),
        outbox.c.channel.in_(list(channels)),
        outbox.c.address.is_not(None),
        outbox.c.due_at <= now,
        _unclaimed(now),
    )


def _holdable(channels: Iterable[str], now: dt.datetime) -> ColumnElement[bool]:
    return and_(
        outbox.c.state == PENDING, outbox.c.channel.in_(list(channels)), outbox.c.due_at <= now, _unclaimed(now)
    )


def anything_due(engine: Engine, channels: Iterable[str], off: Iterable[str], now: dt.datetime) -> bool:
    """Whether a claim or a hold would find anything: a read, so an idle worker never takes
    SQLite's one write lock."""
    with reading(engine) as conn:
        found = select(outbox.c.id).where(or_(_sendable(channels, now), _holdable(off, now))).limit(1)
        return conn.execute(found).first() is not None


def claim(engine: Engine, channels: Iterable[str], now: dt.datetime, lease_s: float = LEASE_S) -> Claimed | None:
    """Take the message due longest on one of `channels` under a lease, counting the attempt."""
    token = secrets.token_hex(16)
    with writing(engine) as conn:
        found = (
            select(outbox.c.id)
            .where(_sendable(channels, now))
            .order_by(outbox.c.due_at, outbox.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has no such clause and needs none
        )
        message_id = conn.execute(found).scalar()
        if message_id is None:
            return None
        conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(
                state=PENDING,
                claimed_until=now + dt.timedelta(seconds=lease_s),
                claim_token=token,
                attempts=outbox.c.attempts + 1,
                first_attempt_at=func.coalesce(outbox.c.first_attempt_at, now),
            )
        )
        row = conn.execute(select(outbox).where(outbox.c.id == message_id)).one()
    return Claimed(
        id=row.id,
        token=token,
        channel=row.channel,
        address=row.address,
        language=row.language,
        template=row.template,
        params=dict(row.params),
        attempts=row.attempts,
        created_at=row.created_at,
        first_attempt_at=row.first_attempt_at,
    )


def record_sent(engine: Engine, message_id: int, now: dt.datetime) -> bool:
    """Mark the message sent; False if it was marked so already. Whoever holds the lease now:
    it was sent, and a worker whose lease ran out still says so once."""
    with writing(engine) as conn:
        return (
            conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id, outbox.c.sent_at.is_(None))
                .values(state=SENT, sent_at=now, claimed_until=None, claim_token=None, last_error=None)
            ).rowcount
            == 1
        )


def record_failure(
    engine: Engine, message: Claimed, error: str, now: dt.datetime, *, permanent: bool = False
) -> str | None:
    """Note a failed attempt: due again after the backoff, or failed once given up. Returns the
    new state; None when the lease was lost meanwhile (another worker has the message now)."""
    wait = backoff(message.attempts)
    give_up = permanent or message.attempts >= MAX_ATTEMPTS or now + wait > message.first_attempt_at + GIVE_UP_AFTER
    values: dict[str, Any] = dict(claimed_until=None, claim_token=None, last_error=error[:200])
    if give_up:
        values.update(state=FAILED, failed_at=now)
    else:
        values.update(state=PENDING, due_at=now + wait)
    with writing(engine) as conn:
        changed = conn.execute(
            update(outbox)
            .where(outbox.c.id == message.id, outbox.c.claim_token == message.token, outbox.c.sent_at.is_(None))
            .values(**values)
        ).rowcount
    return values["state"] if changed else None


def hold(engine: Engine, off: Mapping[str, str], now: dt.datetime) -> int:
    """Due messages on channels this instance cannot send on: held, with the reason."""
    held = 0
    with writing(engine) as conn:
        for channel, reason in off.items():
            held += conn.execute(
                update(outbox).where(_holdable([channel], now)).values(state=HELD, last_error=reason[:200])
            ).rowcount
    return held


# --- for the back office ----------------------------------------------------------------


def _entries(engine: Engine, where: ColumnElement[bool], *order) -> list[Entry]:
    columns = [outbox.c[f.name] for f in dataclasses.fields(Entry)]
    with reading(engine) as conn:
        return [Entry(**row._mapping) for row in conn.execute(select(*columns).where(where).order_by(*order))]


def pending(engine: Engine) -> list[Entry]:
    """Messages not sent yet, pending or held, oldest first."""
    return _entries(engine, outbox.c.state.in_((PENDING, HELD)), outbox.c.created_at, outbox.c.id)


def failures(engine: Engine) -> list[Entry]:
    """Messages given up, the latest first."""
    return _entries(engine, outbox.c.state == FAILED, outbox.c.failed_at.desc(), outbox.c.id.desc())


def retry(engine: Engine, message_id: int, now: dt.datetime) -> bool:
    """Make a failed message due now, with a fresh round of attempts. False if it is not
    failed, or its address is forgotten already."""
    with writing(engine) as conn:
        return (
            conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id, outbox.c.state == FAILED, outbox.c.address.is_not(None))
                .values(state=PENDING, due_at=now, attempts=0, first_attempt_at=None, failed_at=None)
            ).rowcount
            == 1
        )


def purge(engine: Engine, before: dt.datetime, now: dt.datetime) -> int:
    """Forget the addresses of messages sent or given up before `before` (the site's
    retention); one still unsent that was written before then is given up and forgotten too.
    Returns how many addresses were forgotten."""
    with writing(engine) as conn:
        stale = conn.execute(
            update(outbox)
            .where(outbox.c.state.in_((PENDING, HELD)), outbox.c.created_at < before, _unclaimed(now))
            .values(state=FAILED, failed_at=now, address=None, last_error="not sent within the retention")
        ).rowcount
        done = conn.execute(
            update(outbox)
            .where(
                outbox.c.address.is_not(None),
                or_(
                    and_(outbox.c.state == SENT, outbox.c.sent_at < before),
                    and_(outbox.c.state == FAILED, outbox.c.failed_at < before),
                ),
            )
            .values(address=None)
        ).rowcount
    return stale + done


# --- the worker -------------------------------------------------------------------------


class Worker(threading.Thread):
    """Sends due messages, looking every `every_s` seconds, until stopped. A failure, of a
    send or of the database, is logged (each kind once until things work again) and never
    ends the thread."""

    def __init__(
        self,
        app: Flask,
        *,
        senders: Mapping[str, Sender] | None = None,
        off: Mapping[str, str] | None = None,
        every_s: float = POLL_S,
        lease_s: float = LEASE_S,
    ):
        super().__init__(name="outbox", daemon=True)
        if senders is None:
            senders, off = senders_for(app.config["SITE_PROFILE"])
        self.app, self.senders, self.every_s, self.lease_s = app, dict(senders), every_s, lease_s
        self.off = {channel: reason for channel, reason in (off or {}).items() if channel not in self.senders}
        self.stopped = threading.Event()
        self._unrecorded: list[tuple[int, dt.datetime]] = []  # sent, but the database was away
        self._trouble: str | None = None

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                busy = self.work_once() >= BATCH
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any failure
                self._troubled(describe(exc))
                busy = False
            if not busy and self.stopped.wait(self.every_s):
                return

    def work_once(self, limit: int = BATCH) -> int:
        """Hold what this instance cannot send, then send up to `limit` due messages; how many
        were tried."""
        from .extensions import office

        with self.app.app_context():
            engine, clock, site = office.engine, office.clock, office.site
            self._flush(engine)
            if not anything_due(engine, self.senders, self.off, clock()):
                self._fine()
                return 0
            if self.off:
                hold(engine, self.off, clock())
            tried = 0
            while tried < limit and not self.stopped.is_set():
                message = claim(engine, self.senders, clock(), self.lease_s)
                if message is None:
                    break
                self._deliver(engine, clock, site, message)
                tried += 1
            self._fine()
            return tried

    def _deliver(self, engine: Engine, clock: Callable[[], dt.datetime], site: SiteProfile, message: Claimed) -> None:
        spec = TEMPLATES.get(message.template)
        if spec is not None and spec.max_age is not None and clock() - message.created_at > spec.max_age:
            minutes = round(spec.max_age.total_seconds() / 60)
            self._failed(engine, message, f"too late: not sent within {minutes} minutes", clock(), True)
            return
        try:
            rendered = render(site, message.template, message.params, message.language)
        except Exception as exc:  # noqa: BLE001 - a message that cannot be written is given up, not retried
            self._failed(engine, message, f"cannot be written: {describe(exc)}", clock(), True)
            return
        outgoing = Outgoing(
            id=message.id,
            address=message.address,
            language=message.language,
            subject=rendered.subject,
            text=rendered.text,
            short=rendered.short,
            created_at=message.created_at,
        )
        try:
            self.senders[message.channel].send(outgoing)
        except Exception as exc:  # noqa: BLE001 - a failed send is the message's, to try again later
            error, permanent = failure(exc)
            self._failed(engine, message, error, clock(), permanent)
            return
        self._unrecorded.append((message.id, clock()))
        self._flush(engine)
        log.info("outbox: message %d (%s by %s) sent", message.id, message.template, message.channel)

    def _failed(self, engine: Engine, message: Claimed, error: str, now: dt.datetime, permanent: bool) -> None:
        state = record_failure(engine, message, error, now, permanent=permanent)
        outcome = {FAILED: "given up", PENDING: "to be tried again", None: "taken over by another worker"}[state]
        log.warning(
            "outbox: message %d (%s by %s) not sent, attempt %d: %s; %s",
            message.id,
            message.template,
            message.channel,
            message.attempts,
            error,
            outcome,
        )

    def _flush(self, engine: Engine) -> None:
        """Record the sends the database missed; until it takes them nothing new is sent."""
        while self._unrecorded:
            message_id, at = self._unrecorded[0]
            record_sent(engine, message_id, at)
            self._unrecorded.pop(0)

    def _troubled(self, kind: str) -> None:
        if kind != self._trouble:
            log.warning("outbox: cannot send now (%s); trying again every %g s", kind, self.every_s)
            self._trouble = kind

    def _fine(self) -> None:
        if self._trouble is not None:
            log.info("outbox: sending again")
            self._trouble = None

    def stop(self, timeout_s: float = 30) -> None:
        self.stopped.set()
        self.join(timeout_s)
