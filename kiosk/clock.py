"""The office's clock: one per office, injected, read by every module that stamps or compares
a time (naive UTC).

The instances of one office share a database, so the database's clock is the office's: an
instance whose own clock is a day ahead must neither start tomorrow's numbering nor expire
today's open tickets. `OfficeClock` reads the database's time now and then and runs on from
it with the monotonic clock, so neither a wrong nor a jumping system clock moves it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# Seconds since the epoch by the database server's own clock (SQLite: this process's).
_DATABASE_EPOCH = {
    "sqlite": text("SELECT (julianday('now') - 2440587.5) * 86400.0"),
    "postgresql": text("SELECT extract(epoch FROM clock_timestamp())"),
}


class Clock(Protocol):
    def __call__(self) -> dt.datetime:
        """Now, in naive UTC."""
        ...

    def sync(self) -> None:
        """Align with the office's time source; raises when it cannot be reached."""
        ...

    @property
    def offset_s(self) -> float | None:
        """This PC's own clock minus the office's (None: not measured yet)."""
        ...


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(tzinfo=None)


class OfficeClock:
    """The database's time, followed between readings by the monotonic clock."""

    RESYNC_S = 60.0  # housekeeping calls sync() this often; the first call does it at once
    RETRY_S = 5.0  # an unreachable database is asked again at most this often

    def __init__(
        self, engine: Engine, *, local: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic
    ):
        self.engine, self.local, self.monotonic = engine, local, monotonic
        self._lock = threading.Lock()
        self._base: tuple[float, float] | None = None  # (database epoch, monotonic) at a reading
        self._tried_at: float | None = None
        self._warned = False

    def __call__(self) -> dt.datetime:
        base = self._base
        if base is None:
            base = self._first_reading()
        if base is None:  # the database is away; nothing is decided by this clock without it
            return _utc(self.local())
        return _utc(base[0] + self.monotonic() - base[1])

    def _first_reading(self) -> tuple[float, float] | None:
        tried = self._tried_at
        if tried is not None and self.monotonic() - tried < self.RETRY_S:
            return None
        try:
            self.sync()
        except Exception as exc:  # noqa: BLE001 - any database failure: fall back and say so once
            if not self._warned:
                log.warning("cannot read the database's clock (%s); using this PC's for now", type(exc).__name__)
                self._warned = True
        return self._base

    def sync(self) -> None:
        with self._lock:
            self._tried_at = self.monotonic()
            with self.engine.connect() as conn:
                before = self.monotonic()
                epoch = float(conn.execute(_DATABASE_EPOCH[conn.dialect.name]).scalar_one())
                after = self.monotonic()
            self._base = (epoch, (before + after) / 2)  # the reading is from mid-way
            self._warned = False

    @property
    def offset_s(self) -> float | None:
        base = self._base
        if base is None:
            return None
        return self.local() - (base[0] + self.monotonic() - base[1])
