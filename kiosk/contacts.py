"""How a citizen wants to be told: an e-mail address or a phone number, checked and kept
normalised (kiosk.code_requests stores it, kiosk.outbox sends to it)."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# The stored contact's column width. Longer input is refused before any parsing: the
# hand-written pattern this replaced backtracked quadratically, and a 60 KB field held the
# GIL, and so every request of the process, for 11 s.
CONTACT_MAX = 200
PHONE_REGION = "BE"  # a number without + or 00 is a Belgian one: "0470 12 34 56"
_PHONE_CHARS = frozenset("0123456789+ ./-()")
CHANNEL = {"email": "email", "phone": "sms"}  # a contact's kind -> the outbox channel that reaches it


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


def shown(kind: str, value: str) -> str:
    """A contact as a person reads it: a phone number grouped the international way."""
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, PHONE_REGION)
        except phonenumbers.NumberParseException:
            return value  # kept before it was checked this way: as it was stored
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return value
