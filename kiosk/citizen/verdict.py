"""The card's checks for a ticket taken before they were in.

The check screen never waits for the signatures, the certificates or the photo: a citizen
may take a ticket while the reader still reads them. Then the ticket's check-in gets them
as soon as the reader has them, from a thread of its own, so that the clerk sees the
verdict when the ticket is called. A card pulled before its checks were complete is
"not checked": the clerk has the card in hand and can look at it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hardware.card.card_checks import NOT_CHECKED, CardChecks
from hardware.card.reader_service import ReaderService, ReaderSnapshot

from ..checkin import Card, CheckIn
from ..errors import describe
from ..queue import QueueEngine

log = logging.getLogger(__name__)

# A real reader needs a second or two for the checks; a card still without them after this
# was pulled, or the reader is stuck, and the ticket stays "not checked".
WAIT_S = 30.0


class Follow:
    def __init__(
        self,
        reader: ReaderService,
        queue: QueueEngine,
        read: int,
        *,
        card_of: Callable[[CardChecks], Card],
        notes_of: Callable[[CardChecks], tuple[str, ...]],
        wait_s: float = WAIT_S,
    ):
        """`read`: the card's read (hardware.card.reader_service); `card_of` and `notes_of`:
        the check-in's card and the rules' notes once the checks are known."""
        self.reader, self.queue, self.read = reader, queue, read
        self.card_of, self.notes_of, self.wait_s = card_of, notes_of, wait_s

    def start(self, ticket_id: int) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(ticket_id,), name="card-verdict", daemon=True)
        thread.start()
        return thread

    def _known(self, snapshot: ReaderSnapshot) -> bool:
        return snapshot.read != self.read or snapshot.checks is not None

    def checks(self) -> CardChecks:
        try:
            snapshot = self.reader.wait_for(self._known, self.wait_s)
        except TimeoutError:
            return NOT_CHECKED
        return snapshot.checks if snapshot.read == self.read and snapshot.checks is not None else NOT_CHECKED

    def run(self, ticket_id: int) -> None:
        checks = self.checks()
        try:
            card, notes = self.card_of(checks), self.notes_of(checks)
            self.queue.amend_checkin(
                ticket_id, lambda stored: CheckIn.from_json(stored).with_card_checks(card, notes).to_json()
            )
        except Exception as exc:  # noqa: BLE001 - the ticket stands; the clerk sees the card without its verdict
            log.error("ticket %s: card checks not added (%s)", ticket_id, describe(exc))
            return
        log.info("ticket %s: card checks added (data %s, photo %s)", ticket_id, checks.authenticity, checks.photo)
