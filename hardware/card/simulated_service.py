"""A simulated reader for the demo and for tests of the application: the fake cards are
"inserted" from a developer page or the command line, and read through the same APDU
layer, parser and checks as real cards.

The card's checks follow its reading at once, unless they are held (`hold_checks`): then
they come when released, as on a slow reader after the check screen is already shown."""

import threading
from collections.abc import Callable, Sequence
from datetime import date

from cryptography import x509

from .eid_applet import EidApplet
from .fake_cards import FakeCard, fake_cards
from .reader_service import STOPPED_MESSAGE, ReaderService, ReaderState, ReadOutcome, check_outcome, read_outcome

SIMULATED_READER = "Simulated card reader"


class SimulatedReaderService(ReaderService):
    def __init__(
        self,
        reader_filter: str | None = None,
        today: Callable[[], date] = date.today,
        trust_anchors: Sequence[x509.Certificate] = (),
    ):
        super().__init__(reader_filter, trust_anchors)
        self._today = today
        self._lock = threading.Lock()  # one insert/remove at a time
        self._running = False
        self._reader_present = True
        self._card_id: str | None = None
        self.hold_checks = False
        self._held: tuple[int, EidApplet, ReadOutcome] | None = None  # a card's checks not yet released

    def cards(self) -> list[FakeCard]:
        """The fake cards that can be inserted (id and one-line description)."""
        return list(fake_cards(self._today()).values())

    @property
    def inserted_card(self) -> str | None:
        return self._card_id

    def start(self) -> None:
        with self._lock:
            if not self._running:
                self._running = True
                self._publish_idle()

    def stop(self) -> None:
        with self._lock:
            self._running = False
            self._card_id = None
            self._publish(ReaderState.NO_READER, message=STOPPED_MESSAGE)

    def insert(self, card_id: str) -> None:
        """Insert a fake card (replacing any card in the reader) and read it at once."""
        card = fake_cards(self._today()).get(card_id)
        if card is None:
            raise ValueError(f"no fake card {card_id!r}")
        with self._lock:
            if not self._running or not self._reader_connected():
                raise RuntimeError("no simulated reader to insert the card into")
            self._card_id = card_id
            self._held = None
            self._publish(ReaderState.READING, reader=SIMULATED_READER)
            applet = EidApplet(card)
            outcome = read_outcome(applet)
            shown = self._publish_outcome(outcome, SIMULATED_READER)
            if shown is not None and shown.read is not None:
                self._held = (shown.read, applet, outcome)
                if not self.hold_checks:
                    self._check_held()

    def release_checks(self) -> None:
        """The held checks of the card in the reader, now."""
        with self._lock:
            self._check_held()

    def _check_held(self) -> None:
        if self._held is not None:
            read, applet, outcome = self._held
            self._held = None
            self._publish_checks(read, check_outcome(applet, outcome, self.trust_anchors))

    def remove(self) -> None:
        with self._lock:
            self._card_id = None
            self._held = None
            if self._running:
                self._publish_idle()

    def set_reader_present(self, present: bool) -> None:
        """Plug or unplug the simulated reader (unplugging also drops the card)."""
        with self._lock:
            self._reader_present = present
            self._card_id = None
            self._held = None
            if self._running:
                self._publish_idle()

    def _reader_connected(self) -> bool:
        return self._reader_present and self.accepts_reader(SIMULATED_READER)

    def _publish_idle(self) -> None:
        if self._reader_connected():
            self._publish(ReaderState.WAITING, reader=SIMULATED_READER)
        else:
            self._publish(ReaderState.NO_READER)
