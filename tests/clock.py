"""The office's clock as the tests and benches set it (kiosk.clock.Clock)."""

from __future__ import annotations

import datetime as dt
import threading


class Clock:
    """A settable clock in naive UTC; starts on a Tuesday morning, office hours."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 11, 24, 9, 0)):
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self.now

    def sync(self) -> None:
        """The test's clock is the office's own source: nothing to align with."""

    @property
    def offset_s(self) -> float:
        return 0.0

    def advance(self, **delta) -> dt.datetime:
        with self._lock:
            self.now += dt.timedelta(**delta)
            return self.now
