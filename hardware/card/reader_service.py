"""The card reader as the kiosk sees it: a background service whose state is an
immutable snapshot, with a version number that grows at every change so screens can
long-poll for the next one.

States: no_reader, waiting (for a card), reading, ready (a residence card was read) and
error, with one of the error codes below. Card data lives in the snapshot only while the
card is in the reader.

A card is ready as soon as its identity, address and card data are read: that is all the
check screen waits for. Its checks (card_checks: signatures, photo, certificates) are read
next and follow as another snapshot of the same read, with the same `read` number.
"""

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from cryptography import x509

from .apdu import CardChannel, Connection
from .card_checks import CardChecks, read_card_checks
from .card_reading import CardFiles, read_card_files
from .errors import CardDataError, CardStatusError, NotAnEidCard
from .residence_card import ResidenceCard, parse_residence_card

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
    # the version at which this card was first ready; its checks keep it (a new version)
    read: int | None = None
    checks: CardChecks | None = None  # None while they are being read

    def to_dict(self, today: date | None = None) -> dict:
        return {
            "state": str(self.state),
            "error": None if self.error is None else str(self.error),
            "message": self.message,
            "reader": self.reader,
            "version": self.version,
            "read": self.read,
            "card": None if self.card is None else self.card.to_dict(today),
            "checks": None if self.checks is None else self.checks.to_dict(),
        }


@dataclass(frozen=True)
class ReadOutcome:
    state: ReaderState
    error: ReaderError | None = None
    message: str | None = None
    card: ResidenceCard | None = None
    files: CardFiles | None = field(default=None, repr=False)  # as read, for the checks


def read_outcome(connection: Connection) -> ReadOutcome:
    """Read the card and say what the kiosk should show. Errors of the connection itself
    (card pulled, reader gone) are left to the caller, which knows the reader."""
    try:
        files = read_card_files(CardChannel(connection))
        card = parse_residence_card(files.identity, files.address, files.card_data)
    except NotAnEidCard:
        return ReadOutcome(ReaderState.ERROR, ReaderError.NOT_RESIDENCE_CARD, NOT_AN_EID_MESSAGE)
    except (CardStatusError, CardDataError) as error:
        log.warning("card unreadable: %s", error)  # reasons and status words only
        return ReadOutcome(ReaderState.ERROR, ReaderError.UNREADABLE)
    if not card.is_residence_card:
        message = f"This is a {card.card_type}, not a residence card."
        return ReadOutcome(ReaderState.ERROR, ReaderError.NOT_RESIDENCE_CARD, message)
    return ReadOutcome(ReaderState.READY, card=card, files=files)


def check_outcome(connection: Connection, outcome: ReadOutcome, anchors: Sequence[x509.Certificate]) -> CardChecks:
    """The checks of a card that `read_outcome` found ready, on the same connection."""
    if outcome.card is None or outcome.files is None:
        raise ValueError("only a card that was read can be checked")
    checks = read_card_checks(
        CardChannel(connection),
        outcome.files.identity,
        outcome.files.address,
        anchors=anchors,
        issued_on=outcome.card.validity_begin,
    )
    log.info("card checks: data %s, photo %s", checks.authenticity, checks.photo)  # verdicts only
    return checks


class ReaderService(ABC):
    """What the application uses, whether the reader is real or simulated. Thread-safe."""

    def __init__(self, reader_filter: str | None = None, trust_anchors: Sequence[x509.Certificate] = ()):
        """`trust_anchors`: the root certificates the national register's certificate must
        come from; none: the card's data is not checked ("not_checked")."""
        self.reader_filter = reader_filter
        self.trust_anchors = tuple(trust_anchors)
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
    ) -> ReaderSnapshot | None:
        """`unless`: the publishing worker's stop event, checked under the lock: once a
        worker is stopped, nothing it still sees reaches the screen. Returns what was
        published (None: nothing)."""
        message = message or MESSAGES[error or state]
        with self._changed:
            if unless is not None and unless.is_set():
                return None
            current = self._snapshot
            version = current.version + 1
            read = version if card is not None else None
            new = ReaderSnapshot(state, version, message, error, reader, card, read)
            if new == replace(current, version=version, read=read):
                return None  # nothing changed: no new version for pollers to fetch
            self._snapshot = new
            self._changed.notify_all()
        log.info("reader %s%s", state, f" ({error})" if error else "")
        return new

    def _publish_checks(self, read: int, checks: CardChecks, *, unless: threading.Event | None = None) -> bool:
        """Add the checks to the card of read `read`, if that card is still the one shown."""
        with self._changed:
            current = self._snapshot
            if (unless is not None and unless.is_set()) or current.read != read or current.checks is not None:
                return False
            self._snapshot = replace(current, version=current.version + 1, checks=checks)
            self._changed.notify_all()
        return True

    def _publish_outcome(self, outcome: ReadOutcome, reader: str | None) -> ReaderSnapshot | None:
        return self._publish(outcome.state, outcome.error, outcome.message, reader, outcome.card)
