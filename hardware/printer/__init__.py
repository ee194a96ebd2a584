"""Queue-ticket printing on ESC/POS thermal printers, with on-screen and PNG previews.

No Flask, no database: the caller passes a `TicketPrint` with already translated texts and
gets a `PrintOutcome` back. Typical use:

    printer = TicketPrinter(site_profile.printer.settings())  # the checked [printer] table
    outcome = printer.print_ticket(ticket)
    if not outcome.printed:
        show render_html(ticket) and a message for outcome.reason

Every language on paper (text where the code page carries it, else pictures of text, right to
left where needed): see `hardware.printer.ticket` and `hardware.printer.raster`.
The fake network printer lives in `hardware.printer.fake_printer` (not imported here so
`python -m hardware.printer.fake_printer` runs cleanly).
"""

from hardware.printer.drivers import Printer, PrinterError, check_settings, make_printer
from hardware.printer.escpos_ticket import render_escpos
from hardware.printer.preview import render_html, render_png
from hardware.printer.raster import RasterText, RasterUnavailable
from hardware.printer.settings import PrinterConfigError, PrinterSettings, parse_settings
from hardware.printer.status import REASONS, PrinterStatus
from hardware.printer.ticket import (
    PaperTicket,
    TicketLabels,
    TicketLine,
    TicketPrint,
    is_rtl,
    paper_ticket,
    ticket_lines,
)
from hardware.printer.ticket_printer import PrintOutcome, TicketPrinter

__all__ = [
    "REASONS",
    "PaperTicket",
    "PrintOutcome",
    "Printer",
    "PrinterConfigError",
    "PrinterError",
    "PrinterSettings",
    "PrinterStatus",
    "RasterText",
    "RasterUnavailable",
    "TicketLabels",
    "TicketLine",
    "TicketPrint",
    "TicketPrinter",
    "check_settings",
    "is_rtl",
    "make_printer",
    "paper_ticket",
    "parse_settings",
    "render_escpos",
    "render_html",
    "render_png",
    "ticket_lines",
]
