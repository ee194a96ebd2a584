"""Staff accounts: clerks, supervisors and facility staff who sign in with a password.

Passwords are hashed with werkzeug's default (scrypt). Failed sign-ins are counted per
account *and* client address: after FREE_FAILURES from one address, that address must wait
before trying that account again, 1 s, then twice as long after every further failure, up
to 15 minutes. Guesses from elsewhere therefore never lock a clerk out at their own desk,
while one computer guessing one account slows to four tries an hour. The counts live in the
database, so every app instance of an office sees them, and an attempt is counted (and the
next delay set) in the same transaction that checks the delay, before the password is
checked, so parallel guesses cannot slip past it. A success from the address clears its
count; a supervisor can clear an account's delays (`kiosk user unlock`).

Every refusal is the same LoginRefused, whatever the reason (unknown user, disabled account,
wrong password, waiting), and each takes one password hash, so that neither the answer nor
its time tells a real user name from an unknown one.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from kiosk.schema import login_failures, users
from kiosk.storage import reading, writing

ROLES = ("clerk", "supervisor", "facility")
FREE_FAILURES = 3  # typing slips; the delays start after the third failure in a row
FIRST_DELAY = dt.timedelta(seconds=1)
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_FAILURES = dt.timedelta(days=1)  # an address quiet this long starts afresh, and is not kept
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_ADDRESS_LENGTH = 64

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str


class AccountError(ValueError):
    """The account cannot be created or changed as asked; the message says why."""


class LoginRefused(Exception):
    """Not signed in. Deliberately without a reason: see the module's docstring."""

    def __init__(self) -> None:
        super().__init__("wrong user name or password, or too many attempts")


@functools.cache
def _decoy_hash() -> str:
    """Checked when the real hash is not, so every refusal takes as long as a wrong password."""
    return generate_password_hash("no such user")


def delay_after(failures: int) -> dt.timedelta:
    """How long an address waits before its next try on an account it failed `failures` times."""
    if failures < FREE_FAILURES:
        return dt.timedelta(0)
    doublings = min(failures - FREE_FAILURES, 30)  # past the cap anyway; keeps the number small
    return min(MAX_DELAY, FIRST_DELAY * 2**doublings)


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
                    created_at=now,
                    disabled=False,
                ),
            ).scalar_one()
    except IntegrityError:
        raise AccountError(f"The user name {username!r} is taken.") from None
    return User(user_id, username, role)


def _upsert(dialect_name: str):
    return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect_name](login_failures)


def _count_attempt(conn: Connection, user_id: int, address: str, now: dt.datetime) -> int | None:
    """Count this attempt as a failure in advance and set the delay it would earn; the number
    of failures so far, or None when the address must still wait (nothing counted then)."""
    stmt = _upsert(conn.dialect.name).values(
        user_id=user_id, address=address, failures=1, delayed_until=None, last_failed_at=now
    )
    waited = login_failures.c.delayed_until.is_(None) | (login_failures.c.delayed_until <= now)
    failures = conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "address"],
            set_={"failures": login_failures.c.failures + 1, "last_failed_at": now},
            where=waited,
        ).returning(login_failures.c.failures)
    ).scalar()
    if failures is None:
        return None
    pair = (login_failures.c.user_id == user_id) & (login_failures.c.address == address)
    if failures >= FREE_FAILURES:  # the row stays locked by this transaction until the delay is set
        conn.execute(update(login_failures).where(pair).values(delayed_until=now + delay_after(failures)))
    if failures == 1:  # a new address for this account: a moment to forget the stale ones
        conn.execute(delete(login_failures).where(login_failures.c.last_failed_at < now - FORGET_FAILURES))
    return failures


def authenticate(engine: Engine, username: str, password: str, now: dt.datetime, *, address: str = "") -> User:
    """The user, or LoginRefused. `address` is the client's (the desk PC's) network address;
    failures and delays are counted per account and address."""
    address = address[:_ADDRESS_LENGTH]
    with writing(engine) as conn:
        account = conn.execute(
            select(users.c.id, users.c.role, users.c.password_hash).where(
                users.c.username == username, users.c.disabled.is_(False)
            )
        ).first()
        counted = account is not None and _count_attempt(conn, account.id, address, now) is not None
    # The slow hash runs outside the write transaction: SQLite has one writer at a time.
    if account is None or not counted:
        # Unknown, disabled, or still waiting: the password is not checked at all (a right one
        # would be refused too), but a hash is, so the answer takes as long as a wrong password.
        check_password_hash(_decoy_hash(), password)
        raise LoginRefused()
    if not check_password_hash(account.password_hash, password):
        raise LoginRefused()  # already counted, with its delay
    with writing(engine) as conn:
        conn.execute(
            delete(login_failures).where(login_failures.c.user_id == account.id, login_failures.c.address == address)
        )
    return User(account.id, username, account.role)


def unlock(engine: Engine, username: str, by: str) -> int:
    """Clear the account's failures and delays at every address (a supervisor's action); the
    number of addresses that were counted. `by` says who, for the log."""
    with writing(engine) as conn:
        user_id = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
        if user_id is None:
            raise AccountError(f"There is no account {username!r}.")
        cleared = conn.execute(delete(login_failures).where(login_failures.c.user_id == user_id)).rowcount
    # An override of a brake on guessing: logged above INFO so it is kept wherever it runs.
    log.warning("sign-in delays of account %s cleared by %s", username, by)
    return cleared


def active_user(engine: Engine, user_id: int) -> User | None:
    """The signed-in user as the database has them now: None once disabled or removed."""
    with reading(engine) as conn:
        row = conn.execute(
            select(users.c.id, users.c.username, users.c.role).where(users.c.id == user_id, users.c.disabled.is_(False))
        ).first()
    return User(row.id, row.username, row.role) if row else None
