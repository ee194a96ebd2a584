"""The server's log: each line at its journal priority under systemd, and an access line per request.

Under systemd (stderr is the journal's stream, JOURNAL_STREAM) a line that starts with `<N>`
is stored at syslog priority N (SyslogLevelPrefix=yes, the default), so `journalctl -p
warning` finds warnings and errors; without the prefix every line would be "info". The
journal stamps its own time, so only the terminal's format carries one.

Exceptions are written as their class chain and SQLSTATE (kiosk.errors.describe) and the
code lines of the traceback, never their text: a database's message may quote values.
The access line has the method, the path, the status, the time and the listener; never the
query string, a header or a body, and the path without what is secret in it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import traceback
from typing import IO

from flask import Flask, Response, g, request
from flask.logging import default_handler

from .errors import describe
from .server import LISTENER

TERMINAL_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"

access_log = logging.getLogger("kiosk.access")

# The route arguments an access line may show; any other (the status page's token, the
# kiosk's unknown path) is written "…".
SHOWN_ARGS = frozenset({"counter", "ticket_id", "action", "language", "number", "filename"})
# Eleven digits or more, with or without the usual dots and dashes, might be a national number.
LONG_NUMBER = re.compile(r"\d(?:[.\- ]?\d){10,}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
PATH_LIMIT = 200


def priority(levelno: int) -> int:
    """The syslog priority of a logging level."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno >= logging.INFO:
        return 6
    return 7


class Formatter(logging.Formatter):
    """Exceptions as describe() and the traceback's code lines, without their text."""

    def formatException(self, ei) -> str:  # noqa: N802  # logging's name
        where = "".join(traceback.format_tb(ei[2])) if ei[2] else ""
        return f"Traceback (most recent call last):\n{where}{describe(ei[1])}"


class JournalFormatter(Formatter):
    """Every line of a record with its priority: a traceback's lines are part of its error."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def under_journal(stream: IO[str], environ=os.environ) -> bool:
    """Whether the stream is the journal's: systemd names its device and inode in JOURNAL_STREAM
    (a program started from the service with its own stderr inherits the variable, not the stream)."""
    expected = environ.get("JOURNAL_STREAM")
    if not expected:
        return False
    try:
        stat = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a file (a StringIO), or closed
        return False
    return expected == f"{stat.st_dev}:{stat.st_ino}"


def configure(level: int = logging.INFO, stream: IO[str] | None = None, environ=os.environ) -> logging.Handler:
    """The root logger writing to stderr (or `stream`), in the journal's format under systemd."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JournalFormatter() if under_journal(stream, environ) else Formatter(TERMINAL_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "kiosk_logs", False)]:  # configured twice: once
        root.removeHandler(old)
    handler.kiosk_logs = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Flask gives an app's logger a handler of its own if it logged before this: one line is enough.
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            logger.removeHandler(default_handler)
    return handler


def logged_path() -> str:
    """The request's path as an access line may show it: no query, no secret, no long number."""
    path = request.path
    for name, value in reversed(list((request.view_args or {}).items())):
        if name not in SHOWN_ARGS and isinstance(value, str) and value:
            head, found, tail = path.rpartition(value)
            if found:
                path = f"{head}…{tail}"
    if request.url_rule is None:  # no route: any text at all, e.g. a mistyped status address
        first, _, rest = path.lstrip("/").partition("/")
        path = f"/{first}/…" if rest else f"/{first}"
    path = LONG_NUMBER.sub("…", path)
    path = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)
    return path if len(path) <= PATH_LIMIT else path[:PATH_LIMIT] + "…"


def init_app(app: Flask) -> None:
    """One access line per request that reaches Flask. The live screens' version polls are
    answered before it (kiosk.live), twice a second per screen, and are not logged."""

    def start_timer() -> None:
        g.access_started = time.perf_counter()

    # First of the hooks: one before it may refuse the request (CSRF, sign-in), which is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)

    @app.after_request
    def log_access(response: Response) -> Response:
        started = g.pop("access_started", None)
        took = "-" if started is None else f"{(time.perf_counter() - started) * 1000:.1f}ms"
        method = CONTROL.sub("?", request.method)
        side = request.environ.get(LISTENER, "-")
        access_log.info("%s %s %d %s %s", method, logged_path(), response.status_code, took, side)
        return response
