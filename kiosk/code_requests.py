"""Requests for new PIN and PUK codes (both lost): 5 euro, about two weeks; the citizen is
told when the codes are in. Made at the kiosk together with the ticket."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine, insert, null, select, update

from .schema import code_requests
from .storage import reading, writing

# The stored contact's column width. Longer input is refused before any parsing: the
# hand-written pattern this replaced backtracked quadratically, and a 60 KB field held the
# GIL, and so every request of the process, for 11 s.
CONTACT_MAX = 200
PHONE_REGION = "BE"  # a number without + or 00 is a Belgian one: "0470 12 34 56"
_PHONE_CHARS = frozenset("0123456789+ ./-()")


@dataclass(frozen=True)
class CodeRequest:
    id: int
    ticket_id: int
    contact_kind: str | None
    status: str
    requested_at: dt.datetime


def parse_contact(text: str) -> tuple[str | None, str | None]:
    """('email'|'phone', normalised value), (None, None) for nothing, ValueError otherwise:
    its text says what is wrong, "too_long", "email" or "phone".

    An e-mail address is checked for its syntax only (no DNS: the kiosk must not wait on the
    network) and kept normalised (the domain in lower case, Unicode in NFC); a phone number
    is kept in E.164 ("+32470123456").
    """
    if len(text) > CONTACT_MAX:
        raise ValueError("too_long")
    text = text.strip()
    if not text:
        return None, None
    if "@" in text:
        try:
            email = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ValueError("email") from None
        if len(email) > CONTACT_MAX:  # NFC may make a text longer, if only rarely
            raise ValueError("too_long")
        return "email", email
    # letters would be read as a keypad's ("0800-FLOWERS"), and an extension cannot take a message
    if not set(text) <= _PHONE_CHARS:
        raise ValueError("phone")
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone")
    return "phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
