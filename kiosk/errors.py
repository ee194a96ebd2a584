"""Error responses: JSON for the API, a page for screens; always a sentence a person can read."""

from __future__ import annotations

import functools
import logging
import traceback

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .queue import errors as queue_errors

log = logging.getLogger(__name__)

QUEUE_STATUS = {
    queue_errors.UnknownService: 400,
    queue_errors.ServiceDisabled: 409,
    queue_errors.OfficeClosed: 409,
    queue_errors.UnknownCounter: 404,
    queue_errors.TicketNotFound: 404,
    queue_errors.InvalidTransition: 409,
}
DATABASE_DOWN = "The database cannot be reached. Work continues as soon as it is back; please try again in a moment."


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def respond(status: int, code: str, message: str):
    if wants_json():
        return jsonify(error=code, message=message), status
    return render_template("error.html", status=status, message=message), status


def is_database_down(exc: DBAPIError) -> bool:
    """Our own mistakes (constraint, syntax, data) are bugs; anything else means the
    database is gone or unusable for now."""
    return not isinstance(exc, (IntegrityError, ProgrammingError, DataError)) or exc.connection_invalidated


def describe(exc: BaseException) -> str:
    """An error for the log: the class and a database's SQLSTATE of it and of its causes, never
    its text. A database's message may quote the statement's values (a duplicate key's DETAIL,
    a refused parameter's CONTEXT), which engine's hide_parameters does not reach."""
    parts: list[str] = []
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        kind = type(error)
        name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        if state := getattr(error, "sqlstate", None):  # psycopg
            name += f" (SQLSTATE {state})"
        elif state := getattr(error, "sqlite_errorname", None):  # sqlite3
            name += f" ({state})"
        parts.append(name)
        orig = getattr(error, "orig", None)  # SQLAlchemy's wrapped driver error
        error = orig if isinstance(orig, BaseException) else error.__cause__ or error.__context__
    return " from ".join(parts)


def log_exception(app: Flask, exc_info) -> None:
    """Flask's log of an unhandled exception (then a 500), with describe() in place of the
    exception's text, and the code lines of where it happened."""
    where = "".join(traceback.format_tb(exc_info[2])) if exc_info and exc_info[2] else ""
    app.logger.error("Exception on %s [%s]: %s\n%s", request.path, request.method, describe(exc_info[1]), where)


def register_errorhandlers(app: Flask) -> None:
    # Flask's hook for logging an unhandled exception, replaced for this app only.
    app.log_exception = functools.partial(log_exception, app)  # type: ignore[method-assign]

    @app.errorhandler(queue_errors.QueueError)
    def queue_error(exc: queue_errors.QueueError):
        return respond(QUEUE_STATUS.get(type(exc), 400), exc.code, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return respond(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge):
        # Flask looks for a handler of the status code before one of HTTPException, even a
        # blueprint's: without this, the kiosk's own error screen (no way off the kiosk) would
        # give way to the staff page.
        for name in request.blueprints:
            own = app.error_handler_spec.get(name, {}).get(None, {}).get(HTTPException)
            if own is not None:
                return own(exc)
        limit_kb = (request.max_content_length or 0) // 1024  # a route may allow more (a register file)
        return respond(
            413,
            "request_entity_too_large",
            _("This is more than the server accepts at once (at most %(size)s KB). Please send less.", size=limit_kb),
        )

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        if isinstance(exc, DataError) and not exc.connection_invalidated:
            # A value the database refuses (a NUL in text, a number out of range) came from the
            # request: its checks missed one, so say so instead of failing.
            log.warning("database refused a value: %s", describe(exc))
            return respond(400, "invalid_value", _("The request holds a value that cannot be stored."))
        if not is_database_down(exc):
            raise exc  # a bug: Flask logs it (log_exception) and answers 500
        log.error("database unavailable: %s", describe(exc))
        return respond(503, "database_unavailable", DATABASE_DOWN)
