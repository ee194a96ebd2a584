"""Database engines and migrations: SQLite (WAL) by default, PostgreSQL when configured."""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from .disk import Disk

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_MS = 5000
PING_IDLE_S = 1.0
HELD_S = 4.0  # a PostgreSQL connection held longer than this is cut (Watchdog)
# A server or network that hangs, rather than goes away, otherwise holds a request for as
# long as it hangs: libpq gives up connecting, the server ends statements and waits for
# locks, TCP gives up on data the other side never acknowledges.
POSTGRES_TIMEOUTS = {
    "connect_timeout": 2,
    "options": "-c statement_timeout=5000 -c lock_timeout=3000 -c idle_in_transaction_session_timeout=15000",
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 5000,
}


def private_directory(path: Path) -> None:
    """A directory that holds personal data: made if missing, readable by this user only,
    whatever the umask of whoever runs the command."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _only_the_owner(path)


def private_file(path: Path) -> None:
    """A file with personal data, 0600 in a private directory. SQLite gives its -wal and -shm
    files the mode of the database file."""
    private_directory(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _only_the_owner(path)


def _only_the_owner(path: Path) -> None:
    """Take group and others' access away (an older install made them 0755 and 0644); the
    owner's own bits stay as they are."""
    mode = path.stat()
    if mode.st_uid == os.geteuid() and mode.st_mode & 0o077:
        path.chmod(mode.st_mode & 0o700)


def make_engine(url: str, held_s: float | None = HELD_S) -> Engine:
    parsed = make_url(url)
    # Statement parameters may hold personal data: keep them out of error messages and logs.
    options: dict = {"hide_parameters": True, "future": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            private_file(Path(parsed.database))
        options["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False}
        options.update(pool_size=10, max_overflow=30)
        engine = create_engine(url, **options)
        _sqlite_transactions(engine)
        if parsed.database and parsed.database != ":memory:":
            _watch_the_disk(engine, Disk(Path(parsed.database).parent, on_recovery=engine.dispose))
        # SQLite lets one writer in at a time and its busy handler is not fair: under load a
        # waiting writer can miss the lock for seconds. Writers of this process queue on a
        # lock instead; other processes still meet the busy timeout. Kept in the engine's own
        # options, like the engine for reading, so both live and die with the engine.
        engine.update_execution_options(write_lock=threading.Lock())
        engine.update_execution_options(readonly_engine=engine.execution_options(readonly=True))
        return engine
    options.update(pool_size=10, max_overflow=20, pool_timeout=5)
    if parsed.get_backend_name() == "postgresql":
        # after any options the URL sets itself (e.g. a search_path): the URL's would be replaced
        connect_args = dict(POSTGRES_TIMEOUTS)
        connect_args["options"] = f"{parsed.query.get('options', '')} {POSTGRES_TIMEOUTS['options']}".strip()
        options["connect_args"] = connect_args
    engine = create_engine(url, **options)
    if held_s is not None and parsed.get_backend_name() == "postgresql":
        Watchdog(held_s).watch(engine)  # first: armed before the ping below can hang
    _ping_when_idle(engine)
    engine.update_execution_options(readonly_engine=engine.execution_options(isolation_level="AUTOCOMMIT"))
    return engine


class Watchdog:
    """Cuts a connection held from the pool longer than `held_s`. When the server or a proxy
    hangs with the connection open, the server's own time-outs never start and TCP sees its
    data acknowledged: nothing else ends the wait. Cut, the call fails at once, the pool drops
    the connection and the request answers 503 (the kiosk goes out of service) until the
    database answers again. One thread per engine, waking only for the nearest deadline."""

    def __init__(self, held_s: float):
        self.held_s = held_s
        self._held: dict[int, tuple[float, int]] = {}  # pool record -> (deadline, socket)
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="database watchdog", daemon=True)

    def watch(self, engine: Engine) -> None:
        event.listen(engine, "checkout", self._checkout, insert=True)
        event.listen(engine, "checkin", self._checkin)
        self._thread.start()

    def _checkout(self, dbapi_connection, record, _proxy) -> None:
        with self._changed:
            self._held[id(record)] = (time.monotonic() + self.held_s, dbapi_connection.fileno())
            self._changed.notify()

    def _checkin(self, _dbapi_connection, record) -> None:
        with self._changed:
            self._held.pop(id(record), None)

    def _run(self) -> None:
        while True:
            with self._changed:
                now = time.monotonic()
                for key, (deadline, fileno) in list(self._held.items()):
                    if deadline <= now:
                        del self._held[key]
                        _cut(fileno)  # still checked out, so the descriptor is still this connection's
                nearest = min((deadline for deadline, _ in self._held.values()), default=now + 60)
                self._changed.wait(max(0.01, nearest - now))


def _cut(fileno: int) -> None:
    """Shut the connection's socket down: the call waiting on it returns with an error."""
    try:
        with socket.socket(fileno=os.dup(fileno)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing waits on it


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
        # purged personal data is overwritten in the file, not only marked free
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _watch_the_disk(engine: Engine, disk: Disk) -> None:
    @event.listens_for(engine, "handle_error")
    def _refused(context) -> None:
        if disk.failed(context.original_exception):
            context.is_disconnect = True  # a connection opened read-only stays so: drop it

    engine.update_execution_options(disk=disk)


def disk_trouble(engine: Engine) -> str | None:
    """What keeps an SQLite database's disk from taking writes (kiosk.disk), or None."""
    disk = engine.get_execution_options().get("disk")
    return disk.trouble() if disk else None


def write_lock(engine: Engine) -> AbstractContextManager:
    """This process's lock for SQLite's one writer (make_engine); none for PostgreSQL."""
    return engine.get_execution_options().get("write_lock") or nullcontext()


@contextmanager
def writing(engine: Engine):
    """A write transaction: `with writing(engine) as conn:`."""
    with write_lock(engine), engine.begin() as conn:
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


def checkpoint(engine: Engine) -> None:
    """After a purge: SQLite's write-ahead log still holds the pages as they were before it
    until they are copied back into the database; copy them now and empty the log."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        # on the driver's connection: outside a transaction, which a checkpoint must be
        conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]


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
