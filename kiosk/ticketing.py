"""Taking a ticket at the kiosk: issue it with its check-in, record the code request made
with it, print it; one ticket per screen, however often that screen is posted.

The kiosk's session is a signed cookie: two posts of one page (a double tap) carry the same
cookie, so the session cannot say which came first. This kiosk's own process can: its
screen only ever talks to it (the card reader is here). The first post of a screen issues;
any other waits for that outcome and answers with the same ticket.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from . import code_requests, turn_soon
from .checkin import CheckIn, CodeRequestMade
from .errors import describe
from .extensions import Office
from .printing import print_ticket
from .queue import Place, QueueError, Ticket

log = logging.getLogger(__name__)

ISSUE_WAIT_S = 30  # a second post of a screen waits this long for the first one's ticket


@dataclass(frozen=True)
class Issued:
    ticket_id: int
    number: str
    print_failed: bool


@dataclass(frozen=True)
class Refused:
    code: str  # the queue's reason (kiosk.queue.QueueError), explained on the screen


Outcome = Issued | Refused | None  # None: no ticket and no reason, e.g. the database failed


class Claim:
    def __init__(self) -> None:
        self._done = threading.Event()
        self._outcome: Outcome = None

    def wait(self, timeout: float) -> Outcome:
        """The first post's outcome; None if it had none or is still running after `timeout`."""
        self._done.wait(timeout)
        return self._outcome


class OncePerScreen:
    KEEP = 100  # recent screens; a double tap comes within seconds

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: OrderedDict[str, Claim] = OrderedDict()

    def get(self, screen_id: str | None) -> Claim | None:
        with self._lock:
            return self._claims.get(screen_id) if screen_id else None

    def claim(self, screen_id: str) -> tuple[Claim, bool]:
        """The screen's claim, and whether this caller made it (and so must settle it)."""
        with self._lock:
            if screen_id in self._claims:
                return self._claims[screen_id], False
            claim = self._claims[screen_id] = Claim()
            while len(self._claims) > self.KEEP:
                self._claims.popitem(last=False)
            return claim, True

    def settle(self, screen_id: str, claim: Claim, outcome: Outcome) -> None:
        """Tell the waiting posts; without an outcome the screen may be posted again."""
        with self._lock:
            if outcome is None and self._claims.get(screen_id) is claim:
                del self._claims[screen_id]
        claim._outcome = outcome
        claim._done.set()


class Ticketing:
    """The kiosk's ticket taking; one per process, since the screens' claims live in it."""

    def __init__(self, wait_s: float = ISSUE_WAIT_S) -> None:
        self.wait_s = wait_s
        self._screens = OncePerScreen()

    def taken(self, screen_id: str | None) -> Outcome:
        """What an earlier post of this screen got (waiting while it runs), None if none:
        asked before the card is checked, since the citizen may pull it right after tapping."""
        claim = self._screens.get(screen_id)
        return claim.wait(self.wait_s) if claim else None

    def take(
        self,
        office: Office,
        screen_id: str,
        *,
        visit: str,
        language: str,
        checkin: CheckIn,
        contact: str = "",
        remember: Callable[[Issued], None] = lambda issued: None,
    ) -> Outcome:
        """This screen's one ticket. `contact` is the citizen's e-mail address or phone number
        for a code request, or for a message when the turn is near; `remember` is told the
        ticket as soon as it exists, before the code request and the printer, so that nothing
        after it keeps it from the screen."""
        claim, first = self._screens.claim(screen_id)
        if not first:
            return claim.wait(self.wait_s)
        outcome: Outcome = None
        try:
            outcome = issue_and_print(office, screen_id, visit, language, checkin, contact, remember)
        finally:
            self._screens.settle(screen_id, claim, outcome)
        return outcome


def issue_and_print(
    office: Office,
    screen_id: str,
    visit: str,
    language: str,
    checkin: CheckIn,
    contact: str,
    remember: Callable[[Issued], None],
) -> Issued | Refused:
    try:
        # the screen is the key: posted again after a failure that came after the ticket was
        # stored (the database went away before it answered), it gets that ticket
        key = f"screen:{screen_id}"[:64]
        ticket, place = office.queue.issue(visit, language=language, checkin=checkin.to_json(), key=key)
    except QueueError as exc:
        log.warning("no ticket: %s", exc.code)
        return Refused(exc.code)
    office.member.ticket_taken(ticket.day, ticket.arrived_at)
    remember(Issued(ticket.id, ticket.number, print_failed=True))
    if visit == "new_codes":
        record_code_request(office, ticket, checkin, contact)
    if contact.strip() and office.site.kiosk.turn_soon_ahead:  # the same contact, for today's turn
        ask_turn_soon(office, ticket, contact)
    return Issued(ticket.id, ticket.number, print_failed=not printed(ticket, place))


def record_code_request(office: Office, ticket: Ticket, checkin: CheckIn, contact: str) -> None:
    """The request for new codes, then the check-in updated with it (or with a note saying
    it was not recorded): the ticket is issued either way."""
    try:
        request = code_requests.record(
            office.engine, ticket.id, checkin.identity.national_number, contact, office.clock()
        )
        checkin = checkin.with_code_request(CodeRequestMade(request.id, request.contact_kind))
    except Exception as exc:  # noqa: BLE001 - the ticket is issued; the clerk takes the request
        log.error("ticket %s: code request not recorded (%s)", ticket.number, describe(exc))
        checkin = checkin.with_note("code_request_not_recorded")
    try:
        office.queue.update_checkin(ticket.id, checkin.to_json())
    except Exception as exc:  # noqa: BLE001 - the clerk sees the visit without the request
        log.error("ticket %s: check-in not updated (%s)", ticket.number, describe(exc))


def ask_turn_soon(office: Office, ticket: Ticket, contact: str) -> None:
    """A message when the turn is near, to the contact left at the kiosk (the form checked
    it): the ticket is issued either way, and the status page can still ask."""
    try:
        turn_soon.subscribe(office.engine, ticket.id, contact, office.clock())
    except Exception as exc:  # noqa: BLE001 - the ticket is issued
        log.error("ticket %s: message when the turn is near not asked (%s)", ticket.number, describe(exc))


def printed(ticket: Ticket, place: Place) -> bool:
    try:
        outcome = print_ticket(ticket, place)
    except Exception as exc:  # noqa: BLE001 - the screen shows the ticket, the desk reprints it
        log.error("ticket %s not printed (%s)", ticket.number, describe(exc))
        return False
    if not outcome.printed:
        log.warning("ticket %s shown on screen only: printer %s", ticket.number, outcome.reason)
    return outcome.printed
