"""This app instance as one kiosk of the office's fleet (kiosk.fleet): what it tells the
fleet and what staff told it, kept in the app's state (kiosk.extensions)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from dataclasses import dataclass, field

SCREEN_SILENT_S = 10.0  # the kiosk's page has not asked for this long: not alive
RESTARTS = ("screen", "browser", "app")


def kiosk_name(site) -> str:
    """KIOSK_NAME, else the profile's [kiosk] name, else this PC's host name."""
    return os.environ.get("KIOSK_NAME") or site.kiosk.name or socket.gethostname()


@dataclass
class Member:
    """This instance as one kiosk of the fleet: what it tells and what it was told."""

    name: str
    started_at: dt.datetime | None = None  # by the office's clock, at the first heartbeat
    held: str | None = None  # staff's message while out of service by staff ("" without one)
    reloads: int = 0  # reloads asked: the screen reloads when it sees the number change
    restarts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESTARTS, 0))
    tickets_today: int = 0
    ticket_day: dt.date | None = None
    last_ticket_at: dt.datetime | None = None
    _screen_seen: float = float("-inf")
    _born: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def screen_asked(self) -> None:
        self._screen_seen = time.monotonic()

    @property
    def screen_alive(self) -> bool | None:
        """None just after the start, before the page could have asked."""
        if time.monotonic() - self._born < SCREEN_SILENT_S:
            return True if time.monotonic() - self._screen_seen < SCREEN_SILENT_S else None
        return time.monotonic() - self._screen_seen < SCREEN_SILENT_S

    def ticket_taken(self, day: dt.date, at: dt.datetime) -> None:
        with self._lock:
            if day != self.ticket_day:
                self.ticket_day, self.tickets_today = day, 0
            self.tickets_today += 1
            self.last_ticket_at = at
