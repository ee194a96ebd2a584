"""Staff accounts: clerks, supervisors and facility staff who sign in with a password.

Passwords are hashed with werkzeug's default (scrypt). Five wrong passwords in a row lock the
account for 15 minutes. The count and the lock live in the database, so every app instance
of an office sees them, and the attempt is counted in the same statement that checks the
lock, so parallel guesses cannot slip past it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from sqlalchemy import Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.schema import users
from kiosk.storage import reading, writing

ROLES = ("clerk", "supervisor", "facility")
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str


class AccountError(ValueError):
    """The account cannot be created as asked; the message says why."""


class LoginRefused(Exception):
    def __init__(self, locked_until: dt.datetime | None = None):
        super().__init__("locked" if locked_until else "wrong user name or password")
        self.locked_until = locked_until


@functools.cache
def _decoy_hash() -> str:
    """Checked for unknown users too, so the answer takes as long as for a real one."""
    return generate_password_hash("no such user")


def create_user(engine: Engine, username: str, role: str, password: str, now: dt.datetime) -> User:
    if role not in ROLES:
        raise AccountError(f"The role must be one of {', '.join(ROLES)}.")
    if not _USERNAME.match(username):
        raise AccountError("A user name is 2 to 64 lower-case letters, digits, '.', '_' or '-'.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    try:
        with writing(engine) as conn:
            user_id = conn.execute(
                insert(users).returning(users.c.id),
                dict(
                    username=username,
                    role=role,
                    password_hash=generate_password_hash(password),
                    failed_logins=0,
                    created_at=now,
                    disabled=False,
                ),
            ).scalar_one()
    except IntegrityError:
        raise AccountError(f"The user name {username!r} is taken.") from None
    return User(user_id, username, role)


def authenticate(engine: Engine, username: str, password: str, now: dt.datetime) -> User:
    """The user, or LoginRefused (with `locked_until` when the account is locked)."""
    with writing(engine) as conn:
        row = conn.execute(
            update(users)
            .where(
                users.c.username == username,
                users.c.disabled.is_(False),
                or_(users.c.locked_until.is_(None), users.c.locked_until <= now),
            )
            .values(failed_logins=users.c.failed_logins + 1)
            .returning(users.c.id, users.c.role, users.c.password_hash, users.c.failed_logins)
        ).first()
        if row is None:
            locked_until = conn.execute(
                select(users.c.locked_until).where(users.c.username == username, users.c.disabled.is_(False))
            ).scalar()
    if row is None:
        check_password_hash(_decoy_hash(), password)
        if locked_until is not None and locked_until > now:
            raise LoginRefused(locked_until)
        raise LoginRefused()
    if row.failed_logins > MAX_FAILURES:  # raced past the lock by parallel attempts
        raise LoginRefused(now + LOCKOUT)
    # The slow hash runs outside the write transaction: SQLite has one writer at a time.
    if check_password_hash(row.password_hash, password):
        with writing(engine) as conn:
            conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=None))
        return User(row.id, username, row.role)
    if row.failed_logins >= MAX_FAILURES:
        with writing(engine) as conn:
            conn.execute(update(users).where(users.c.id == row.id).values(failed_logins=0, locked_until=now + LOCKOUT))
        raise LoginRefused(now + LOCKOUT)
    raise LoginRefused()


def active_user(engine: Engine, user_id: int) -> User | None:
    """The signed-in user as the database has them now: None once disabled or removed."""
    with reading(engine) as conn:
        row = conn.execute(
            select(users.c.id, users.c.username, users.c.role).where(users.c.id == user_id, users.c.disabled.is_(False))
        ).first()
    return User(row.id, row.username, row.role) if row else None
