"""Every extension object, in one module so blueprints import them without cycles."""
from __future__ import annotations

from flask import Flask, current_app
from flask_babel import Babel
from flask_wtf import CSRFProtect
from sqlalchemy import Engine

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
        clock = app.config.get("CLOCK")
        rules = QueueRules.from_site(site)
        queue = QueueEngine(engine, rules, clock) if clock else QueueEngine(engine, rules)
        app.extensions["office"] = {"site": site, "engine": engine, "queue": queue}

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
    def queue(self) -> QueueEngine:
        return self._state()["queue"]


office = Office()
