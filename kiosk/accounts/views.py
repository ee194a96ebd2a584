"""Sign in and out, and the signed-in session.

The session cookie holds only the user's id, the id of a session the server keeps (signing
out ends it there: kiosk.accounts.sessions) and when they were last active; the role is read
from the database on every request, so disabling an account takes effect at once. Thirty
minutes without an action signs the user out; a screen refreshing itself in the background
(header `X-Refresh: auto`) does not count as an action.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from ..auth import IDLE_TIMEOUT, current_principal, sign_in, sign_out
from ..extensions import csrf, office
from .users import LoginRefused, authenticate

bp = Blueprint("accounts", __name__)

log = logging.getLogger(__name__)

LANDING = {"clerk": "desk.index", "supervisor": "office.index", "facility": "ops.index"}


@bp.record_once
def _setup(state) -> None:
    state.app.config["PERMANENT_SESSION_LIFETIME"] = IDLE_TIMEOUT  # Flask's default is 31 days


def _now() -> dt.datetime:
    return office.clock()


def staff_page(*roles: str):
    """For screens: not signed in → the login page; signed in with another role → 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            principal = current_principal()
            if principal is None or principal.kind != "user":
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if principal.role not in roles:
                abort(403, description=_("Your account may not use this screen."))
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an address elsewhere (open redirect). Browsers drop
    tabs and newlines inside an address and read a backslash as a slash, so "/<tab>/evil" and
    "/<backslash>evil" would lead to another host; a newline would also break the header."""
    if not target or "\\" in target or any(ch <= " " or ch == "\x7f" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def _landing(role: str) -> str:
    endpoint = LANDING.get(role, "home.index")
    return url_for(endpoint if endpoint in current_app.view_functions else "home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_page = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("accounts/login.html", next_page=next_page, message=None)
    throttle = office.login_throttle
    address = request.remote_addr or "unknown"
    username = request.form.get("username", "").strip().lower()
    if throttle.blocked(address):
        return render_template(
            "accounts/login.html",
            next_page=next_page,
            username=username,
            message=_("Too many failed attempts from this computer. Wait a few minutes and try again."),
        ), 429
    try:
        user = authenticate(office.engine, username, request.form.get("password", ""), _now(), address=address)
    except LoginRefused:
        throttle.count(address)
        # One text for every refusal: it must not tell a real user name from an unknown one.
        message = _("Wrong user name or password, or too many attempts. Wait a moment and try again.")
        return render_template("accounts/login.html", next_page=next_page, username=username, message=message), 401
    sign_in(user.id)
    log.info("user %d signed in", user.id)
    return redirect(next_page or _landing(user.role))


@bp.errorhandler(CSRFError)
def login_expired(_error):
    """A sign-in page left open past WTF_CSRF_TIME_LIMIT: the form again, with a fresh token."""
    return render_template(
        "accounts/login.html",
        next_page=_safe_next(request.values.get("next")),
        username=request.form.get("username", "").strip().lower(),
        message=_("The page was open too long; please sign in again."),
    ), 400


# Without a token check: a desk page open for hours holds an expired token, and signing out
# must always work. A forged post can only end a session, never act in one (and SameSite=Lax
# keeps the cookie off other sites' posts anyway).
@bp.post("/logout")
@csrf.exempt
def logout():
    sign_out()
    return redirect(url_for("accounts.login", signed_out=1))
