"""Staff sessions on the server: a signed-in browser holds a random id in its (signed)
cookie; the session lives while its row is open. Signing out, timing out or a newer sign-in
of the same browser closes it, and a copied cookie stops working with it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Engine, delete, insert, select, update

from ..schema import staff_sessions
from ..storage import reading, writing


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(engine: Engine, user_id: int, now: dt.datetime) -> str:
    session_id = secrets.token_urlsafe(32)
    with writing(engine) as conn:
        conn.execute(insert(staff_sessions).values(id_hash=_digest(session_id), user_id=user_id, started_at=now))
    return session_id


def is_open(engine: Engine, session_id: str, user_id: int) -> bool:
    with reading(engine) as conn:
        return (
            conn.execute(
                select(staff_sessions.c.id_hash).where(
                    staff_sessions.c.id_hash == _digest(session_id),
                    staff_sessions.c.user_id == user_id,
                    staff_sessions.c.ended_at.is_(None),
                )
            ).first()
            is not None
        )


def close_session(engine: Engine, session_id: str, now: dt.datetime) -> None:
    with writing(engine) as conn:
        conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.id_hash == _digest(session_id), staff_sessions.c.ended_at.is_(None))
            .values(ended_at=now)
        )


def purge(engine: Engine, before: dt.datetime) -> int:
    """Forget sessions started before `before` (they have long timed out)."""
    with writing(engine) as conn:
        return conn.execute(delete(staff_sessions).where(staff_sessions.c.started_at < before)).rowcount
