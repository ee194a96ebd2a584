"""The app's state, all of it here: Flask's extensions and the office (site profile, database,
clock, queue, known tokens, throttles, board speaker, this kiosk in the fleet, this PC's devices). Blueprints
import it without cycles; nothing else keeps state per app or per process."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_babel import Babel
from flask_wtf import CSRFProtect
from sqlalchemy import Engine

from .board.sounds import Speaker
from .clock import Clock, OfficeClock
from .member import Member, kiosk_name
from .queue import QueueEngine, QueueRules
from .site import SiteProfile
from .storage import make_engine
from .throttle import SIGN_IN_FAILURES, TYPED_NUMBERS, Throttle
from .tokens import KnownTokens

if TYPE_CHECKING:  # imported at first use: desks and boards never load the device drivers
    from hardware.card.reader_service import ReaderService
    from hardware.printer import TicketPrinter

CARD_WAITERS = 4  # screens waiting for the card at once: the page, and those left (each waits out its 5 s)

babel = Babel()
csrf = CSRFProtect()


class Office:
    """The office this app serves: its site profile, database and queue."""

    def init_app(self, app: Flask) -> None:
        site = app.config["SITE_PROFILE"]
        engine = make_engine(app.config["DATABASE_URL"])
        clock = app.config.get("CLOCK") or OfficeClock(engine)
        queue = QueueEngine(engine, QueueRules.from_site(site), clock)
        app.extensions["office"] = {
            "site": site,
            "engine": engine,
            "clock": clock,
            "queue": queue,
            "tokens": KnownTokens(engine),
            "login_throttle": Throttle(SIGN_IN_FAILURES),
            "keypad_throttle": Throttle(TYPED_NUMBERS),
            "card_waits": threading.BoundedSemaphore(CARD_WAITERS),
            "member": Member(kiosk_name(site)),
            "speaker": Speaker(Path(app.config["DATA_DIR"]) / "speech"),
            "devices": Devices(site, app.config["DATA_DIR"], queue),
        }

    @staticmethod
    def _state() -> dict:
        return current_app.extensions["office"]

    @property
    def site(self) -> SiteProfile:
        return self._state()["site"]

    @property
    def engine(self) -> Engine:
        return self._state()["engine"]

    @property
    def clock(self) -> Clock:
        """The office's clock: every time stamped or compared comes from it."""
        return self._state()["clock"]

    @property
    def queue(self) -> QueueEngine:
        return self._state()["queue"]

    @property
    def tokens(self) -> KnownTokens:
        return self._state()["tokens"]

    @property
    def login_throttle(self) -> Throttle:
        """Failed sign-ins per client address."""
        return self._state()["login_throttle"]

    @property
    def keypad_throttle(self) -> Throttle:
        """National numbers typed at this kiosk."""
        return self._state()["keypad_throttle"]

    @property
    def member(self) -> Member:
        """This instance as a kiosk of the office's fleet (kiosk.fleet)."""
        return self._state()["member"]

    @property
    def card_waits(self) -> threading.BoundedSemaphore:
        """Room for screens waiting for a change of the card reader (kiosk.citizen.views)."""
        return self._state()["card_waits"]

    @property
    def speaker(self) -> Speaker:
        """The board's spoken calls, made once a day and kept under DATA_DIR."""
        return self._state()["speaker"]

    def status_url(self, ticket) -> str:
        """The short address in the ticket's QR code: the status page."""
        return f"{self.site.public_url}/t/{ticket.status_token}"

    @property
    def reader(self):
        """This kiosk PC's card reader service (started at first use)."""
        return self._state()["devices"].reader()

    @property
    def printer(self):
        """This kiosk PC's ticket printer."""
        return self._state()["devices"].printer()


class Devices:
    """The card reader and ticket printer attached to the PC this instance runs on.

    Made at first use, so desks, boards and tests that never touch them start no threads.
    """

    def __init__(self, site: SiteProfile, data_dir: str, queue: QueueEngine):
        self.site, self.data_dir, self.queue = site, data_dir, queue
        self._lock = threading.Lock()
        self._reader: ReaderService | None = None
        self._printer: TicketPrinter | None = None

    def reader(self) -> ReaderService:
        with self._lock:
            if self._reader is None:
                from hardware.card import make_reader_service
                from hardware.card.authenticity import load_trust_anchors
                from hardware.card.simulated_service import SimulatedReaderService

                kind, name_filter = self.site.reader.kind, self.site.reader.name_filter
                anchors = load_trust_anchors(self.site.reader.trust_anchors)  # checked when the profile loaded
                reader: ReaderService
                if kind == "simulated":
                    # fake cards' ages and validity follow the office's own calendar
                    reader = SimulatedReaderService(name_filter, today=self.queue.today, trust_anchors=anchors)
                else:
                    reader = make_reader_service(kind, name_filter, anchors)
                reader.start()
                self._reader = reader
            return self._reader

    def made_reader(self) -> ReaderService | None:
        """The reader if something started it, else None: for reports that must not start it."""
        return self._reader

    def made_printer(self) -> TicketPrinter | None:
        """The printer if something made it, else None."""
        return self._printer

    def printer(self) -> TicketPrinter:
        with self._lock:
            if self._printer is None:
                from hardware.printer import TicketPrinter

                settings = self.site.printer.settings()
                if self.site.printer.kind == "simulated":
                    settings.setdefault("folder", os.path.join(self.data_dir, "tickets"))
                self._printer = TicketPrinter(settings)
            return self._printer


office = Office()
