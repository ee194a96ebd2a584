"""kiosk.printing: the ticket is already issued, so printing it never raises."""

import pytest

from hardware.printer import PrinterConfigError
from kiosk.extensions import office
from kiosk.printing import print_ticket


@pytest.fixture
def database_url(tmp_path):
    """Printing does not depend on the database kind."""
    return f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"


class RaisingPrinter:
    """A printer object that fails in a way TicketPrinter never should (a bug)."""

    def print_ticket(self, ticket):
        raise RuntimeError("Jan Peeters 85.03.04-123.45")


def missing_package():
    raise PrinterConfigError("[printer] kind 'usb' needs the package pyusb")


@pytest.mark.parametrize(
    "devices_printer, logged",
    [
        (RaisingPrinter, "RuntimeError"),
        (missing_package, "hardware.printer.settings.PrinterConfigError"),
    ],
)
def test_any_printer_failure_is_an_unprinted_outcome(app, caplog, devices_printer, logged):
    with app.app_context():
        ticket, place = office.queue.issue("pickup", language="nl")
        app.extensions["office"]["devices"].printer = devices_printer
        outcome = print_ticket(ticket, place)
    assert (outcome.printed, outcome.reason) == (False, "error")
    assert outcome.status.ready is False
    assert f"ticket {ticket.number} not printed: {logged}" in caplog.text
    assert "Peeters" not in caplog.text and "pyusb" not in caplog.text  # the type only
