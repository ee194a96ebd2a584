"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

import contextlib
import datetime as dt
import fcntl
import os
import subprocess
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from kiosk.schema import metadata, tickets
from kiosk.storage import (
    MIGRATION_LOCK_KEY,
    MigrationLockTimeout,
    SchemaTooNew,
    for_reading,
    make_engine,
    migrate,
    schema_is_current,
    while_behind,
)
from tests.system import KIOSK


def test_migrations_match_the_declared_schema(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_calling_next_does_not_read_the_history(queue):
    # A year of finished tickets; ANALYZE then tells SQLite that nearly all are done, and its
    # statistics cannot tell a rare status apart: the counter must lead the index.
    with queue.engine.begin() as conn:
        conn.execute(
            insert(tickets),
            [
                dict(
                    day=dt.date(2026, 1, 5),
                    number=f"A{n:03d}",
                    service="pickup",
                    status="done",
                    priority=0,
                    language="nl",
                    counter=n % 3 + 1,
                    arrived_at=dt.datetime(2026, 1, 5, 9),
                    status_token=f"t{n}",
                )
                for n in range(500)
            ],
        )
        conn.exec_driver_sql("ANALYZE")
    statements = []
    event.listen(
        queue.engine, "before_cursor_execute", lambda conn, cursor, sql, params, *_: statements.append((sql, params))
    )
    queue.call_next(1)
    # what the counter holds, to be finished: found through the counter's own index
    held = [(sql, params) for sql, params in statements if sql.startswith("SELECT") and "tickets.counter =" in sql]
    with queue.engine.connect() as conn:
        plans = [conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all() for sql, params in held]
    steps = [step[-1] for step in plans[0]] if plans else []
    assert any("USING INDEX ix_tickets_counter" in step for step in steps), (held, plans)
    assert not any(step.startswith("SCAN tickets") for step in steps), plans  # (sorting the few held is fine)


def test_init_dbs_started_together_all_succeed(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_DATA_DIR=str(tmp_path / "data"), KIOSK_DATABASE_URL=database_url)
    processes = [
        subprocess.Popen([*KIOSK, "init-db"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=120)
            results.append((process.returncode, out, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert [result[0] for result in results] == [0, 0, 0], results
    assert all(out.strip() == "Database is up to date." for _, out, _ in results), results
    engine = make_engine(database_url)
    try:
        assert schema_is_current(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


@contextlib.contextmanager
def migration_lock_held(database_url: str):
    """The lock `migrate` takes, held by someone else: another instance migrating."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        lock = Path(f"{url.database}.lock")
        with open(lock, "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            yield
        return
    other = create_engine(database_url)
    try:
        with other.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            yield
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
    finally:
        other.dispose()


def test_a_migration_waits_for_the_one_under_way_but_not_forever(database_url):
    engine = make_engine(database_url)
    try:
        with migration_lock_held(database_url):
            with pytest.raises(MigrationLockTimeout):
                migrate(engine, lock_wait_s=0.3)
            assert _revision(engine) is None  # nothing was done meanwhile
            waiting = threading.Thread(target=migrate, args=(engine,), daemon=True)
            waiting.start()
            waiting.join(timeout=0.5)
            assert waiting.is_alive()  # still waiting for the lock
        waiting.join(timeout=60)
        assert not waiting.is_alive() and schema_is_current(engine)
    finally:
        engine.dispose()


def test_a_schema_newer_than_the_code_is_left_alone(engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaTooNew, match="revision 9999, newer than this version"):
        migrate(engine)
    assert _revision(engine) == "9999"


def _revision(engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_while_behind_a_missing_table_is_the_database_not_being_ready(database_url):
    engine = make_engine(database_url)
    try:
        release = while_behind(engine)
        for readonly in (engine, for_reading(engine)):
            with pytest.raises(OperationalError), readonly.connect() as conn:
                conn.execute(text("SELECT count(*) FROM tickets"))
        release()
        with pytest.raises(OperationalError if engine.dialect.name == "sqlite" else ProgrammingError):
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM tickets"))
    finally:
        engine.dispose()
