"""On a PC installed with deploy/install.sh the `kiosk` command finds the office's settings
as its service does, in /etc/snelbalie/environment, rather than the demo's database; and it
refuses to write, as root, files the service could not write after it."""

from __future__ import annotations

import os
import pwd
from collections.abc import MutableMapping
from pathlib import Path

from dotenv import dotenv_values

ENVIRONMENT_FILE = Path("/etc/snelbalie/environment")


def load_environment(environ: MutableMapping[str, str] = os.environ) -> Path | None:
    """The installed environment's KIOSK_* settings, where the environment has none of its
    own; the file read, or None. KIOSK_ENVIRONMENT_FILE names another file."""
    path = Path(environ.get("KIOSK_ENVIRONMENT_FILE") or ENVIRONMENT_FILE)
    if not path.is_file():
        return None
    for key, value in dotenv_values(path).items():
        if key.startswith("KIOSK_") and value is not None:
            environ.setdefault(key, value)
    return path


def not_as_root_for(data_dir: Path) -> str | None:
    """Why this process must not write into `data_dir`: root, where the directory belongs to
    the service's user (the files it made would be root's, and the service locked out)."""
    if os.geteuid() != 0 or not data_dir.exists() or data_dir.stat().st_uid == 0:
        return None
    try:
        owner = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    except KeyError:
        owner = str(data_dir.stat().st_uid)
    return (
        f"{data_dir} belongs to {owner}: run this as that user (sudo -u {owner} kiosk ...), "
        "or the files it makes would be root's and the service could not write them."
    )
