"""Personal data that must travel in the session cookie, sealed: Flask signs its session but
does not hide it, so anyone holding the cookie could read a national number typed at the
kiosk. Sealed with Fernet (AES with an HMAC, from `cryptography`), under a key derived from
the app's secret key, and good for one visit only."""

from __future__ import annotations

import base64
import datetime as dt

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from .extensions import office

VISIT_S = 3600  # a sealed value older than this belongs to no visit any more


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"snelbalie session seal").derive(
        secret.encode() if isinstance(secret, str) else secret
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _now() -> int:
    """The office's clock, in the seconds Fernet counts."""
    return int((office.clock() - dt.datetime(1970, 1, 1)).total_seconds())


def seal(text: str) -> str:
    return _fernet().encrypt_at_time(text.encode(), _now()).decode()


def unseal(token: str) -> str | None:
    """The text, or None when the token is not ours, was altered or is too old."""
    try:
        return _fernet().decrypt_at_time(token.encode(), VISIT_S, _now()).decode()
    except (InvalidToken, ValueError):
        return None
