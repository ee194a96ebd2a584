"""The office's kiosks, for facility staff.

Every app instance that has a kiosk screen reports itself into the shared database every
BEAT_S seconds (a heartbeat: version, reader, printer, tickets today, whether its screen is
alive, clock offset, in service or why not) and, in the same round, fetches what staff asked
of it: out of service with a message and back, reload the screen, restart the browser or
the app. So nothing connects into a kiosk PC. States and counts only: no personal data.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import logging
import os
import signal
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from . import storage
from .errors import describe
from .extensions import office
from .member import Member
from .schema import kiosk_alerts, kiosk_commands, kiosks
from .service_state import reasons

log = logging.getLogger(__name__)

BEAT_S = 1.0  # also how soon a command reaches its kiosk
SILENT_S = 60.0  # no heartbeat for this long: an alert
CLOCK_OFF_S = 5.0
ALERT_DAYS = 7
try:
    VERSION = importlib.metadata.version("snelbalie-kiosk")
except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
    VERSION = "unknown"
ALERTS = ("silent", "out_of_service", "reader", "printer_offline", "paper_near_end", "paper_out", "clock", "screen")


@dataclass(frozen=True)
class Orders:
    held: str | None  # None: in service as far as staff are concerned
    commands: list[tuple[str, str | None]]  # (kind, message) not yet carried out


def beat(engine: Engine, name: str, state: dict[str, Any], version: str, started_at: dt.datetime, now: dt.datetime):
    """Write this kiosk's state, note its alerts coming and going, and fetch its orders."""
    with storage.writing(engine) as conn:
        row = conn.execute(select(kiosks).where(kiosks.c.name == name)).first()
        held = row is not None and row.held_out
        # as it stands after this beat: held out or not as the kiosk now knows it
        state = {**state, "held": held}
        values = dict(last_seen=now, started_at=started_at, version=version, state=state)
        if row is None:
            conn.execute(insert(kiosks).values(name=name, held_out=False, **values))
            before: set[str] = set()
        else:
            conn.execute(update(kiosks).where(kiosks.c.name == name).values(**values))
            before = set(alerts_of(row.state, bool(row.state.get("held")), row.last_seen, now=row.last_seen))
            if (now - row.last_seen).total_seconds() > SILENT_S:  # it was silent, and is back
                conn.execute(
                    insert(kiosk_alerts).values(kiosk=name, kind="silent", started_at=row.last_seen, ended_at=now)
                )
        now_alerts = set(alerts_of(state, held, now, now=now))
        for kind in now_alerts - before:
            conn.execute(insert(kiosk_alerts).values(kiosk=name, kind=kind, started_at=now))
        for kind in before - now_alerts:
            conn.execute(
                update(kiosk_alerts)
                .where(kiosk_alerts.c.kiosk == name, kiosk_alerts.c.kind == kind, kiosk_alerts.c.ended_at.is_(None))
                .values(ended_at=now)
            )
        pending = conn.execute(
            select(kiosk_commands.c.id, kiosk_commands.c.kind, kiosk_commands.c.message)
            .where(kiosk_commands.c.kiosk == name, kiosk_commands.c.done_at.is_(None))
            .order_by(kiosk_commands.c.id)
        ).all()
        if pending:
            conn.execute(
                update(kiosk_commands).where(kiosk_commands.c.id.in_([c.id for c in pending])).values(done_at=now)
            )
        message = row.message if row is not None else None
    return Orders(held=(message or "") if held else None, commands=[(c.kind, c.message) for c in pending])


def alerts_of(state: dict[str, Any], held_out: bool, last_seen: dt.datetime, now: dt.datetime) -> list[str]:
    found = []
    if (now - last_seen).total_seconds() > SILENT_S:
        found.append("silent")
    if held_out or state.get("reasons"):
        found.append("out_of_service")
    if state.get("reader") in ("no_reader", "error"):
        found.append("reader")
    printer = state.get("printer") or {}
    if printer and not printer.get("online", True):
        found.append("printer_offline")
    if printer.get("paper") in ("near_end", "out"):
        found.append(f"paper_{printer['paper']}")
    offset = state.get("clock_offset_s")
    if offset is not None and abs(offset) > CLOCK_OFF_S:
        found.append("clock")
    if state.get("screen_alive") is False:
        found.append("screen")
    return found


class UnknownKiosk(LookupError):
    pass


def order(engine: Engine, name: str, kind: str, *, by: str, now: dt.datetime, message: str | None = None) -> None:
    """Staff's order for a kiosk, logged with who and when; out of service holds at once."""
    with storage.writing(engine) as conn:
        if conn.execute(select(kiosks.c.name).where(kiosks.c.name == name)).first() is None:
            raise UnknownKiosk(f"There is no kiosk {name!r}.")
        conn.execute(insert(kiosk_commands).values(kiosk=name, kind=kind, message=message, by=by, at=now))
        if kind in ("out_of_service", "in_service"):
            held = kind == "out_of_service"
            conn.execute(
                update(kiosks).where(kiosks.c.name == name).values(held_out=held, message=message if held else None)
            )
    log.info("kiosk %s: %s ordered by %s", name, kind, by)


@dataclass(frozen=True)
class Kiosk:
    name: str
    last_seen: dt.datetime
    age_s: float
    in_service: bool
    reason: str | None
    reader: str | None
    printer: dict | None
    version: str
    clock_offset_s: float | None
    screen_alive: bool | None
    tickets_today: int
    last_ticket_at: str | None
    alerts: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "last_seen": self.last_seen.isoformat() + "Z",
            "age_s": round(self.age_s, 1),
            "in_service": self.in_service,
            "reason": self.reason,
            "reader": self.reader,
            "printer": self.printer,
            "version": self.version,
            "clock_offset_s": self.clock_offset_s,
            "screen_alive": self.screen_alive,
            "tickets_today": self.tickets_today,
            "last_ticket_at": self.last_ticket_at,
            "alerts": self.alerts,
        }


def fleet(engine: Engine, now: dt.datetime) -> list[Kiosk]:
    """Every kiosk with its last heartbeat, by name."""
    with storage.reading(engine) as conn:
        rows = conn.execute(select(kiosks).order_by(kiosks.c.name)).all()
    found = []
    for row in rows:
        state, age = row.state or {}, (now - row.last_seen).total_seconds()
        reasons = list(state.get("reasons") or [])
        if row.held_out:
            reason = row.message or "out of service"
        else:
            reason = ", ".join(reasons) or None
        found.append(
            Kiosk(
                name=row.name,
                last_seen=row.last_seen,
                age_s=age,
                in_service=not row.held_out and not reasons and age <= SILENT_S,
                reason=reason if age <= SILENT_S else f"no heartbeat for {int(age)} s",
                reader=state.get("reader"),
                printer=state.get("printer"),
                version=row.version,
                clock_offset_s=state.get("clock_offset_s"),
                screen_alive=state.get("screen_alive"),
                tickets_today=state.get("tickets_today", 0),
                last_ticket_at=state.get("last_ticket_at"),
                alerts=alerts_of(state, row.held_out, row.last_seen, now),
            )
        )
    return found


def recent_alerts(engine: Engine, now: dt.datetime) -> list[dict[str, Any]]:
    """The alerts of the last ALERT_DAYS days, newest first."""
    since = now - dt.timedelta(days=ALERT_DAYS)
    with storage.reading(engine) as conn:
        rows = conn.execute(
            select(kiosk_alerts).where(kiosk_alerts.c.started_at >= since).order_by(kiosk_alerts.c.started_at.desc())
        ).all()
    return [
        {
            "kiosk": r.kiosk,
            "kind": r.kind,
            "started_at": r.started_at.isoformat() + "Z",
            "ended_at": None if r.ended_at is None else r.ended_at.isoformat() + "Z",
        }
        for r in rows
    ]


class Heartbeat(threading.Thread):
    """This instance's heartbeat: reports every BEAT_S seconds, carries out its orders."""

    def __init__(self, app, every_s: float = BEAT_S):
        super().__init__(name="heartbeat", daemon=True)
        self.app, self.every_s = app, every_s
        self._halt = threading.Event()
        self._failing: str | None = None

    def run(self) -> None:
        while not self._halt.is_set():
            self.beat_once()
            self._halt.wait(self.every_s)

    def stop(self, timeout_s: float = 10) -> None:
        self._halt.set()
        self.join(timeout_s)

    def beat_once(self) -> bool:
        with self.app.app_context():
            member = office.member
            member.started_at = member.started_at or office.clock()
            printer = office.printer.check_status(max_age=5)  # polled on its own, not only at a ticket
            offset = office.clock.offset_s
            state = {
                "reader": str(office.reader.snapshot().state),
                "printer": {"online": printer.online, "paper": printer.paper, "cover_open": printer.cover_open},
                "tickets_today": member.tickets_today if member.ticket_day == office.queue.today() else 0,
                "last_ticket_at": None if member.last_ticket_at is None else member.last_ticket_at.isoformat() + "Z",
                "screen_alive": member.screen_alive,
                "clock_offset_s": None if offset is None else round(offset, 3),
                "reasons": reasons(include_held=False),
            }
            try:
                orders = beat(office.engine, member.name, state, VERSION, member.started_at, office.clock())
            except DBAPIError as exc:
                kind = describe(exc)
                if kind != self._failing:
                    log.warning("heartbeat not written: %s", kind)
                    self._failing = kind
                return False
            self._failing = None
            member.held = orders.held
            for kind, _ in orders.commands:
                carry_out(member, kind)
            return True


def carry_out(member: Member, kind: str) -> None:
    if kind in ("reload", "restart_screen"):  # the screen is the kiosk's page
        member.reloads += 1
    elif kind.startswith("restart_"):
        what = kind.removeprefix("restart_")
        if what == "app":
            log.warning("restarting the app, as ordered")
            os.kill(os.getpid(), signal.SIGTERM)  # systemd starts it again
        elif what in member.restarts:
            member.restarts[what] += 1  # the screen's supervisor acts on it (deploy/)
