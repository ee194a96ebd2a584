"""Requests for new PIN and PUK codes (both lost): 5 euro, about two weeks; the citizen is
told when the codes are in. Made at the kiosk together with the ticket."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Engine, insert, null, select, update

from .schema import code_requests
from .storage import reading, writing

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ./-]{6,20}$")


@dataclass(frozen=True)
class CodeRequest:
    id: int
    ticket_id: int
    contact_kind: str | None
    status: str
    requested_at: dt.datetime


def parse_contact(text: str) -> tuple[str | None, str | None]:
    """('email'|'phone', normalised value), (None, None) for nothing, ValueError otherwise."""
    text = text.strip()
    if not text:
        return None, None
    if "@" in text:
        if _EMAIL.match(text) and len(text) <= 200:
            return "email", text
        raise ValueError("email")
    digits = re.sub(r"[ ./-]", "", text)
    if _PHONE.match(text) and 8 <= len(digits.lstrip("+")) <= 15:
        return "phone", digits
    raise ValueError("phone")


def record(engine: Engine, ticket_id: int, national_number: str | None, contact: str, now: dt.datetime) -> CodeRequest:
    kind, value = parse_contact(contact)
    with writing(engine) as conn:
        request_id = conn.execute(
            insert(code_requests).returning(code_requests.c.id),
            dict(
                ticket_id=ticket_id,
                national_number=national_number,
                contact_kind=kind,
                contact=value,
                status="requested",
                requested_at=now,
                updated_at=now,
            ),
        ).scalar_one()
    return CodeRequest(request_id, ticket_id, kind, "requested", now)


def for_ticket(engine: Engine, ticket_id: int) -> CodeRequest | None:
    with reading(engine) as conn:
        row = conn.execute(select(code_requests).where(code_requests.c.ticket_id == ticket_id)).first()
    return None if row is None else CodeRequest(row.id, row.ticket_id, row.contact_kind, row.status, row.requested_at)


def purge_personal_data(engine: Engine, before: dt.datetime) -> int:
    """Forget who asked and how to reach them once the request is older than the retention."""
    with writing(engine) as conn:
        return conn.execute(
            update(code_requests)
            .where(code_requests.c.requested_at < before, code_requests.c.national_number.is_not(None))
            .values(national_number=null(), contact=null())
        ).rowcount
