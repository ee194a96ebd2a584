"""Who is asking: API tokens (kiosk, desk, ops), the kiosk's own loopback, logged-in staff.

Tokens are random and shown once; only their SHA-256 is stored (they are long and random,
so a slow password hash adds nothing).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import secrets
import time
import weakref
from dataclasses import dataclass

from flask import abort, g, request
from sqlalchemy import Engine, insert, select, update

from .schema import api_tokens
from .storage import reading, writing

TOKEN_ROLES = ("kiosk", "desk", "ops")
TOKEN_KNOWN_S = 5.0  # so a revoked token stops working within five seconds
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Principal:
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
        conn.execute(insert(api_tokens).values(
            name=name, role=role, token_hash=_digest(token), created_at=now))
    return token


def revoke_tokens(engine: Engine, name: str, now: dt.datetime) -> int:
    """Revoke every token of that name; they stop working within TOKEN_KNOWN_S."""
    with writing(engine) as conn:
        return conn.execute(
            update(api_tokens).where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount


# engine -> token digest -> (looked up at, principal); only valid tokens, so it stays small
_KNOWN_TOKENS: weakref.WeakKeyDictionary[Engine, dict] = weakref.WeakKeyDictionary()


def token_principal(engine: Engine, token: str) -> Principal | None:
    """The token's role and name. A valid token is remembered for TOKEN_KNOWN_S: desks send
    it with every action, and the lookup would be a database round trip each time."""
    digest = _digest(token)
    known = _KNOWN_TOKENS.setdefault(engine, {})
    hit = known.get(digest)
    if hit is not None and time.monotonic() - hit[0] < TOKEN_KNOWN_S:
        return hit[1]
    with reading(engine) as conn:
        row = conn.execute(
            select(api_tokens.c.role, api_tokens.c.name)
            .where(api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None:
        known.pop(digest, None)
        return None
    principal = Principal("token", row.role, row.name)
    known[digest] = (time.monotonic(), principal)
    return principal


FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def from_this_pc() -> bool:
    """The request comes from the kiosk's own browser: loopback, and not passed on by a
    proxy on this PC (through one, anyone would look like loopback)."""
    return is_loopback(request.remote_addr) and not any(h in request.headers for h in FORWARDING_HEADERS)


def current_principal() -> Principal | None:
    """The bearer token if one is sent (a wrong one is refused, never ignored), else the
    logged-in staff member, else None."""
    if "principal" not in g:
        from .extensions import office

        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                abort(401, description="Use 'Authorization: Bearer <token>'.")
            principal = token_principal(office.engine, token.strip())
            if principal is None:
                abort(401, description="This token is unknown or revoked.")
            g.principal = principal
        else:
            from .accounts.views import session_principal
            from .extensions import csrf

            g.principal = session_principal()
            if g.principal is not None and request.method not in SAFE_METHODS:
                csrf.protect()  # the browser sends the cookie from any site; the token only from ours
    return g.principal


def require(*roles: str, loopback: bool = False):
    """Allow tokens of `roles`; with `loopback`, also unauthenticated requests from this PC."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                if loopback and from_this_pc():
                    g.principal = Principal("loopback", "kiosk", "this kiosk")
                    return view(*args, **kwargs)
                if loopback:
                    abort(403, description="Only the kiosk itself or a kiosk token may do this.")
                abort(401, description="Sign in or send an API token.")
            if principal.role not in roles:
                abort(403, description=f"A {' or '.join(roles)} token is needed for this.")
            return view(*args, **kwargs)

        return wrapped

    return decorate
