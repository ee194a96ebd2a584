"""Queue tickets on paper and on screen, from one model (hardware.printer.TicketPrint).

The ticket is stored before it is printed; when the printer is not ready or fails, the
caller still has the ticket to show, and the desk can reprint it. Nothing retries on its
own, so no ticket comes out twice.
"""

from __future__ import annotations

import logging

from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from hardware.printer import PrinterStatus, PrintOutcome, TicketLabels, TicketPrint, render_html

from .errors import describe
from .extensions import office
from .queue import Place, Ticket
from .services import service_bring, service_name

log = logging.getLogger(__name__)


def _labels(language: str) -> TicketLabels:
    with force_locale(language):
        return TicketLabels(
            your_number=_("Your number"),
            people_ahead=_("People ahead of you"),
            estimated_wait=_("Estimated wait"),
            minutes=_("minutes"),
            bring=_("Bring"),
            follow_your_turn=_("Follow your turn"),
        )


def ticket_print(ticket: Ticket, place: Place | None = None) -> TicketPrint:
    """The ticket in the citizen's language, with the office's main language alongside."""
    site = office.site
    service = site.services[ticket.service]
    main = site.default_language
    if place is None:
        place = office.queue.place(ticket)
    return TicketPrint(
        municipality=site.municipality,
        number=ticket.number,
        service_name=service_name(service, ticket.language),
        service_name_main=service_name(service, main),
        issued_at=office.queue.rules.local(ticket.arrived_at),
        people_ahead=max(place.position - 1, 0) if place else 0,
        estimated_wait_minutes=round(place.estimated_wait_s / 60) if place else None,
        bring=service_bring(service, ticket.language),
        status_url=office.status_url(ticket),
        footer=site.kiosk.footer,
        language=ticket.language,
        labels=_labels(ticket.language),
        labels_main=_labels(main),
        bring_main=service_bring(service, main),
    )


def print_ticket(ticket: Ticket, place: Place | None = None) -> PrintOutcome:
    """Print once; never raises (see PrintOutcome.reason). The ticket is already issued:
    whatever goes wrong here, the citizen must still get it on screen."""
    try:
        return office.printer.print_ticket(ticket_print(ticket, place))
    except Exception as exc:  # noqa: BLE001 - the ticket is issued; it reaches the citizen on screen
        # The type only: the message could carry ticket or personal details.
        log.error("ticket %s not printed: %s", ticket.number, describe(exc))
        return PrintOutcome(False, PrinterStatus.unreachable(type(exc).__name__), "error")


def preview_html(ticket: Ticket, place: Place | None = None) -> Markup:
    """The same ticket as HTML (escaped by the renderer), for screens and reprints."""
    return Markup(render_html(ticket_print(ticket, place)))  # noqa: S704 - render_html escapes
