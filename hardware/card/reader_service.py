"""The card reader as the kiosk sees it: a background service whose state is an
immutable snapshot, with a version number that grows at every change so screens can
long-poll for the next one.

States: no_reader, waiting (for a card), reading, ready (a residence card was read) and
error, with one of the error codes below. Card data lives in the snapshot only while the
card is in the reader.
"""

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from .apdu import Connection
from .card_reading import read_residence_card
from .errors import CardDataError, CardStatusError, NotAnEidCard
from .residence_card import ResidenceCard

log = logging.getLogger(__name__)


class ReaderState(StrEnum):
    NO_READER = "no_reader"
    WAITING = "waiting"
    READING = "reading"
    READY = "ready"
    ERROR = "error"


class ReaderError(StrEnum):
    UNREADABLE = "unreadable"
    NOT_RESIDENCE_CARD = "not_residence_card"
    REMOVED_DURING_READ = "removed_during_read"
    READER_GONE = "reader_gone"
    PCSC_DOWN = "pcsc_down"


MESSAGES = {
    ReaderState.NO_READER: "No card reader is connected.",
    ReaderState.WAITING: "Insert your residence card.",
    ReaderState.READING: "Reading the card. Keep it in the reader.",
    ReaderState.READY: "The card was read.",
    ReaderError.UNREADABLE: "The card could not be read.",
    ReaderError.NOT_RESIDENCE_CARD: "This card is not a residence card.",
    ReaderError.REMOVED_DURING_READ: "The card was removed before it could be read.",
    ReaderError.READER_GONE: "The card reader was disconnected.",
    ReaderError.PCSC_DOWN: "The smart card service (pcscd) is not running.",
}
NOT_AN_EID_MESSAGE = "This card is not an identity or residence card."
STOPPED_MESSAGE = "The card reader service is stopped."


@dataclass(frozen=True)
class ReaderSnapshot:
    state: ReaderState
    version: int
    message: str  # English, never personal data
    error: ReaderError | None = None
    reader: str | None = None
    card: ResidenceCard | None = None  # only in the ready state

    def to_dict(self, today: date | None = None) -> dict:
        return {
            "state": str(self.state),
            "error": None if self.error is None else str(self.error),
            "message": self.message,
            "reader": self.reader,
            "version": self.version,
            "card": None if self.card is None else self.card.to_dict(today),
        }


@dataclass(frozen=True)
class ReadOutcome:
    state: ReaderState
    error: ReaderError | None = None
    message: str | None = None
    card: ResidenceCard | None = None


def read_outcome(connection: Connection) -> ReadOutcome:
    """Read the card and say what the kiosk should show. Errors of the connection itself
    (card pulled, reader gone) are left to the caller, which knows the reader."""
    try:
        card = read_residence_card(connection)
    except NotAnEidCard:
        return ReadOutcome(ReaderState.ERROR, ReaderError.NOT_RESIDENCE_CARD, NOT_AN_EID_MESSAGE)
    except (CardStatusError, CardDataError) as error:
        log.warning("card unreadable: %s", error)  # reasons and status words only
        return ReadOutcome(ReaderState.ERROR, ReaderError.UNREADABLE)
    if not card.is_residence_card:
        message = f"This is a {card.card_type}, not a residence card."
        return ReadOutcome(ReaderState.ERROR, ReaderError.NOT_RESIDENCE_CARD, message)
    return ReadOutcome(ReaderState.READY, card=card)


class ReaderService(ABC):
    """What the application uses, whether the reader is real or simulated. Thread-safe."""

    def __init__(self, reader_filter: str | None = None):
        self.reader_filter = reader_filter
        self._changed = threading.Condition()
        self._snapshot = ReaderSnapshot(ReaderState.NO_READER, 0, STOPPED_MESSAGE)

    @abstractmethod
    def start(self) -> None:
        """Begin watching; calling it on a running service does nothing."""

    @abstractmethod
    def stop(self) -> None:
        """Stop watching and forget any card."""

    def accepts_reader(self, name: str) -> bool:
        return self.reader_filter is None or self.reader_filter in name

    def snapshot(self) -> ReaderSnapshot:
        with self._changed:
            return self._snapshot

    def wait_for_change(self, since_version: int, timeout: float) -> ReaderSnapshot:
        """The first snapshot newer than `since_version`, or the current one after `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.version > since_version, timeout)
            return self._snapshot

    def wait_for(self, predicate: Callable[[ReaderSnapshot], bool], timeout: float) -> ReaderSnapshot:
        """The first snapshot for which `predicate` holds; TimeoutError after `timeout`."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._snapshot), timeout):
                snapshot = self._snapshot
                raise TimeoutError(f"reader still {snapshot.state} {snapshot.error or ''} after {timeout} s")
            return self._snapshot

    def _publish(
        self,
        state: ReaderState,
        error: ReaderError | None = None,
        message: str | None = None,
        reader: str | None = None,
        card: ResidenceCard | None = None,
        *,
        unless: threading.Event | None = None,
    ) -> None:
        """`unless`: the publishing worker's stop event, checked under the lock: once a
        worker is stopped, nothing it still sees reaches the screen."""
        message = message or MESSAGES[error or state]
        with self._changed:
            if unless is not None and unless.is_set():
                return
            current = self._snapshot
            new = ReaderSnapshot(state, current.version + 1, message, error, reader, card)
            if new == replace(current, version=current.version + 1):
                return  # nothing changed: no new version for pollers to fetch
            self._snapshot = new
            self._changed.notify_all()
        log.info("reader %s%s", state, f" ({error})" if error else "")

    def _publish_outcome(self, outcome: ReadOutcome, reader: str | None) -> None:
        self._publish(outcome.state, outcome.error, outcome.message, reader, outcome.card)
