"""What the queue refuses, with messages a clerk or citizen-facing screen can show."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine import Ticket


class QueueError(Exception):
    code = "queue_error"


class UnknownService(QueueError):
    code = "unknown_service"


class ServiceDisabled(QueueError):
    code = "service_disabled"


class OfficeClosed(QueueError):
    code = "office_closed"


class UnknownCounter(QueueError):
    code = "unknown_counter"


class TicketNotFound(QueueError):
    code = "ticket_not_found"


class InvalidTransition(QueueError):
    """The action does not apply to the ticket in its current state."""

    code = "invalid_transition"


class CounterHasTicket(InvalidTransition):
    """Call next named another ticket than the one at the counter, or the one called there a
    moment ago: nothing was finished or called. `ticket` is what the counter holds now."""

    code = "counter_has_ticket"

    def __init__(self, message: str, ticket: Ticket | None):
        super().__init__(message)
        self.ticket = ticket
