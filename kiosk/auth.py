"""Who is asking, for HTTP: an API token (kiosk.tokens), the kiosk's own loopback, or the
signed-in staff member, whose session ends after IDLE_TIMEOUT without a request."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress

from flask import abort, g, request, session

from .accounts import sessions
from .accounts.users import active_user
from .extensions import csrf, office
from .server import KIOSK, on_listener
from .tokens import Principal

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
IDLE_TIMEOUT = dt.timedelta(minutes=30)
SEEN_RESOLUTION = dt.timedelta(minutes=1)  # rewrite the cookie at most once a minute


FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def from_this_pc() -> bool:
    """The request comes from the kiosk's own browser: through the kiosk's listener (bound to
    loopback, see kiosk.server), from loopback, and not passed on by a proxy on this PC
    (through one, anyone would look like loopback)."""
    return (
        on_listener(request.environ, KIOSK)
        and is_loopback(request.remote_addr)
        and not any(h in request.headers for h in FORWARDING_HEADERS)
    )


def current_principal() -> Principal | None:
    """The bearer token if one is sent (a wrong one is refused, never ignored), else the
    logged-in staff member, else None."""
    if "principal" not in g:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                abort(401, description="Use 'Authorization: Bearer <token>'.")
            principal = office.tokens.principal(token.strip())
            if principal is None:
                abort(401, description="This token is unknown or revoked.")
            g.principal = principal
        else:
            g.principal = session_principal()
            if g.principal is not None and request.method not in SAFE_METHODS:
                csrf.protect()  # the browser sends the cookie from any site; the token only from ours
    return g.principal


def _stamp(moment: dt.datetime) -> float:
    return (moment - dt.datetime(1970, 1, 1)).total_seconds()


def sign_in(user_id: int) -> None:
    """A fresh session for the staff member: nothing carried over from before."""
    sign_out()
    session.permanent = True
    now = office.clock()
    session.update(user_id=user_id, sid=sessions.open_session(office.engine, user_id, now), seen=_stamp(now))


def sign_out() -> None:
    """Ends the session on the server too: a copy of the cookie no longer signs anyone in."""
    if isinstance(session.get("sid"), str):
        sessions.close_session(office.engine, session["sid"], office.clock())
    session.clear()


def session_principal() -> Principal | None:
    """The signed-in staff member, or None (never signed in, signed out, timed out, or disabled)."""
    user_id, sid = session.get("user_id"), session.get("sid")
    if user_id is None:
        return None
    if not isinstance(user_id, int) or not isinstance(sid, str):
        session.clear()  # a cookie from before sessions were kept on the server
        return None
    now = _stamp(office.clock())
    seen = session.get("seen", 0.0)
    if now - seen > IDLE_TIMEOUT.total_seconds():
        sign_out()
        return None
    user = active_user(office.engine, user_id)
    if user is None or not sessions.is_open(office.engine, sid, user_id):
        session.clear()
        return None
    if request.headers.get("X-Refresh") != "auto" and now - seen >= SEEN_RESOLUTION.total_seconds():
        session["seen"] = now
    return Principal("user", user.role, user.username)


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
