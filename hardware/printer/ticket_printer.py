"""The ticket printing service: printed, or told why not, within a bounded time.

One `TicketPrinter` per process. It prints one ticket at a time, asks the printer's status
before each ticket, never retries by itself (a retried job could print one number twice)
and never raises for printer trouble: the caller gets a `PrintOutcome` and shows the
ticket on screen when `printed` is False.

The whole call is bounded by `deadline` seconds. The printer work runs in a worker thread;
if a driver blocks past the deadline (a USB transfer that hangs), the caller gets reason
"timeout" and the next call gets "busy" until that worker is done. Such a late worker may
still print its ticket; the citizen then holds the paper and has seen the screen, never
two numbers.

Tickets in a script the code page cannot carry (Arabic; Cyrillic on a Latin code page) print
those lines as pictures. When pictures cannot be made (no font, no Raqm layout), such tickets
print in the site's main language; the log says so at start and for each such ticket, and
every status carries it as its `note`.

Status checks (kiosk pages, health polls) answer from the last status while it is a few
seconds old, and never make a ticket wait: on a network printer they use their own
connection, and on a device they are skipped while a ticket prints.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hardware.printer.drivers import Printer, PrinterError, make_printer
from hardware.printer.escpos_ticket import escpos_lines
from hardware.printer.raster import RasterText, RasterUnavailable
from hardware.printer.settings import PrinterSettings
from hardware.printer.status import LatestStatus, PrinterStatus, failure_reason
from hardware.printer.ticket import TicketPrint, paper_ticket

log = logging.getLogger(__name__)

# Lets a worker that honours the deadline itself report its own, more precise, outcome.
_JOIN_GRACE = 0.1


@dataclass(frozen=True)
class PrintOutcome:
    printed: bool
    status: PrinterStatus
    reason: str | None  # None when printed; else one of status.REASONS, for the caller to translate


class _Progress:
    """What a worker learnt before it was given up on."""

    status: PrinterStatus | None = None


class _Lane:
    """One use of the printer at a time: a lock, and the worker that overran its deadline
    (the next use waits for it, or reports busy)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.straggler: threading.Thread | None = None


class TicketPrinter:
    def __init__(
        self,
        printer: Printer | Mapping[str, Any] | PrinterSettings,
        *,
        deadline: float | None = None,
        on_status: Callable[[PrinterStatus], None] | None = None,
    ):
        self.printer = printer if isinstance(printer, Printer) else make_printer(printer)
        self.deadline = deadline if deadline is not None else self.printer.settings.deadline
        self._on_status = on_status
        self._latest = LatestStatus()
        self._tickets = _Lane()
        # A network printer takes a check on a connection of its own; a device serves one
        # user at a time, so there checks share the tickets' lane.
        self._checks = _Lane() if self.printer.parallel_connections else self._tickets
        self.raster, self.raster_note = _open_raster(self.printer.settings)
        if self.raster_note:
            log.warning("ticket printer: %s", self.raster_note)

    @property
    def latest_status(self) -> PrinterStatus | None:
        """The last status seen by a ticket or a status check (None before the first)."""
        return self._latest.get()

    def render(self, ticket: TicketPrint) -> bytes:
        s = self.printer.settings
        raster = self.raster
        paper = paper_ticket(ticket, s.code_page, raster.covers if raster else None)
        if not paper.complete:
            # The ticket's language, never its texts: a name could be among them one day.
            why = self.raster_note or f"the font {s.raster_font} lacks letters of {ticket.language!r}"
            log.warning("ticket %s printed in the site's main language only: %s", ticket.number, why)
        return escpos_lines(
            paper.lines,
            paper_width_mm=s.paper_width_mm,
            columns=s.columns,
            code_page=s.code_page,
            cut=s.cut,
            raster=raster,
        )

    def print_ticket(self, ticket: TicketPrint) -> PrintOutcome:
        started = time.monotonic()
        deadline = started + self.deadline
        try:
            job = self.render(ticket)
        except Exception as exc:  # a ticket must reach the screen even if rendering fails
            log.exception("ticket %s could not be rendered for the printer", ticket.number)
            known = self.latest_status or PrinterStatus.unreachable("not checked")
            status = dataclasses.replace(known, error=f"rendering failed: {type(exc).__name__}")
            return PrintOutcome(False, self._noted(status), "error")

        outcome = self._bounded(
            lambda progress: self._print_job(job, ticket, deadline, progress),
            deadline,
            self._tickets,
        )
        elapsed_ms = (time.monotonic() - started) * 1000
        if outcome.printed:
            log.info("ticket %s printed (%d bytes, %.0f ms)", ticket.number, len(job), elapsed_ms)
        else:
            log.warning(
                "ticket %s not printed: %s (%s, %.0f ms)",
                ticket.number,
                outcome.reason,
                outcome.status.error or "",
                elapsed_ms,
            )
        return outcome

    def check_status(self, max_age: float | None = None) -> PrinterStatus:
        """The printer's status for kiosk pages and the dashboard: the last one seen (by a
        ticket or a check) if less than `max_age` seconds old (default: the printer's
        status_max_age), else asked now, bounded the same way. Never waits for the printer
        to be free: while a ticket prints (it asks the status itself) or another check
        runs, this answers with the last status known."""
        fresh = self._latest.fresh(self.printer.status_max_age if max_age is None else max_age)
        if fresh is not None:
            return fresh
        if not self._tickets.lock.locked():
            deadline = time.monotonic() + self.deadline
            outcome = self._bounded(
                lambda progress: self._check(deadline, progress), deadline, self._checks, wait=False
            )
            if outcome.reason != "busy":
                return outcome.status
        # Nothing known yet: do not call the printer out of order for being in use.
        return self.latest_status or self._noted(PrinterStatus.not_reported())

    # -- inside the worker thread ---------------------------------------------------------

    def _print_job(self, job: bytes, ticket: TicketPrint, deadline: float, progress: _Progress) -> PrintOutcome:
        try:
            connection = self.printer.connect(deadline)
        except PrinterError as exc:
            return PrintOutcome(False, PrinterStatus.unreachable(exc.message), exc.reason)
        with connection:
            try:
                status = connection.status(deadline)
            except PrinterError as exc:
                return PrintOutcome(False, PrinterStatus.unreachable(exc.message), exc.reason)
            progress.status = status
            if not status.ready:
                return PrintOutcome(False, status, failure_reason(status))
            try:
                connection.send(job, ticket, deadline)
            except PrinterError as exc:
                # The printer was ready a moment ago; after a failed send its state is in doubt.
                failed = dataclasses.replace(status, error=exc.message, checked_at=_now())
                return PrintOutcome(False, failed, exc.reason)
        return PrintOutcome(True, status, None)

    def _check(self, deadline: float, progress: _Progress) -> PrintOutcome:
        try:
            with self.printer.connect(deadline) as connection:
                status = connection.status(deadline)
        except PrinterError as exc:
            return PrintOutcome(False, PrinterStatus.unreachable(exc.message), exc.reason)
        return PrintOutcome(status.ready, status, failure_reason(status))

    # -- bounding and publishing ----------------------------------------------------------

    def _bounded(
        self,
        work: Callable[[_Progress], PrintOutcome],
        deadline: float,
        lane: _Lane,
        wait: bool = True,
    ) -> PrintOutcome:
        """Run `work` in a worker thread within `deadline`, one at a time per lane.
        `wait=False`: report busy at once when the lane is taken."""
        if not lane.lock.acquire(timeout=max(0.0, deadline - time.monotonic()) if wait else 0):
            return self._busy()
        try:
            if lane.straggler is not None:
                lane.straggler.join(max(0.0, deadline - time.monotonic()) if wait else 0)
                if lane.straggler.is_alive():
                    return self._busy()
                lane.straggler = None

            progress = _Progress()
            result: list[PrintOutcome] = []

            def run() -> None:
                try:
                    result.append(work(progress))
                except Exception as exc:
                    log.exception("printer driver failed")
                    result.append(
                        PrintOutcome(
                            False,
                            PrinterStatus.unreachable(f"{type(exc).__name__}: {exc}"),
                            "error",
                        )
                    )

            worker = threading.Thread(target=run, name="ticket-printer", daemon=True)
            worker.start()
            worker.join(max(0.0, deadline - time.monotonic()) + _JOIN_GRACE)
            if result:
                outcome = result[0]
            else:
                lane.straggler = worker
                message = f"the printer did not finish within {self.deadline:.1f} s"
                if progress.status is not None:
                    status = dataclasses.replace(progress.status, error=message, checked_at=_now())
                else:
                    status = PrinterStatus.unreachable(message)
                outcome = PrintOutcome(False, status, "timeout")
        finally:
            lane.lock.release()
        outcome = dataclasses.replace(outcome, status=self._noted(outcome.status))
        self._publish(outcome.status)
        return outcome

    def _busy(self) -> PrintOutcome:
        known = self.latest_status or self._noted(PrinterStatus.unreachable("not checked yet"))
        return PrintOutcome(False, known, "busy")

    def _noted(self, status: PrinterStatus) -> PrinterStatus:
        if self.raster_note is None or status.note is not None:
            return status
        return dataclasses.replace(status, note=self.raster_note)

    def _publish(self, status: PrinterStatus) -> None:
        self._latest.set(status)
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("printer status listener failed")


def _open_raster(settings: PrinterSettings) -> tuple[RasterText | None, str | None]:
    """The picture maker, or None and why not (for the log and the printer's status)."""
    try:
        return RasterText.open(settings.raster_font, settings.dot_width), None
    except RasterUnavailable as exc:
        note = (
            f"no pictures of text ({exc}); tickets in a script code page {settings.code_page} "
            "lacks print in the site's main language only"
        )
        return None, note


def _now() -> datetime:
    return datetime.now(UTC)
