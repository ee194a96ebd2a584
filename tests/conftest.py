"""Fixtures shared by the whole suite: databases (SQLite, PostgreSQL), a settable clock,
the app, its client and CLI runner."""

from __future__ import annotations

import os
import secrets
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from kiosk.queue import QueueEngine, QueueRules
from kiosk.server import KIOSK, LISTENER
from kiosk.site import DEMO_PROFILE, load_site_profile
from kiosk.storage import make_engine, migrate
from tests.clock import Clock

if "FAKETIME" in os.environ:
    # The run days ahead (.ci/run) is under Debian's libfaketime 0.9.10, which turns Python's
    # sleep (clock_nanosleep on CLOCK_MONOTONIC until a moment) into EINVAL; subprocess waits
    # sleep too. An event's timed wait takes the same time through another call.
    _NEVER = threading.Event()

    def _sleep(seconds: float) -> None:
        _NEVER.wait(seconds)

    time.sleep = _sleep


class KioskPcClient(FlaskClient):
    """The test client as the kiosk PC's own browser: through the kiosk's listener (as
    kiosk.server marks it), from loopback. A test of another machine sets REMOTE_ADDR, or
    goes through the real listeners (tests/test_trust_boundary.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base[LISTENER] = KIOSK


Flask.test_client_class = KioskPcClient  # every app a test makes

POSTGRES_URL = os.environ.get("KIOSK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def demo_site():
    return load_site_profile(DEMO_PROFILE)


def _postgres_schema_url() -> tuple[str, str]:
    if not POSTGRES_URL:
        from tests.system import missing

        missing(
            "PostgreSQL tests need KIOSK_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def pytest_collection_modifyitems(items):
    """A test on PostgreSQL carries the postgres marker, however its backend was chosen."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgres":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path: Path):
    """An empty database of each kind: an SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
        return
    url, schema = _postgres_schema_url()
    yield url
    _drop_schema(schema)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def queue(engine, demo_site, clock) -> QueueEngine:
    return QueueEngine(engine, QueueRules.from_site(demo_site), clock)


@pytest.fixture
def app_config(tmp_path, clock) -> dict:
    """Override in a test module to change the site or settings."""
    return {"SITE": str(DEMO_PROFILE), "DATA_DIR": str(tmp_path), "CLOCK": clock, "TESTING": True}


@pytest.fixture
def app(app_config, database_url):
    from kiosk import create_app
    from kiosk.extensions import office

    app = create_app({**app_config, "DATABASE_URL": database_url})
    with app.app_context():
        migrate(office.engine)
    yield app
    app.extensions["office"]["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def tokens(app):
    """One API token per role."""
    from kiosk.extensions import office
    from kiosk.tokens import create_token

    with app.app_context():
        return {
            role: create_token(office.engine, role, f"test {role}", office.clock()) for role in ("kiosk", "desk", "ops")
        }


@pytest.fixture
def mailbox():
    """A real SMTP server on a free loopback port (tests.mail), started when the test says."""
    from tests.mail import Mailbox
    from tests.system import free_port

    box = Mailbox(free_port())
    yield box
    box.stop()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# Browser fixtures (live_server, Chromium launch arguments) live in tests/live.py, the
# pcscd and virtual card fixtures in tests/pcsc.py.
pytest_plugins = ["tests.live", "tests.pcsc"]


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """The app reads compiled catalogs (.mo, not kept in git): compile them once per run."""
    from babel.messages.frontend import CommandLineInterface

    translations = Path(__file__).parent.parent / "kiosk" / "translations"
    if any(translations.glob("*/LC_MESSAGES/messages.po")):
        CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(translations)])
