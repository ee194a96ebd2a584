"""Every extension object, in one module so blueprints import them without cycles."""
from __future__ import annotations

import os
import threading

from flask import Flask, current_app
from flask_babel import Babel
from flask_wtf import CSRFProtect
from sqlalchemy import Engine

from .clock import Clock, OfficeClock
from .queue import QueueEngine, QueueRules
from .site import SiteProfile
from .storage import make_engine

babel = Babel()
csrf = CSRFProtect()


class Office:
    """The office this app serves: its site profile, database and queue."""

    def init_app(self, app: Flask) -> None:
        site = app.config["SITE_PROFILE"]
        engine = make_engine(app.config["DATABASE_URL"])
        clock = app.config.get("CLOCK") or OfficeClock(engine)
        queue = QueueEngine(engine, QueueRules.from_site(site), clock)
        app.extensions["office"] = {"site": site, "engine": engine, "clock": clock, "queue": queue,
                                    "devices": Devices(site, app.config["DATA_DIR"], queue)}

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
        self._reader = self._printer = None

    def reader(self):
        with self._lock:
            if self._reader is None:
                from hardware.card import make_reader_service
                from hardware.card.simulated_service import SimulatedReaderService

                kind, name_filter = self.site.reader["kind"], self.site.reader["name_filter"]
                if kind == "simulated":
                    # fake cards' ages and validity follow the office's own calendar
                    self._reader = SimulatedReaderService(name_filter, today=self.queue.today)
                else:
                    self._reader = make_reader_service(kind, name_filter)
                self._reader.start()
            return self._reader

    def printer(self):
        with self._lock:
            if self._printer is None:
                from hardware.printer import TicketPrinter

                settings = dict(self.site.printer)
                if settings.get("kind", "simulated") == "simulated":
                    settings.setdefault("folder", os.path.join(self.data_dir, "tickets"))
                self._printer = TicketPrinter(settings)
            return self._printer


office = Office()
