"""What the live screens (desk, board, status page) share.

They follow the queue by polling VERSION_PATH with `If-None-Match` twice a second and fetch
their own data only when the version moved. The poll is answered in front of Flask from a
per-process cache: a short request, no session, at most ten database reads a second however
many screens poll. No waitress thread waits on a screen, so a hung client holds nothing.
docs/live-updates.md explains the choice and its measured cost (bench/live.py).
"""

from __future__ import annotations

import json
import threading
import time

from flask import request
from flask_babel import get_locale
from sqlalchemy.exc import DBAPIError
from werkzeug.http import parse_etags

from .errors import DATABASE_DOWN
from .extensions import office
from .queue import QueueEngine
from .services import service_name

VERSION_PATH = "/live/version"
VERSION_TTL_S = 0.1  # a change waits at most this long in the cache (measured: bench/live.py)
POLL_INTERVAL_MS = 500  # screens poll this often: a call shows within a second


class VersionUnknown(Exception):
    """No version to give yet: the first read is still running or the last one failed."""


class VersionCache:
    """The queue version, read from the database at most once per `ttl_s`.

    While one thread reads it, the others answer with the value they have instead of
    queueing behind it, so a slow database does not pile up the screens' polls. A failed
    read is remembered for `ttl_s` too: the screens hear of the outage instead of being
    served the last version, and the database is not asked again by every poll."""

    def __init__(self, queue: QueueEngine, ttl_s: float = VERSION_TTL_S):
        self.queue, self.ttl_s = queue, ttl_s
        self._reading = threading.Lock()
        self._value: int | None = None
        self._expires = 0.0

    def get(self) -> int:
        if time.monotonic() >= self._expires and self._reading.acquire(blocking=False):
            try:
                self._value = self.queue.version()
            except Exception:
                self._value = None
                raise
            finally:
                self._expires = time.monotonic() + self.ttl_s
                self._reading.release()
        value = self._value
        if value is None:
            raise VersionUnknown
        return value


class VersionPolls:
    """WSGI middleware answering GET VERSION_PATH; everything else goes on to Flask.

    Skipping Flask (session, locale, error pages) makes a poll about a third cheaper, and
    the polls are nearly all the requests an office serves."""

    def __init__(self, wsgi_app, queue: QueueEngine):
        self.wsgi_app = wsgi_app
        self.cache = VersionCache(queue)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != VERSION_PATH or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        try:
            version = self.cache.get()
        except (DBAPIError, VersionUnknown):  # the screens keep what they show and try again
            body = json.dumps({"error": "database_unavailable", "message": DATABASE_DOWN}).encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Retry-After", "2"),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [body]
        etag = f"q{version}"
        headers = [("ETag", f'"{etag}"'), ("Cache-Control", "no-cache")]
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(etag):
            start_response("304 Not Modified", headers)
            return []
        body = json.dumps({"version": version}).encode()
        start_response("200 OK", [*headers, ("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body] if environ["REQUEST_METHOD"] == "GET" else []


def version_url() -> str:
    return request.script_root + VERSION_PATH


def service_label(service: str, language: str | None = None) -> str:
    """A service's name in `language` (default: the request's language); a service the site
    profile no longer has keeps its id, so tickets issued before the change still show."""
    known = office.site.services.get(service)
    return service_name(known, language or str(get_locale())) if known else service


def counter_name(counter: int) -> str:
    known = office.site.counters.get(counter)
    return known.name if known else str(counter)
