"""API tokens (kiosk, desk, office, ops) and who holds them.

Tokens are random and shown once; only their SHA-256 is stored (they are long and random,
so a slow password hash adds nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from .schema import api_tokens
from .storage import reading, writing

TOKEN_ROLES = ("kiosk", "desk", "office", "ops")  # office: the back office's registers
TOKEN_KNOWN_S = 5.0  # so a revoked token stops working within five seconds


@dataclass(frozen=True)
class Principal:
    """Who is asking: a token's holder, the kiosk's own loopback, or a signed-in staff member."""

    kind: str  # "token", "loopback" or "user"
    role: str
    name: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, role: str, name: str, now: dt.datetime) -> str:
    if role not in TOKEN_ROLES:
        raise ValueError(f"role must be one of {', '.join(TOKEN_ROLES)}")
    token = secrets.token_urlsafe(32)
    with writing(engine) as conn:
        conn.execute(insert(api_tokens).values(name=name, role=role, token_hash=_digest(token), created_at=now))
    return token


def revoke_tokens(engine: Engine, name: str, now: dt.datetime) -> int:
    """Revoke every token of that name; they stop working within TOKEN_KNOWN_S."""
    with writing(engine) as conn:
        return conn.execute(
            update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount


class KnownTokens:
    """The office's valid tokens, each remembered for TOKEN_KNOWN_S after its lookup: desks
    send theirs with every action, and the lookup would be a database round trip each time.
    Only valid tokens are kept, so it stays small."""

    def __init__(self, engine: Engine, known_s: float = TOKEN_KNOWN_S):
        self.engine, self.known_s = engine, known_s
        self._known: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def principal(self, token: str) -> Principal | None:
        """The token's role and name, or None for an unknown or revoked token."""
        digest = _digest(token)
        with self._lock:
            hit = self._known.get(digest)
        if hit is not None and time.monotonic() - hit[0] < self.known_s:
            return hit[1]
        with reading(self.engine) as conn:
            row = conn.execute(
                select(api_tokens.c.role, api_tokens.c.name).where(
                    api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None)
                )
            ).first()
        with self._lock:
            if row is None:
                self._known.pop(digest, None)
                return None
            principal = Principal("token", row.role, row.name)
            self._known[digest] = (time.monotonic(), principal)
            return principal
