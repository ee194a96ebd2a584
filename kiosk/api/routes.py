"""The JSON API: issuing for kiosks, calling and ticket actions for desks.

Every error is JSON with a sentence a person can read (see kiosk.errors).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, jsonify, request, url_for

from ..auth import require
from ..checkin import CheckIn, clerk_view
from ..extensions import office
from ..queue import Ticket
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")

DESK_ROLES = ("desk", "clerk", "supervisor")
TICKET_ACTIONS = {
    "recall": "recall",
    "start": "start",
    "finish": "finish",
    "no-show": "no_show",
    "park": "park",
    "return": "return_to_queue",
    "cancel": "cancel",
}


def iso(moment: dt.datetime | None) -> str | None:
    return moment.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


def ticket_json(ticket: Ticket, *, with_checkin: bool = False) -> dict:
    data = {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "status": ticket.status,
        "priority": bool(ticket.priority),
        "language": ticket.language,
        "counter": ticket.counter,
        "arrived_at": iso(ticket.arrived_at),
        "called_at": iso(ticket.called_at),
    }
    if with_checkin:  # identity masked: showing it in full is a logged desk action
        data["checkin"] = clerk_view(CheckIn.from_json(ticket.checkin))
    return data


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="The request body must be a JSON object (Content-Type: application/json).")
    return body


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(url_for("api.openapi", _external=False)))


@bp.post("/tickets")
@require("kiosk", loopback=True)
def issue_ticket():
    body = json_body()
    service = body.get("service")
    if not isinstance(service, str):
        abort(400, description='Say which service the ticket is for: {"service": "pickup"}.')
    language = body.get("language", office.site.default_language)
    if language not in office.site.languages:
        abort(400, description=f"Unknown language {language!r}; this office offers {', '.join(office.site.languages)}.")
    checkin = body.get("checkin")
    if checkin is not None and not isinstance(checkin, dict):
        abort(400, description="'checkin' must be a JSON object.")
    # stored as the kiosk stores it: the keys it knows, each of its type (kiosk.checkin)
    stored = None if checkin is None else CheckIn.from_json(checkin).to_json()
    priority = body.get("priority", False)
    if not isinstance(priority, bool):
        abort(400, description="'priority' must be true or false.")
    ticket, place = office.queue.issue(service, language=language, checkin=stored, priority=priority)
    return jsonify(
        id=ticket.id,
        number=ticket.number,
        service=ticket.service,
        position=place.position,
        estimated_wait_s=place.estimated_wait_s,
        status_url=office.status_url(ticket),
    ), 201


@bp.get("/queue")
def queue_overview():
    """Public: counts, waits and called numbers, no personal data (the board reads it)."""
    overview = office.queue.overview()
    return jsonify(
        services=[
            {"service": s.service, "enabled": s.enabled, "waiting": s.waiting, "estimated_wait_s": s.estimated_wait_s}
            for s in overview.services
        ],
        calls=[{"id": c.id, "number": c.number, "counter": c.counter, "at": iso(c.at)} for c in overview.calls],
        version=overview.version,
    )


@bp.post("/counters/<int:counter>/call-next")
@require(*DESK_ROLES)
def call_next(counter: int):
    # {"current": id | null}, optional: the ticket the desk shows at this counter.
    body = json_body() if request.get_data() else {}
    current = body.get("current", ...)  # absent: whatever is at the counter is finished
    if current not in (..., None) and type(current) is not int:
        abort(400, description="'current' must be the id of the ticket at the counter, or null.")
    ticket = office.queue.call_next(counter, current=current)
    if ticket is None:
        return "", 204
    return jsonify(ticket_json(ticket, with_checkin=True))


@bp.post("/counters/<int:counter>/open")
@require(*DESK_ROLES)
def open_counter(counter: int):
    body = request.get_json(silent=True) or {}
    services = body.get("services") if isinstance(body, dict) else None
    if services is not None and not (isinstance(services, list) and all(isinstance(s, str) for s in services)):
        abort(400, description="'services' must be a list of service ids.")
    served = office.queue.open_counter(counter, services)
    return jsonify(counter=counter, open=True, services=list(served))


@bp.post("/counters/<int:counter>/close")
@require(*DESK_ROLES)
def close_counter(counter: int):
    office.queue.close_counter(counter)
    return jsonify(counter=counter, open=False)


@bp.post("/tickets/<int:ticket_id>/<action>")
@require(*DESK_ROLES)
def ticket_action(ticket_id: int, action: str):
    if action == "transfer":
        service = json_body().get("service")
        if not isinstance(service, str):
            abort(400, description='Say which service to transfer to: {"service": "pickup"}.')
        ticket = office.queue.transfer(ticket_id, service)
    elif action in TICKET_ACTIONS:
        ticket = getattr(office.queue, TICKET_ACTIONS[action])(ticket_id)
    else:
        abort(404, description=f"Unknown ticket action {action!r}.")
    return jsonify(ticket_json(ticket, with_checkin=True))
