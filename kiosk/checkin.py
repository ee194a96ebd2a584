"""What a clerk sees of a ticket's check-in: everything needed to serve, identity masked.

The check-in comes from the kiosk and any key may be missing; unexpected types are dropped
rather than shown."""
from __future__ import annotations

import re
from typing import Any

from hardware.card import format_national_number, is_valid_national_number, mask_national_number


def mask_name(value: str) -> str:
    """'Testperson, Jan' → 'T***, J***': each word keeps its first letter."""
    return ", ".join(
        " ".join(f"{word[0]}***" for word in part.split())
        for part in value.split(",") if part.strip()
    ) or "***"


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _table(value: Any, *keys: str) -> dict | None:
    if not isinstance(value, dict):
        return None
    kept = {key: value.get(key) for key in keys if isinstance(value.get(key), (str, int, bool))}
    return kept or None


def clerk_view(checkin: dict | None) -> dict:
    """The check-in for the desk screen: name and national number masked. The visit is any
    service id, a site's own too; notes and checklist items stay codes (older check-ins
    hold the citizen's texts instead) for the desk to put in the clerk's language."""
    checkin = checkin if isinstance(checkin, dict) else {}
    name, national_number = _text(checkin.get("name")), _text(checkin.get("national_number"))
    tries = checkin.get("pin_tries_left")
    age = checkin.get("age")
    return {
        "visit": _text(checkin.get("visit")),
        "card": _table(checkin.get("card"), "type", "expired"),
        "lost_card": checkin.get("lost_card") is True,
        "name": mask_name(name) if name else None,
        "national_number": mask_national_number(national_number) if national_number else None,
        "age": age if isinstance(age, int) and not isinstance(age, bool) else None,
        "pin_tries_left": tries if isinstance(tries, int) and not isinstance(tries, bool) else None,
        "notes": _texts(checkin.get("notes")),
        "confirmed": _texts(checkin.get("confirmed")),
        "missing": _texts(checkin.get("missing")),
        "pickup": _table(checkin.get("pickup"), "storage", "card_number"),
        "code_request": _table(checkin.get("code_request"), "id", "contact"),
    }


def identity(checkin: dict | None) -> dict:
    """Name and national number in full: only for a logged "show in full"."""
    checkin = checkin if isinstance(checkin, dict) else {}
    national_number = _text(checkin.get("national_number"))
    if national_number and is_valid_national_number(national_number):
        national_number = format_national_number(national_number)  # as printed on the card
    return {"name": _text(checkin.get("name")), "national_number": national_number}
