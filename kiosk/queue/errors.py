"""What the queue refuses, with messages a clerk or citizen-facing screen can show."""


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
