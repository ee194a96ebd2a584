"""Printer status: what the printer reports before each ticket, and the latest one kept.

ESC/POS real-time status (DLE EOT n, one byte answered per query; bits 1 and 4 are always 1,
bits 0 and 7 always 0):
  n=1 printer:      bit 3 offline
  n=2 offline cause: bit 2 cover open, bit 5 stopped at paper end, bit 6 error
  n=4 roll paper:   bits 2-3 near end, bits 5-6 paper end
A printer with paper out or its cover open may still accept a job without complaint, so the
status is asked for before every ticket.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

DLE_EOT = b"\x10\x04"
QUERY_PRINTER = 1
QUERY_OFFLINE_CAUSE = 2
QUERY_ROLL_PAPER = 4
# The three queries sent together: one round trip, three answer bytes in this order.
STATUS_QUERY = b"".join(DLE_EOT + bytes([n]) for n in (QUERY_PRINTER, QUERY_OFFLINE_CAUSE, QUERY_ROLL_PAPER))
STATUS_ANSWER_LENGTH = 3

PAPER_STATES = ("ok", "near_end", "out", "unknown")

# Stable codes a caller translates; see `failure_reason`.
REASONS = ("paper_out", "cover_open", "offline", "timeout", "busy", "error")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    paper: str  # one of PAPER_STATES
    cover_open: bool
    error: str | None
    checked_at: datetime = field(default_factory=_now)
    # Something that prints, but not as it should (no pictures of text: tickets in a script
    # the code page lacks come out in the site's main language). Never personal data.
    note: str | None = None

    @property
    def ready(self) -> bool:
        """Fit to print a ticket. Paper "near_end" still prints; "unknown" (a printer that
        cannot report, e.g. a plain device file) does not block printing."""
        return self.online and self.paper != "out" and not self.cover_open and self.error is None

    @classmethod
    def unreachable(cls, error: str) -> PrinterStatus:
        return cls(online=False, paper="unknown", cover_open=False, error=error)

    @classmethod
    def not_reported(cls) -> PrinterStatus:
        """For printers that cannot answer status queries: assumed online."""
        return cls(online=True, paper="unknown", cover_open=False, error=None)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["checked_at"] = self.checked_at.isoformat()
        data["ready"] = self.ready
        return data


def _valid(byte: int) -> bool:
    return byte & 0b1001_0011 == 0b0001_0010


def parse_status(answer: bytes) -> PrinterStatus:
    """Status from the answers to `STATUS_QUERY` (DLE EOT 1, 2, 4)."""
    if len(answer) != STATUS_ANSWER_LENGTH or not all(_valid(b) for b in answer):
        return PrinterStatus(
            online=False,
            paper="unknown",
            cover_open=False,
            error=f"unexpected status answer {answer.hex(' ') or '(none)'}",
        )
    printer, cause, roll = answer
    if roll & 0x60 or cause & 0x20:
        paper = "out"
    elif roll & 0x0C:
        paper = "near_end"
    else:
        paper = "ok"
    return PrinterStatus(
        online=not printer & 0x08,
        paper=paper,
        cover_open=bool(cause & 0x04),
        error="printer reports an error" if cause & 0x40 else None,
    )


def failure_reason(status: PrinterStatus) -> str | None:
    """Why a ticket cannot print with this status, as a stable code; None when ready.

    The most specific cause wins: a printer with its cover open or paper out, or one that
    reports an error, also reports offline.
    """
    if status.ready:
        return None
    if status.paper == "out":
        return "paper_out"
    if status.cover_open:
        return "cover_open"
    if status.error is not None:
        return "error"
    return "offline"


class LatestStatus:
    """The most recent status, readable from any thread (kiosk pages, facility dashboard)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: PrinterStatus | None = None
        self._seen_at = 0.0  # time.monotonic(): wall-clock steps must not make it look fresh

    def set(self, status: PrinterStatus) -> None:
        with self._lock:
            if self._status is None or status.checked_at >= self._status.checked_at:
                self._status = status
                self._seen_at = time.monotonic()

    def get(self) -> PrinterStatus | None:
        with self._lock:
            return self._status

    def fresh(self, max_age: float) -> PrinterStatus | None:
        """The latest status if it was seen less than `max_age` seconds ago."""
        with self._lock:
            if self._status is not None and time.monotonic() - self._seen_at < max_age:
                return self._status
            return None
