"""Configuration in one place: defaults < the site profile's [server] table < KIOSK_* environment.

`create_app(config)` overrides all three (tests). The site profile itself is named by
KIOSK_SITE (default: the demo profile).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from .site import DEMO_PROFILE, load_site_profile
from .storage import private_directory

# setting -> what it is; each may come from the profile's [server] table (lower case) or
# from the environment as KIOSK_<NAME>.
SETTINGS = {
    "DATABASE_URL": "SQLAlchemy URL; default an SQLite file in the data directory",
    "SECRET_KEY": "signs sessions and forms; default a random key kept in the data directory",
    "DATA_DIR": "where the SQLite file, the secret key and simulated printouts live",
}


def build_config(instance_path: str, overrides: dict | None = None, environ=os.environ) -> dict:
    overrides = dict(overrides or {})
    site_path = overrides.pop("SITE", None) or environ.get("KIOSK_SITE") or DEMO_PROFILE
    site = load_site_profile(site_path)

    config: dict = {"DATA_DIR": instance_path, "DATABASE_URL": None, "SECRET_KEY": None}
    # the profile has refused unknown keys and values that are not text already
    for key, value in site.server.model_dump(exclude_none=True).items():
        config[key.upper()] = value
    for key in SETTINGS:
        if environ.get(f"KIOSK_{key}"):
            config[key] = environ[f"KIOSK_{key}"]
    config.update(overrides)

    data_dir = Path(config["DATA_DIR"])
    config["DATABASE_URL"] = config["DATABASE_URL"] or f"sqlite:///{data_dir / 'kiosk.sqlite3'}"
    config["SECRET_KEY"] = config["SECRET_KEY"] or _stored_secret(data_dir)
    config["SITE_PROFILE"] = site
    # A bigger body is refused (413) before any of it is parsed: no screen or API call sends
    # more than a few KB. In a multipart body a single field beyond MAX_FORM_MEMORY_SIZE is
    # refused too (Flask's default: 500 KB); the forms bound each of their fields tighter still.
    config.setdefault("MAX_CONTENT_LENGTH", 256 * 1024)
    config.setdefault("MAX_FORM_MEMORY_SIZE", 64 * 1024)
    # ... except a pickup register file, sent by the back office (about 25,000 cards)
    config.setdefault("REGISTER_UPLOAD_MAX", 2 * 1024 * 1024)
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    # over HTTPS the browser must never send the session cookie over plain HTTP
    config.setdefault("SESSION_COOKIE_SECURE", site.public_url.startswith("https://"))
    config.setdefault("WTF_CSRF_TIME_LIMIT", 3600)
    # Screens load CSS and JS on every tap: let browsers keep them (restart the kiosk screen
    # after an update to pick up new ones at once).
    config.setdefault("SEND_FILE_MAX_AGE_DEFAULT", 3600)
    return config


def _stored_secret(data_dir: Path) -> str:
    """One random key per installation, made on first start and kept."""
    path = data_dir / "secret_key"
    if not path.exists():
        # Several processes may start at once (init-db, the app): each writes a whole key to a
        # file of its own and links it into place; the first link wins, and nobody ever reads a
        # key half written.
        private_directory(data_dir)
        fd, draft = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
    return path.read_text().strip()
