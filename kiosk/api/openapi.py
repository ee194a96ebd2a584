"""OpenAPI 3.1 description of the JSON API, kept beside the views it describes."""

from typing import Any

from ..queue.engine import SAME_PRESS

_ERROR = {"$ref": "#/components/responses/Error"}


def _action(summary: str, body: dict | None = None) -> dict:
    op = {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [{"name": "ticket_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {
            "200": {
                "description": "The ticket after the action",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}},
            },
            "400": _ERROR,
            "401": _ERROR,
            "403": _ERROR,
            "404": _ERROR,
            "409": _ERROR,
            "503": _ERROR,
        },
    }
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return {"post": op}


def _counter(summary: str, responses: dict, body: dict | None = None) -> dict:
    op = {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": [{"name": "counter", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {**responses, "400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR, "503": _ERROR},
    }
    if body:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return {"post": op}


def _kiosk_paths() -> dict[str, Any]:
    """The fleet of kiosks, for facility tools: an ops token, or a facility or supervisor sign-in."""
    name = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    ordered = {"202": {"description": "Ordered: the kiosk carries it out at its next heartbeat (within seconds)"}}
    ordered |= {"400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR}

    def order(summary: str, body: dict | None = None) -> dict:
        op: dict[str, Any] = {"summary": summary, "security": [{"bearer": []}], "parameters": name}
        if body:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        return {"post": op | {"responses": ordered}}

    message = {"type": "object", "properties": {"message": {"type": "string", "maxLength": 200}}}
    restart = {
        "type": "object",
        "required": ["what"],
        "properties": {"what": {"type": "string", "enum": ["screen", "browser", "app"]}},
    }
    return {
        "/api/kiosks": {
            "get": {
                "summary": "Every kiosk with its last heartbeat and alerts, and the alerts of the last seven days",
                "security": [{"bearer": []}],
                "responses": {
                    "200": {
                        "description": "The fleet; states and counts only, no personal data",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "kiosks": {"type": "array", "items": {"type": "object"}},
                                        "alerts": {"type": "array", "items": {"type": "object"}},
                                    },
                                }
                            }
                        },
                    },
                    "401": _ERROR,
                    "403": _ERROR,
                },
            }
        },
        "/api/kiosks/{name}/out-of-service": order("Take the kiosk out of service, with a message", message),
        "/api/kiosks/{name}/in-service": order("Put the kiosk back in service"),
        "/api/kiosks/{name}/reload": order("Reload the kiosk's screen"),
        "/api/kiosks/{name}/restart": order("Restart the kiosk's screen, browser or app", restart),
    }


def _back_office_paths() -> dict[str, Any]:
    """The pickup register and code requests: `desk` and `office` tokens, clerks and
    supervisors; importing, and marking codes arrived or destroyed, are the office's."""
    bearer: list[dict[str, list]] = [{"bearer": []}]
    refused = {"401": _ERROR, "403": _ERROR}

    def listing(summary: str, name: str, values: list[str], key: str) -> dict:
        parameter = {"name": name, "in": "query", "required": False, "schema": {"type": "string", "enum": values}}
        body = {"type": "object", "properties": {key: {"type": "array", "items": {"type": "object"}}}}
        return {
            "get": {
                "summary": summary,
                "security": bearer,
                "parameters": [parameter],
                "responses": {"200": {"description": summary, "content": {"application/json": {"schema": body}}}}
                | {"400": _ERROR}
                | refused,
            }
        }

    def action(summary: str, parameter: dict, extra: dict | None = None) -> dict:
        op: dict[str, Any] = {
            "summary": summary,
            "security": bearer,
            "parameters": [parameter],
            "responses": {"200": {"description": "Done"}, "404": _ERROR, "409": _ERROR} | refused,
        }
        return {"post": op | (extra or {})}

    card = {"name": "card_number", "in": "path", "required": True, "schema": {"type": "string"}}
    request_id = {"name": "request_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    reason = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}}
    paths: dict[str, Any] = {
        "/api/pickups": listing(
            "The pickup register: cards ready, collected, or waiting long enough for a reminder",
            "status",
            ["ready", "collected", "reminder_due"],
            "pickups",
        ),
        "/api/pickups/import": {
            "post": {
                "summary": "Import a register file (all rows or none; every bad line is listed)",
                "security": bearer,
                "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": {
                    "200": {"description": "Imported: {imported: rows}"},
                    "400": {"description": "Not imported: {error, message, problems: [lines]}"},
                    "413": _ERROR,
                    "415": _ERROR,
                }
                | refused,
            }
        },
        "/api/pickups/{card_number}/collected": action("The card was handed over to its holder", card),
        "/api/code-requests": listing(
            "Code requests in a state (every open one without a state), oldest first",
            "state",
            ["requested", "ordered", "arrived", "notified", "reminded", "collected", "destroyed", "cancelled"],
            "code_requests",
        ),
    }
    for to, summary in (
        ("ordered", "The fee was paid at the desk: the codes are ordered"),
        ("arrived", "The codes came in (the citizen is sent a message if they left a contact)"),
        ("collected", "The citizen collected the codes"),
        ("destroyed", "The codes were destroyed, not collected in time"),
        ("cancelled", "Cancelled, with a reason"),
    ):
        body = {"requestBody": {"required": to == "cancelled", "content": {"application/json": {"schema": reason}}}}
        paths[f"/api/code-requests/{{request_id}}/{to}"] = action(
            summary, request_id, body if to == "cancelled" else None
        )
    return paths


def openapi_document(self_url: str) -> dict:
    ticket_ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}}
    paths: dict[str, Any] = {
        "/api/tickets": {
            "post": {
                "summary": "Issue a ticket (kiosk token, or the kiosk's own screen on the kiosk's listener)",
                "security": [{"bearer": []}, {}],
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "Any 1 to 60 printable characters, new for each ticket wanted: the same key "
                        "again today answers 200 with the ticket it already gave, so a retry after a time-out never "
                        "makes a second ticket.",
                        "schema": {"type": "string", "maxLength": 60},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["service"],
                                "properties": {
                                    "service": {"type": "string", "example": "pickup"},
                                    "language": {"type": "string", "example": "fr"},
                                    "priority": {"type": "boolean", "default": False},
                                    "checkin": {
                                        "type": ["object", "null"],
                                        "description": "What the kiosk learnt and the citizen confirmed; shown to clerks only",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "Issued before with this Idempotency-Key: that ticket, as when issued"},
                    "201": {
                        "description": "Issued",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "number": {"type": "string", "example": "A001"},
                                        "service": {"type": "string"},
                                        "position": {"type": "integer"},
                                        "estimated_wait_s": {"type": "integer"},
                                        "status_url": {"type": "string", "format": "uri"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "409": {
                        "description": "Service disabled or office closed",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                    "503": _ERROR,
                },
            }
        },
        "/api/queue": {
            "get": {
                "summary": "Waiting count and estimated wait per service, the latest calls (no personal data)",
                "responses": {
                    "200": {
                        "description": "The queue",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "services": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "service": {"type": "string"},
                                                    "enabled": {"type": "boolean"},
                                                    "waiting": {"type": "integer"},
                                                    "estimated_wait_s": {"type": "integer"},
                                                },
                                            },
                                        },
                                        "calls": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "id": {"type": "integer"},
                                                    "number": {"type": "string"},
                                                    "counter": {"type": "integer"},
                                                    "at": {"type": "string", "format": "date-time"},
                                                },
                                            },
                                        },
                                        "version": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "503": _ERROR,
                },
            }
        },
        "/api/counters/{counter}/call-next": _counter(
            "Call the next ticket for this counter, finishing the one at the counter ('current' if given)",
            {
                "200": {"description": "The called ticket", "content": ticket_ref},
                "204": {"description": "Nobody waits for this counter's services (the one at the counter is finished)"},
                "409": {
                    "description": "Nothing was finished or called: the counter holds another ticket than "
                    f"'current', or 'current' was called less than {SAME_PRESS.total_seconds():.0f} s ago, as a double press or a "
                    "retry of the call that called it would be. 'current' in the answer is what the counter holds.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CounterHasTicket"}}},
                },
            },
            {
                "type": "object",
                "properties": {
                    "current": {
                        "type": ["integer", "null"],
                        "description": "The ticket the desk shows at this counter (null: none). Given, only that "
                        "ticket is finished (see 409). Left out, whatever is at the counter is finished, even a "
                        "ticket called a moment ago: desks send it.",
                    }
                },
            },
        ),
        "/api/counters/{counter}/open": _counter(
            "Open the counter for some services (default: all it may serve)",
            {"200": {"description": "Opened"}},
            {"type": "object", "properties": {"services": {"type": "array", "items": {"type": "string"}}}},
        ),
        "/api/counters/{counter}/close": _counter("Close the counter", {"200": {"description": "Closed"}}),
        "/api/tickets/{ticket_id}/transfer": _action(
            "Move to another service's line; keeps its number and arrival time",
            {"type": "object", "required": ["service"], "properties": {"service": {"type": "string"}}},
        ),
    }
    for action, summary in {
        "recall": "Call the ticket again",
        "start": "The citizen is at the counter",
        "finish": "Done",
        "no-show": "Called but did not come",
        "park": "Step aside (e.g. to fetch a document)",
        "return": "Back in line from parked, at its original arrival time",
        "cancel": "Remove from the line",
    }.items():
        paths[f"/api/tickets/{{ticket_id}}/{action}"] = _action(summary)
    paths.update(_kiosk_paths())
    paths.update(_back_office_paths())
    issued = paths["/api/tickets"]["post"]["responses"]
    issued["200"]["content"] = issued["201"]["content"]  # a replay answers as the issue did
    return {
        "openapi": "3.1.0",
        "info": {"title": "Snelbalie kiosk API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Made with `kiosk token create --role kiosk|desk|ops --name NAME`",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
                "CounterHasTicket": {
                    "allOf": [{"$ref": "#/components/schemas/Error"}],
                    "type": "object",
                    "required": ["current"],
                    "properties": {
                        "error": {"const": "counter_has_ticket"},
                        "current": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}]},
                    },
                },
                "Ticket": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "number": {"type": "string"},
                        "service": {"type": "string"},
                        "status": {
                            "type": "string",
                            "enum": [
                                "waiting",
                                "called",
                                "serving",
                                "done",
                                "no_show",
                                "parked",
                                "cancelled",
                                "expired",
                            ],
                        },
                        "priority": {"type": "boolean"},
                        "language": {"type": "string"},
                        "counter": {"type": ["integer", "null"]},
                        "arrived_at": {"type": "string", "format": "date-time"},
                        "called_at": {"type": ["string", "null"], "format": "date-time"},
                        "checkin": {
                            "type": ["object", "null"],
                            "description": "Identity masked. `card.authenticity` is valid, invalid or not_checked (no "
                            "trust anchor, or the card left first); `card.photo` matches, differs or not_checked; "
                            "`card.certificates` lists kind and valid_until. Added as soon as known, after issuing too.",
                        },
                    },
                },
            },
            "responses": {
                "Error": {
                    "description": "A JSON error a person can read. 400: the body is not a JSON object, holds NaN, "
                    "Infinity or a NUL character, nests too deeply, or a value has the wrong type",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
        },
        "servers": [{"url": "/"}],
        "x-self": self_url,
    }
