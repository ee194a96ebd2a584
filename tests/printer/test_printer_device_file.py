"""Device-file printers (kind "file", e.g. /dev/usb/lp0), against a pseudo-terminal.

A raw pty behaves like such a device for what the driver relies on: a node to open, bytes
both ways, poll() readiness, and a write side that stops taking bytes while the far side
does not read (as usblp does while the paper is out). What it does not reproduce: usblp's
EINVAL on reads from a unidirectional printer, and usblp dropping an unfinished transfer
on close (the driver waits for POLLOUT before closing; on a pty that is at once).
"""

import os
import pty
import select
import threading
import time
import tty

import pytest

from hardware.printer import PrinterError, TicketPrinter, parse_settings
from hardware.printer.drivers import FilePrinter
from tests.system import wait_until

MARGIN = 0.5
OK = {1: 0x12, 2: 0x12, 4: 0x12}
PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x72}


class PtyPrinter:
    """The printer's end of a pseudo-terminal: answers DLE EOT n with `answers[n]` (no
    answer when `answers` is None) and keeps every other byte. While `taking` is clear it
    reads nothing, so the device side soon stops accepting writes."""

    def __init__(self):
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # a byte pipe: no echo, no newline translation
        self.path = os.ttyname(self._slave)
        self.answers: dict[int, int] | None = OK
        self.taking = threading.Event()
        self.taking.set()
        self.received = bytearray()
        self.queries = 0
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        poller = select.poll()
        poller.register(self._master, select.POLLIN)
        pending = b""
        while not self._stop:
            if not self.taking.wait(0.05) or not poller.poll(50):
                continue
            pending += os.read(self._master, 4096)
            while pending:
                if pending[0] == 0x10:
                    if len(pending) < 3:
                        break
                    if pending[1] == 0x04:
                        with self._lock:
                            self.queries += 1
                        if self.answers is not None:
                            os.write(self._master, bytes([self.answers[pending[2]]]))
                        pending = pending[3:]
                        continue
                with self._lock:
                    self.received.append(pending[0])
                pending = pending[1:]

    def job(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def close(self):
        self._stop = True
        self.taking.set()
        self._thread.join(timeout=5)  # it wakes at least every 50 ms to see the stop
        assert not self._thread.is_alive(), "the pty printer's thread did not stop"
        os.close(self._master)
        os.close(self._slave)


@pytest.fixture
def device():
    printer = PtyPrinter()
    yield printer
    printer.close()


def test_status_is_asked_before_the_ticket(device, make_ticket):
    printer = TicketPrinter({"kind": "file", "path": device.path, "deadline": 2.0})
    ticket = make_ticket()
    outcome = printer.print_ticket(ticket)
    assert outcome.printed and outcome.status.paper == "ok"
    wait_until(lambda: device.job() == printer.render(ticket), what="the ticket")
    assert device.queries == 3


def test_paper_out_is_reported_and_nothing_is_sent(device, make_ticket):
    device.answers = PAPER_OUT
    printer = TicketPrinter({"kind": "file", "path": device.path, "deadline": 2.0})
    outcome = printer.print_ticket(make_ticket())
    assert (outcome.printed, outcome.reason) == (False, "paper_out")
    assert device.queries == 3 and device.job() == b""


def test_a_silent_device_fails_within_the_deadline(device, make_ticket):
    device.answers = None
    printer = TicketPrinter({"kind": "file", "path": device.path, "timeout": 5.0, "deadline": 0.5})
    started = time.monotonic()
    outcome = printer.print_ticket(make_ticket())
    assert time.monotonic() - started < 0.5 + MARGIN
    assert (outcome.printed, outcome.reason) == (False, "timeout")
    assert device.job() == b""
    # the worker itself gave up at the deadline: the next ticket is not "busy"
    device.answers = OK
    assert printer.print_ticket(make_ticket()).printed


def test_a_device_that_takes_no_more_bytes_cannot_hold_the_writer(device):
    device.taking.clear()  # like usblp with the paper out: the write never completes
    settings = parse_settings({"kind": "file", "path": device.path, "timeout": 5.0})
    deadline = time.monotonic() + 0.5
    failures = []

    def send():
        with FilePrinter(settings).connect(deadline) as connection:
            try:
                connection.send(b"\x00" * 1_000_000, None, deadline)
            except PrinterError as exc:
                failures.append(exc.reason)

    writer = threading.Thread(target=send, daemon=True)
    writer.start()
    writer.join(0.5 + MARGIN)
    assert not writer.is_alive() and failures == ["timeout"]
