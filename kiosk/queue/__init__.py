"""The queue engine: tickets, numbering, calling and waits. No Flask, no HTTP."""

from .engine import TRANSITIONS, Call, CounterState, Overview, Place, QueueEngine, ServiceLoad, Ticket
from .errors import (
    CounterHasTicket,
    InvalidTransition,
    OfficeClosed,
    QueueError,
    ServiceDisabled,
    TicketNotFound,
    UnknownCounter,
    UnknownService,
)
from .rules import QueueRules, ServiceRule

__all__ = [
    "Call",
    "CounterHasTicket",
    "CounterState",
    "InvalidTransition",
    "OfficeClosed",
    "Overview",
    "Place",
    "QueueEngine",
    "QueueError",
    "QueueRules",
    "ServiceDisabled",
    "ServiceLoad",
    "ServiceRule",
    "Ticket",
    "TicketNotFound",
    "TRANSITIONS",
    "UnknownCounter",
    "UnknownService",
]
