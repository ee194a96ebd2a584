"""Printed or told why not: every printer state, against the fake network printer."""

import threading
import time

import pytest

from hardware.printer import (
    PrinterStatus,
    TicketPrinter,
    make_printer,
    parse_settings,
)
from hardware.printer.drivers import (
    EscposDevicePrinter,
    NetworkPrinter,
    Printer,
    PrinterConnection,
)
from hardware.printer.escpos_lib import escpos_printers
from hardware.printer.fake_printer import FakeNetworkPrinter
from tests.system import wait_until

# Timing margin on top of a deadline: thread start, scheduling on a busy test machine.
MARGIN = 0.5
RELEASE_LIMIT = 30  # a blocked driver gives up after this even if a test never releases it


def settle(fake):
    """Wait until the fake printer has seen every connection close (jobs are recorded then)."""
    wait_until(lambda: fake.active_connections == 0, timeout=5, what="connections to close")


@pytest.mark.parametrize(
    "mode, printed, reason, paper, cover_open",
    [
        ("ok", True, None, "ok", False),
        ("paper_near_end", True, None, "near_end", False),
        ("paper_out", False, "paper_out", "out", False),
        ("cover_open", False, "cover_open", "ok", True),
    ],
)
def test_status_decides_whether_the_ticket_prints(fake_printer, make_ticket, mode, printed, reason, paper, cover_open):
    fake_printer.mode = mode
    printer = TicketPrinter(fake_printer.settings(deadline=2.0))
    ticket = make_ticket()

    outcome = printer.print_ticket(ticket)

    assert outcome.printed is printed
    assert outcome.reason == reason
    assert outcome.status.paper == paper
    assert outcome.status.cover_open is cover_open
    assert outcome.status.ready is printed
    assert printer.latest_status == outcome.status
    settle(fake_printer)
    if printed:
        [job] = fake_printer.jobs
        assert job.data == printer.render(ticket)
        assert job.status_queries == 3
    else:
        assert fake_printer.jobs == []
    assert fake_printer.connections == 1  # status and job share one connection


def test_offline_printer_closing_the_connection(fake_printer, make_ticket):
    fake_printer.mode = "offline"
    printer = TicketPrinter(fake_printer.settings(deadline=2.0))
    started = time.monotonic()
    outcome = printer.print_ticket(make_ticket())
    assert time.monotonic() - started < 2.0 + MARGIN
    assert (outcome.printed, outcome.reason) == (False, "offline")
    assert outcome.status.online is False and outcome.status.error
    assert fake_printer.jobs == [] and fake_printer.connections == 1


def test_refused_connection_fails_fast(make_ticket):
    fake = FakeNetworkPrinter().start()
    fake.stop()  # nothing listens on its port any more
    printer = TicketPrinter(fake.settings())
    started = time.monotonic()
    outcome = printer.print_ticket(make_ticket())
    elapsed = time.monotonic() - started

    assert elapsed < printer.deadline + MARGIN
    assert (outcome.printed, outcome.reason) == (False, "offline")
    assert "refused" in outcome.status.error
    assert outcome.status.ready is False


def test_silent_printer_fails_within_the_default_deadline(fake_printer, make_ticket):
    fake_printer.mode = "silent"
    printer = TicketPrinter(fake_printer.settings())  # defaults: 2 s per step, 3 s in all
    assert printer.deadline == 3.0
    started = time.monotonic()
    outcome = printer.print_ticket(make_ticket())
    elapsed = time.monotonic() - started

    assert elapsed < printer.deadline + MARGIN
    assert (outcome.printed, outcome.reason) == (False, "timeout")
    assert outcome.status.online is False and outcome.status.paper == "unknown"
    settle(fake_printer)
    assert fake_printer.jobs == []  # the ticket was not sent to a printer that did not answer


def test_silent_printer_with_a_short_deadline(fake_printer, make_ticket):
    fake_printer.mode = "silent"
    printer = TicketPrinter(fake_printer.settings(timeout=5.0, deadline=0.4))
    started = time.monotonic()
    outcome = printer.print_ticket(make_ticket())
    assert time.monotonic() - started < 0.4 + MARGIN
    assert outcome.reason == "timeout" and not outcome.printed


def test_no_automatic_retry(fake_printer, make_ticket):
    printer = TicketPrinter(fake_printer.settings(deadline=1.0))

    fake_printer.mode = "paper_out"
    assert printer.print_ticket(make_ticket(number="A001")).reason == "paper_out"
    fake_printer.mode = "silent"
    assert printer.print_ticket(make_ticket(number="A001")).reason == "timeout"
    fake_printer.mode = "offline"
    assert printer.print_ticket(make_ticket(number="A001")).reason == "offline"
    settle(fake_printer)
    assert fake_printer.connections == 3  # one attempt per call
    assert fake_printer.jobs == []

    fake_printer.mode = "ok"
    assert printer.print_ticket(make_ticket(number="A002")).printed
    settle(fake_printer)
    assert fake_printer.connections == 4
    [job] = fake_printer.jobs
    assert b"A002" in job.data and b"A001" not in job.data


class CountingNetworkPrinter(NetworkPrinter):
    """Counts connections open at the same time, on the kiosk's side."""

    def __init__(self, settings):
        super().__init__(settings)
        self.lock = threading.Lock()
        self.open_now = 0
        self.most_open = 0

    def connect(self, deadline):
        connection = super().connect(deadline)
        with self.lock:
            self.open_now += 1
            self.most_open = max(self.most_open, self.open_now)
        close = connection.close

        def counted_close():
            close()
            with self.lock:
                self.open_now -= 1

        connection.close = counted_close
        return connection


def test_one_job_at_a_time_and_no_interleaving(fake_printer, make_ticket):
    network = CountingNetworkPrinter(parse_settings(fake_printer.settings(deadline=10.0)))
    printer = TicketPrinter(network)
    tickets = [make_ticket(number=f"B{n:03d}") for n in range(8)]
    outcomes = {}

    def issue(ticket):
        outcomes[ticket.number] = printer.print_ticket(ticket)

    threads = [threading.Thread(target=issue, args=(t,)) for t in tickets]
    for thread in threads:
        thread.start()
    wait_until(lambda: not any(t.is_alive() for t in threads), timeout=20, what="every ticket")

    assert all(outcome.printed for outcome in outcomes.values())
    settle(fake_printer)
    received = sorted(job.data for job in fake_printer.jobs)
    assert received == sorted(printer.render(t) for t in tickets)
    assert network.most_open == 1


class BlockingPrinter(Printer):
    """A driver stuck in a write (like a device file whose printer is switched off)."""

    kind = "blocking"

    def __init__(self, release: threading.Event):
        super().__init__(parse_settings({"kind": "simulated"}))
        self.release = release
        self.sending = threading.Event()
        self.sent: list[bytes] = []

    def connect(self, deadline):
        printer = self

        class Connection(PrinterConnection):
            def status(self, deadline):
                return PrinterStatus.not_reported()

            def send(self, job, ticket, deadline):
                printer.sending.set()
                if not printer.release.wait(RELEASE_LIMIT):
                    raise TimeoutError("the blocking driver was never released")
                printer.sent.append(job)

            def close(self):
                pass

        return Connection()


def test_a_blocked_driver_cannot_hold_the_caller(make_ticket):
    release = threading.Event()
    blocking = BlockingPrinter(release)
    printer = TicketPrinter(blocking, deadline=0.3)
    try:
        started = time.monotonic()
        first = printer.print_ticket(make_ticket(number="C001"))
        assert time.monotonic() - started < 0.3 + MARGIN
        assert (first.printed, first.reason) == (False, "timeout")
        assert first.status.paper == "unknown" and first.status.error

        started = time.monotonic()
        second = printer.print_ticket(make_ticket(number="C002"))
        assert time.monotonic() - started < 0.3 + MARGIN
        assert (second.printed, second.reason) == (False, "busy")
    finally:
        release.set()
    third = printer.print_ticket(make_ticket(number="C003"))
    assert third.printed
    assert [b"C001" in job for job in blocking.sent] == [True, False]
    assert b"C003" in blocking.sent[1] and not any(b"C002" in job for job in blocking.sent)


def test_status_check_and_listener(fake_printer, make_ticket):
    seen = []
    printer = TicketPrinter(fake_printer.settings(), on_status=seen.append)
    assert printer.latest_status is None

    fake_printer.mode = "paper_near_end"
    status = printer.check_status()
    assert status.paper == "near_end" and status.ready
    assert printer.latest_status == status and seen == [status]
    settle(fake_printer)
    assert fake_printer.jobs == []  # a status check sends no job

    fake_printer.mode = "cover_open"
    printer.print_ticket(make_ticket())
    assert printer.latest_status.cover_open and seen[-1] is printer.latest_status
    assert printer.latest_status.as_dict()["ready"] is False


def test_status_checks_answer_from_a_recent_status(fake_printer):
    printer = TicketPrinter(fake_printer.settings())
    first = printer.check_status()
    assert printer.check_status() is first  # a kiosk page and a health poll: one query
    settle(fake_printer)
    assert fake_printer.connections == 1
    fake_printer.mode = "paper_out"
    assert printer.check_status(max_age=0).paper == "out"
    assert fake_printer.connections == 2


def test_a_ticket_does_not_wait_behind_a_status_check(fake_printer, make_ticket):
    fake_printer.mode = "silent"
    printer = TicketPrinter(fake_printer.settings(deadline=2.0))
    checking = threading.Thread(target=printer.check_status)
    checking.start()
    wait_until(lambda: fake_printer.status_queries >= 3, what="the check's status query")
    fake_printer.mode = "ok"  # the check's query stays unanswered; the ticket's is not
    outcome = printer.print_ticket(make_ticket())
    assert outcome.printed and checking.is_alive()  # printed while the check still waits
    checking.join(2.0 + MARGIN)  # the check's own deadline
    assert not checking.is_alive()


def test_a_status_check_does_not_wait_for_a_ticket_on_a_device(make_ticket):
    release = threading.Event()
    blocking = BlockingPrinter(release)  # a device: one user at a time
    printer = TicketPrinter(blocking, deadline=5.0)
    printing = threading.Thread(target=printer.print_ticket, args=(make_ticket(),))
    printing.start()
    try:
        assert blocking.sending.wait(5)
        started = time.monotonic()
        printer.check_status()
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        printing.join(5.0 + MARGIN)  # the ticket's deadline
    assert not printing.is_alive()


def test_listener_errors_do_not_break_printing(fake_printer, make_ticket, caplog):
    def broken(status):
        raise RuntimeError("dashboard down")

    printer = TicketPrinter(fake_printer.settings(), on_status=broken)
    assert printer.print_ticket(make_ticket()).printed
    assert "status listener failed" in caplog.text


def test_python_escpos_driver_path(fake_printer, make_ticket):
    """The code used for USB and serial printers, run over python-escpos's Network class."""

    def open_device(settings):
        return escpos_printers().Network(settings.host, settings.port, timeout=settings.timeout)

    def read(device, n, timeout):
        device.device.settimeout(timeout)
        try:
            return device.device.recv(n)
        except TimeoutError:
            return b""

    settings = parse_settings(fake_printer.settings(deadline=1.0))
    printer = TicketPrinter(EscposDevicePrinter(settings, open_device, read, "network"))
    ticket = make_ticket()

    assert printer.print_ticket(ticket).printed
    assert fake_printer.wait_for_job(2.0).data == printer.render(ticket)

    fake_printer.mode = "paper_out"
    assert printer.print_ticket(ticket).reason == "paper_out"
    fake_printer.mode = "silent"
    started = time.monotonic()
    assert printer.print_ticket(ticket).reason == "timeout"
    assert time.monotonic() - started < 1.0 + MARGIN
    settle(fake_printer)
    assert len(fake_printer.jobs) == 1


def test_rendering_failure_is_an_outcome_not_an_exception(fake_printer, make_ticket):
    printer = TicketPrinter(fake_printer.settings())
    printer.render = lambda ticket: 1 / 0
    outcome = printer.print_ticket(make_ticket())
    assert (outcome.printed, outcome.reason) == (False, "error")
    assert fake_printer.connections == 0


def test_make_printer_kinds(tmp_path):
    network = make_printer({"kind": "network", "host": "10.0.0.5"})
    assert network.describe() == "network 10.0.0.5:9100"
    assert make_printer({"kind": "file", "path": "/dev/usb/lp0"}).kind == "file"
    assert make_printer({"kind": "simulated", "folder": str(tmp_path)}).kind == "simulated"
    assert make_printer(None).kind == "simulated"
