"""Error responses: JSON for the API, a page for screens; always a sentence a person can read."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from werkzeug.exceptions import HTTPException

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


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(queue_errors.QueueError)
    def queue_error(exc: queue_errors.QueueError):
        return respond(QUEUE_STATUS.get(type(exc), 400), exc.code, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return respond(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        if not is_database_down(exc):
            raise exc
        # The statement's parameters are hidden by the engine: no personal data here.
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return respond(503, "database_unavailable", DATABASE_DOWN)
