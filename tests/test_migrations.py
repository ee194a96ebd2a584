"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, insert

from kiosk.schema import metadata, tickets


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
