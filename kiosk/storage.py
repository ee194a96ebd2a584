"""Database engines and migrations: SQLite (WAL) by default, PostgreSQL when configured."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext, suppress
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError

from .disk import Disk

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_MS = 5000
PING_IDLE_S = 1.0
MIGRATION_LOCK_KEY = 0x536E656C62616C69  # any fixed bigint: the instances of an office agree on it
MIGRATION_LOCK_WAIT_S = 60.0
RESTORE_BUSY_S = 0.5
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


class MigrationLockTimeout(Exception):
    """Another instance was still migrating the database when the wait ended."""


class SchemaTooNew(Exception):
    """The database is at a revision this version of the code does not know."""


def migrate(engine: Engine, lock_wait_s: float = MIGRATION_LOCK_WAIT_S) -> None:
    """Bring the schema to the newest revision (same migrations for SQLite and PostgreSQL).

    Instances that start together take turns: Alembic reads the revision, then applies each
    step in its own transaction, so two at once would both create the first tables."""
    with _migration_lock(engine, lock_wait_s) as migrating:
        current = _current_revision(migrating)
        script = ScriptDirectory.from_config(alembic_config(migrating))
        if current is not None and current not in {revision.revision for revision in script.walk_revisions()}:
            raise SchemaTooNew(
                f"The database's schema is at revision {current}, newer than this version of the kiosk knows "
                f"(its newest is {script.get_current_head()}): a newer version migrated it. Install that version "
                "here too; the database was left as it is."
            )
        command.upgrade(alembic_config(migrating), "head")


@contextmanager
def _migration_lock(engine: Engine, wait_s: float) -> Iterator[Engine]:
    """The office's one migration at a time, then the engine to migrate with.

    PostgreSQL: an advisory lock, held by one session for the whole upgrade. Its engine has no
    Watchdog (make_engine), which would cut a connection held for longer than a request.
    SQLite: an exclusive lock on a file beside the database."""
    if engine.dialect.name == "postgresql":
        own = make_engine(engine.url.render_as_string(hide_password=False), held_s=None)
        try:
            with own.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f"SET lock_timeout = {max(1, round(wait_s * 1000))}")
                conn.exec_driver_sql(f"SET statement_timeout = {max(1, round(wait_s * 1000)) + 5000}")
                try:
                    conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                except OperationalError as exc:
                    if getattr(exc.orig, "sqlstate", None) == "55P03":  # lock_not_available
                        raise MigrationLockTimeout(
                            f"another instance was still migrating the database after {wait_s:g} s"
                        ) from None
                    raise
                try:
                    yield own
                finally:
                    with suppress(Exception):  # the session's end releases it too
                        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        finally:
            own.dispose()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield engine
        return
    lock = Path(f"{database}.lock")
    private_file(lock)
    fd = os.open(lock, os.O_RDWR)
    try:
        deadline = time.monotonic() + wait_s
        pause = threading.Event()  # never set: a timed wait (a sleep would break under faketime)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise MigrationLockTimeout(
                        f"another process was still migrating the database after {wait_s:g} s"
                    ) from None
                pause.wait(0.05)
        yield engine
    finally:
        os.close(fd)  # releases the lock


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    return _current_revision(engine) == head


# A table or column the database does not have (yet).
_NOT_YET = {"42P01", "42703"}


def while_behind(engine: Engine) -> Callable[[], None]:
    """Until the returned function is called, a table or column missing from the database
    counts as the database being unavailable (503, the kiosk out of service), not as a bug:
    the schema is being migrated. (SQLite reports these as OperationalError already.)"""

    def _not_yet(context):
        orig = context.original_exception
        if getattr(orig, "sqlstate", None) in _NOT_YET:
            return OperationalError(context.statement, None, orig, hide_parameters=True)
        return None

    event.listen(engine, "handle_error", _not_yet)
    return lambda: event.remove(engine, "handle_error", _not_yet)


# --- backups (SQLite) -------------------------------------------------------------------


class BackupError(Exception):
    """A backup or restore that is not done; the message says why and what to do instead."""


def _sqlite_file(engine: Engine, pg_advice: str) -> Path:
    if engine.dialect.name != "sqlite":
        raise BackupError(pg_advice)
    if not engine.url.database or engine.url.database == ":memory:":
        raise BackupError("The database is in memory: there is no file to back up or restore.")
    return Path(engine.url.database)


def _libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername=engine.dialect.name).render_as_string(hide_password=True)


def backup(engine: Engine, target: Path) -> None:
    """Copy the SQLite database into `target` (0600) with SQLite's online backup: one
    consistent snapshot, taken while the server goes on reading and writing (WAL)."""
    database = _sqlite_file(
        engine,
        "The database is PostgreSQL: back it up with PostgreSQL's own tool, "
        f"pg_dump --format=custom --file={target} '{_libpq_url(engine)}' (restore it with pg_restore).",
    )
    target = Path(target)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with closing(sqlite3.connect(database, timeout=SQLITE_BUSY_MS / 1000)) as source:
            with closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)  # in one step: a step-wise copy starts over at every write
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _fsync(partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def backup_revision(path: Path) -> str:
    """The schema revision of a backup of the kiosk's database; BackupError if it is not one."""
    path = Path(path)
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is a damaged SQLite database.")
            if not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchall():
                raise BackupError(f"{path} has no alembic_version table: it is not a backup of the kiosk's database.")
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an SQLite database ({type(exc).__name__}).") from None
    known = {revision.revision for revision in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if len(rows) != 1 or rows[0][0] not in known:
        found = ", ".join(str(row[0]) for row in rows) or "none"
        raise BackupError(f"{path} is at a schema revision this version of the kiosk does not know ({found}).")
    return rows[0][0]


def restore(engine: Engine, backup_path: Path) -> Path | None:
    """Replace the SQLite database with a backup; the old file is kept beside it, named after
    its own last change. Refused while anyone (a running server) has the database open.
    Returns where the old file went (None: there was none)."""
    database = _sqlite_file(
        engine,
        "The database is PostgreSQL: restore a pg_dump backup with PostgreSQL's own tool, "
        f"pg_restore --clean --dbname='{_libpq_url(engine)}' FILE.",
    )
    engine.dispose()  # this process's own connections
    backup_revision(backup_path)
    partial = database.with_name(f".{database.name}.restoring")
    partial.unlink(missing_ok=True)
    private_file(partial)
    try:
        with closing(sqlite3.connect(f"{Path(backup_path).resolve().as_uri()}?mode=ro", uri=True)) as source:
            with closing(sqlite3.connect(partial)) as copy:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
        backup_revision(partial)
        _fsync(partial)
        if not database.exists() or database.stat().st_size == 0:
            os.replace(partial, database)
            return None
        aside = _aside(database)
        with _alone_with(database):
            os.replace(database, aside)
            os.replace(partial, database)
        return aside
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _alone_with(database: Path) -> Iterator[None]:
    """The database held exclusively. Leaving WAL mode needs every other connection closed,
    and copies the log into the file, so the file alone then holds all of it."""
    in_use = BackupError(
        f"The database {database} is in use: stop the server first (systemctl stop snelbalie), then restore."
    )
    with closing(sqlite3.connect(database, timeout=RESTORE_BUSY_S, isolation_level=None)) as conn:
        try:
            mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            conn.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError:
            raise in_use from None
        if mode != "delete":
            raise in_use
        yield


def _aside(database: Path) -> Path:
    """Beside the database, named after its last change (of the file or of its write-ahead log)."""
    wal = database.with_name(f"{database.name}-wal")
    changed = max(path.stat().st_mtime for path in (database, wal) if path.exists())
    stamp = dt.datetime.fromtimestamp(changed, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = database.with_name(f"{database.name}.before-restore-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = database.with_name(f"{database.name}.before-restore-{stamp}-{n}")
    return aside


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
