"""Database engines and migrations: SQLite (WAL) by default, PostgreSQL when configured."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_MS = 5000
PING_IDLE_S = 1.0


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    # Statement parameters may hold personal data: keep them out of error messages and logs.
    options: dict = {"hide_parameters": True, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False}
        options.update(pool_size=10, max_overflow=30)
        engine = create_engine(url, **options)
        _sqlite_transactions(engine)
        # SQLite lets one writer in at a time and its busy handler is not fair: under load a
        # waiting writer can miss the lock for seconds. Writers of this process queue on a
        # lock instead; other processes still meet the busy timeout. Kept in the engine's own
        # options, like the engine for reading, so both live and die with the engine.
        engine.update_execution_options(write_lock=threading.Lock())
        engine.update_execution_options(readonly_engine=engine.execution_options(readonly=True))
        return engine
    options.update(pool_size=10, max_overflow=20, pool_timeout=5)
    if parsed.get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": 3}
    engine = create_engine(url, **options)
    _ping_when_idle(engine)
    engine.update_execution_options(readonly_engine=engine.execution_options(isolation_level="AUTOCOMMIT"))
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use, but only one that sat idle.

    Pinging every checkout is a round trip more on every request: under load, a sixth of an
    issue's time (profiled). A connection back in use within PING_IDLE_S seconds is trusted.
    Should the server have gone away meanwhile, its first statement fails (503), SQLAlchemy
    drops the whole pool and the next request connects anew; an idle connection, the usual
    case after a restart, is found dead by the ping and replaced before any statement runs.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:  # the pool then connects anew
            raise DisconnectionError(f"the database connection was lost ({type(exc).__name__})") from exc


def _sqlite_transactions(engine: Engine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for writes.

    pysqlite's own deferred BEGIN lets two writers both read, then fail to upgrade their
    lock (SQLITE_BUSY without waiting). Taking the write lock at BEGIN makes writers queue
    on the busy timeout instead. Read-only work asks for `readonly=True` and starts a plain
    deferred transaction so it never waits for writers (WAL).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


@contextmanager
def writing(engine: Engine):
    """A write transaction: `with writing(engine) as conn:`."""
    with engine.get_execution_options().get("write_lock") or nullcontext(), engine.begin() as conn:
        yield conn


def for_reading(engine: Engine) -> Engine:
    """The engine for read-only work, made with the engine (make_engine).

    SQLite: a deferred transaction, so a reader never waits for writers (WAL) and its
    statements share one snapshot. PostgreSQL: autocommit; under READ COMMITTED each
    statement has its own snapshot anyway, and this saves the BEGIN and ROLLBACK round trips.
    """
    return engine.get_execution_options().get("readonly_engine") or engine


def reading(engine: Engine):
    """A read-only connection: `with reading(engine) as conn:`."""
    return for_reading(engine).connect()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (same migrations for SQLite and PostgreSQL)."""
    command.upgrade(alembic_config(engine), "head")


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
