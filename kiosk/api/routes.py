"""The JSON API: issuing for kiosks, calling and ticket actions for desks.

Every error is JSON with a sentence a person can read (see kiosk.errors).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from .. import code_requests, fleet, pickups
from ..auth import current_principal, require
from ..checkin import CheckIn, clerk_view
from ..extensions import office
from ..member import RESTARTS
from ..queue import CounterHasTicket, Ticket
from ..queue.engine import MAX_ID, shown
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


class RefusedValue(ValueError):
    """A number Python's parser allows beyond JSON (NaN, Infinity), or a text no database keeps."""


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999
        raise RefusedValue("Numbers must be finite.")
    return number


def _no_constant(name: str) -> Any:
    raise RefusedValue(f"{name} is not a JSON number.")


def _check_texts(value: Any) -> None:
    """Refuse NUL in any key or text: PostgreSQL cannot store it. A loop, not recursion: the
    parser already allowed the depth, Python's stack need not allow it twice."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise RefusedValue("Texts must not contain NUL characters (\\u0000).")


def json_body(*, optional: bool = False) -> dict:
    """The request's JSON object ({} for no body when `optional`), parsed strictly.

    Python's parser takes NaN and Infinity, which PostgreSQL's JSON refuses, and gives up on
    deep nesting with RecursionError; both would surface as a 500. Here every one is a 400.
    """
    data = request.get_data(cache=True)
    if optional and not data:
        return {}
    if not data or not request.is_json:
        abort(400, description="The request body must be a JSON object (Content-Type: application/json).")
    try:
        body = json.loads(data, parse_constant=_no_constant, parse_float=_finite)
        _check_texts(body)
    except RecursionError:
        abort(400, description="The request body is not valid JSON: it is nested too deeply.")
    except RefusedValue as exc:
        abort(400, description=f"The request body is refused: {exc}")
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of thousands of digits
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        abort(400, description=f"The request body is not valid JSON ({reason}).")
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
    if not isinstance(language, str) or language not in office.site.languages:
        abort(
            400,
            description=f"Unknown language {shown(language)}; this office offers {', '.join(office.site.languages)}.",
        )
    checkin = body.get("checkin")
    if checkin is not None and not isinstance(checkin, dict):
        abort(400, description="'checkin' must be a JSON object.")
    # stored as the kiosk stores it: the keys it knows, each of its type (kiosk.checkin)
    stored = None if checkin is None else CheckIn.from_json(checkin).to_json()
    priority = body.get("priority", False)
    if not isinstance(priority, bool):
        abort(400, description="'priority' must be true or false.")
    key = issue_key()
    replayed = key is not None and office.queue.issued_for(key) is not None
    ticket, place = office.queue.issue(service, language=language, checkin=stored, priority=priority, key=key)
    principal = current_principal()
    if not replayed and principal is not None and principal.kind == "loopback":  # this kiosk's own
        office.member.ticket_taken(ticket.day, ticket.arrived_at)
    return jsonify(
        id=ticket.id,
        number=ticket.number,
        service=ticket.service,
        position=place.position,
        estimated_wait_s=place.estimated_wait_s,
        status_url=office.status_url(ticket),
    ), 200 if replayed else 201


IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,60}")  # printable ASCII, no spaces


def issue_key() -> str | None:
    """The client's `Idempotency-Key`: the same key again today gets the same ticket (200)."""
    header = request.headers.get("Idempotency-Key")
    if header is None:
        return None
    if not IDEMPOTENCY_KEY.fullmatch(header):
        abort(400, description="'Idempotency-Key' must be 1 to 60 printable characters without spaces.")
    return f"api:{header}"


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
    body = json_body(optional=True)
    current = body.get("current", ...)  # absent: whatever is at the counter is finished
    if current not in (..., None) and (type(current) is not int or not 0 < current <= MAX_ID):
        abort(400, description="'current' must be the id of the ticket at the counter, or null.")
    try:
        ticket = office.queue.call_next(counter, current=current)
    except CounterHasTicket as exc:  # nothing changed: say what the counter holds instead
        held = None if exc.ticket is None else ticket_json(exc.ticket, with_checkin=True)
        return jsonify(error=exc.code, message=str(exc), current=held), 409
    if ticket is None:
        return "", 204
    return jsonify(ticket_json(ticket, with_checkin=True))


@bp.post("/counters/<int:counter>/open")
@require(*DESK_ROLES)
def open_counter(counter: int):
    services = json_body(optional=True).get("services")
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


# --- the fleet of kiosks, for facility staff (kiosk.fleet) -----------------------------------

OPS_ROLES = ("ops", "facility", "supervisor")


@bp.get("/kiosks")
@require(*OPS_ROLES)
def kiosks_list():
    now = office.clock()
    return jsonify(
        kiosks=[kiosk.as_json() for kiosk in fleet.fleet(office.engine, now)],
        alerts=fleet.recent_alerts(office.engine, now),
    )


def by_whom() -> str:
    """Who did it, for the logs staff read: "anna (supervisor)", "desk-3 (desk)"."""
    principal = current_principal()
    return "unknown" if principal is None else f"{principal.name} ({principal.role})"


def order_kiosk(name: str, kind: str, message: str | None = None):
    try:
        fleet.order(office.engine, name, kind, by=by_whom(), now=office.clock(), message=message)
    except fleet.UnknownKiosk as exc:
        abort(404, description=str(exc))
    return jsonify(kiosk=name, ordered=kind), 202


@bp.post("/kiosks/<name>/out-of-service")
@require(*OPS_ROLES)
def kiosk_out_of_service(name: str):
    message = json_body(optional=True).get("message", "")
    if not isinstance(message, str) or len(message) > 200:
        abort(400, description="'message' must be text of at most 200 characters.")
    return order_kiosk(name, "out_of_service", message.strip() or None)


@bp.post("/kiosks/<name>/in-service")
@require(*OPS_ROLES)
def kiosk_in_service(name: str):
    return order_kiosk(name, "in_service")


@bp.post("/kiosks/<name>/reload")
@require(*OPS_ROLES)
def kiosk_reload(name: str):
    return order_kiosk(name, "reload")


@bp.post("/kiosks/<name>/restart")
@require(*OPS_ROLES)
def kiosk_restart(name: str):
    what = json_body().get("what")
    if what not in RESTARTS:
        abort(400, description=f"Say what to restart: {{'what': one of {', '.join(RESTARTS)}}}.")
    return order_kiosk(name, f"restart_{what}")


# --- the back office: pickup register and code requests -----------------------------------

# Clerks read the register and hand cards over; supervisors (and `office` tokens) keep it.
CLERK_ROLES = ("desk", "office", "clerk", "supervisor")
OFFICE_ROLES = ("office", "supervisor")
# What a code request can be moved to here, and who may: the fee is taken at the desk, the
# codes come in at the back office.
CODE_REQUEST_MOVES = {
    "ordered": CLERK_ROLES,
    "arrived": OFFICE_ROLES,
    "collected": CLERK_ROLES,
    "cancelled": CLERK_ROLES,
    "destroyed": OFFICE_ROLES,
}


def pickup_json(entry: pickups.Entry) -> dict:
    return {
        "card_number": entry.card_number,
        "national_number": entry.national_number,
        "name": entry.name,
        "storage": entry.storage,
        "arrived_on": entry.arrived_on.isoformat(),
        "collected_at": iso(entry.collected_at),
        "collected_by": entry.collected_by,
        "reminded_at": iso(entry.reminded_at),
        "reminder_by": entry.contact_kind or "letter",  # "email", "phone" or "letter"
    }


@bp.get("/pickups")
@require(*CLERK_ROLES)
def pickups_list():
    status = request.args.get("status", "ready")
    if status not in pickups.STATUSES:
        abort(400, description=f"'status' must be one of {', '.join(pickups.STATUSES)}.")
    query = request.args.get("q", "")
    if len(query) > 100:
        abort(400, description="'q' may have at most 100 characters.")
    found = pickups.entries(
        office.engine, status, query, office.queue.today(), office.site.pickup_reminder_days, limit=1000
    )
    return jsonify(pickups=[pickup_json(e) for e in found])


@bp.post("/pickups/import")
@require(*OFFICE_ROLES)
def pickups_import():
    request.max_content_length = current_app.config["REGISTER_UPLOAD_MAX"]
    if request.mimetype != "text/csv":
        abort(415, description="Send the register as CSV (Content-Type: text/csv).")
    try:
        count = pickups.import_pickups(office.engine, request.get_data(), office.queue.today(), office.clock())
    except pickups.PickupImportError as exc:
        return jsonify(error="not_imported", message="The file was not imported.", problems=exc.problems), 400
    return jsonify(imported=count)


@bp.post("/pickups/<card_number>/collected")
@require(*CLERK_ROLES)
def pickup_collected(card_number: str):
    if not pickups.mark_collected(office.engine, card_number, by_whom(), office.clock()):
        abort(404, description=f"No card {card_number} waits in the register.")
    return jsonify(card_number=pickups.normalised_card_number(card_number), collected=True)


def code_request_json(item: code_requests.Listed) -> dict:
    return {
        "id": item.id,
        "ticket": item.ticket_number,
        "language": item.language,
        "national_number": item.national_number,
        "contact": item.contact_kind,
        "state": item.status,
        "requested_at": iso(item.requested_at),
        "updated_at": iso(item.updated_at),
        "arrived_at": iso(item.arrived_at),
        "notified_at": iso(item.notified_at),
        "reminders": item.reminders,
        "next_step": item.next_step,
        "destroy_on": item.due_on.isoformat() if item.due_on else None,
    }


@bp.get("/code-requests")
@require(*CLERK_ROLES)
def code_requests_list():
    state = request.args.get("state") or None
    if state is not None and state not in code_requests.STATES:
        abort(400, description=f"'state' must be one of {', '.join(code_requests.STATES)}.")
    found = code_requests.listing(office.engine, office.site.codes, office.queue.today(), state)
    return jsonify(code_requests=[code_request_json(item) for item in found])


@require(*CLERK_ROLES)
def code_request_move(request_id: int, to: str):
    principal = current_principal()
    if principal is None or principal.role not in CODE_REQUEST_MOVES[to]:
        abort(403, description=f"A {' or '.join(CODE_REQUEST_MOVES[to])} token is needed for this.")
    reason = json_body(optional=True).get("reason")
    if reason is not None and not isinstance(reason, str):
        abort(400, description="'reason' must be text.")
    try:
        state = code_requests.move(office.engine, request_id, to, by_whom(), office.clock(), reason)
    except code_requests.MoveRefused as exc:
        abort(404 if exc.status is None else 409, description=str(exc))
    except ValueError as exc:
        abort(400, description=str(exc))
    return jsonify(id=request_id, state=state)


for _to in CODE_REQUEST_MOVES:  # one route each, as the OpenAPI document lists them
    bp.add_url_rule(
        f"/code-requests/<int:request_id>/{_to}",
        f"code_request_{_to}",
        code_request_move,
        methods=["POST"],
        defaults={"to": _to},
    )
