"""The check-in: what the kiosk learnt of a citizen and their visit, carried with the ticket
to the clerk. One typed value, stored as JSON in the ticket (tickets.checkin) with its
version, and posted in the same JSON by API clients.

Stored check-ins come from this kiosk, from earlier versions and from API clients, so
reading is lenient: any key may be missing, and a value of an unexpected type is dropped
rather than shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hardware.card import format_national_number, is_valid_national_number, mask_national_number

# 1: the first version to say so. A check-in without "v" is version 0: the same keys, any
# of them missing, and the checklist sometimes as the citizen's texts instead of codes
# (the desk shows those as they are). Reading covers both.
VERSION = 1

T = TypeVar("T")


AUTHENTICITY = ("valid", "invalid", "not_checked")
PHOTO = ("matches", "differs", "not_checked")


@dataclass(frozen=True)
class CardCertificate:
    """A certificate the card carries (hardware.card.card_checks): "authentication" or "signing"."""

    kind: str | None = None
    valid_until: str | None = None  # ISO date


@dataclass(frozen=True)
class Card:
    """The card in the reader: its type (e.g. "F+"), whether it had expired, and its checks
    once known: whether its data is what the national register signed (`authenticity`),
    whether the photo matches its hash, and the certificates it carries (() for none)."""

    type: str | None = None
    expired: bool | None = None
    authenticity: str | None = None  # one of AUTHENTICITY; None: not known (yet)
    photo: str | None = None  # one of PHOTO
    certificates: tuple[CardCertificate, ...] | None = None  # None: not read


@dataclass(frozen=True)
class PickupPlace:
    """Where the new card waits (from the pickup register)."""

    storage: str | None = None
    card_number: str | None = None


@dataclass(frozen=True)
class CodeRequestMade:
    """The code request recorded with the ticket (kiosk.code_requests)."""

    id: int | None = None
    contact: str | None = None  # how the citizen is told: "email", "phone", or None


@dataclass(frozen=True)
class Identity:
    """The personal part: masked for the desk and the API, in full only when logged."""

    name: str | None = None  # "Last name, Given names", as on the card
    national_number: str | None = None

    def masked(self) -> dict:
        return {
            "name": mask_name(self.name) if self.name else None,
            "national_number": mask_national_number(self.national_number) if self.national_number else None,
        }

    def in_full(self) -> dict:
        national_number = self.national_number
        if national_number and is_valid_national_number(national_number):
            national_number = format_national_number(national_number)  # as printed on the card
        return {"name": self.name, "national_number": national_number}


@dataclass(frozen=True)
class CheckIn:
    visit: str | None = None  # a service id, a site's own too
    card: Card | None = None  # None: checked in without a card
    lost_card: bool = False
    identity: Identity = Identity()
    age: int | None = None
    pin_tries_left: int | None = None
    notes: tuple[str, ...] = ()  # codes (kiosk.citizen.eligibility); the desk words them
    confirmed: tuple[str, ...] = ()  # checklist codes the citizen ticked
    missing: tuple[str, ...] = ()  # and those they did not
    pickup: PickupPlace | None = None
    code_request: CodeRequestMade | None = None
    doc_stop: str | None = None  # ISO date the card was blocked with DOC STOP, for a reactivation

    def with_note(self, note: str) -> CheckIn:
        return dataclasses.replace(self, notes=(*self.notes, note))

    def with_card_checks(self, card: Card, notes: tuple[str, ...]) -> CheckIn:
        """The card's checks, known after the ticket, and the notes that follow from them."""
        added = tuple(note for note in notes if note not in self.notes)
        return dataclasses.replace(self, card=card, notes=(*self.notes, *added))

    def with_code_request(self, code_request: CodeRequestMade) -> CheckIn:
        return dataclasses.replace(self, code_request=code_request)

    def to_json(self) -> dict:
        """The stored form. Its keys are those of version 0, flat, so that rows of either
        version read alike."""
        return {
            "v": VERSION,
            "visit": self.visit,
            "card": _kept(self.card),
            "lost_card": self.lost_card,
            "name": self.identity.name,
            "national_number": self.identity.national_number,
            "age": self.age,
            "pin_tries_left": self.pin_tries_left,
            "notes": list(self.notes),
            "confirmed": list(self.confirmed),
            "missing": list(self.missing),
            "pickup": _kept(self.pickup),
            "code_request": _kept(self.code_request),
            **({"doc_stop": self.doc_stop} if self.doc_stop else {}),  # only a reactivation has it
        }

    @classmethod
    def from_json(cls, data: Any) -> CheckIn:
        """A stored or posted check-in of any version; anything but an object reads as empty."""
        if not isinstance(data, Mapping):
            return cls()
        card, pickup, code_request = (_table(data.get(key)) for key in ("card", "pickup", "code_request"))
        return cls(
            visit=_text(data.get("visit")),
            card=_known(_card(card)) if card else None,
            lost_card=data.get("lost_card") is True,
            identity=Identity(_text(data.get("name")), _text(data.get("national_number"))),
            age=_number(data.get("age")),
            pin_tries_left=_number(data.get("pin_tries_left")),
            notes=_texts(data.get("notes")),
            confirmed=_texts(data.get("confirmed")),
            missing=_texts(data.get("missing")),
            pickup=_known(PickupPlace(_text(pickup.get("storage")), _text(pickup.get("card_number"))))
            if pickup
            else None,
            code_request=_known(CodeRequestMade(_number(code_request.get("id")), _text(code_request.get("contact"))))
            if code_request
            else None,
            doc_stop=_text(data.get("doc_stop")),
        )


def clerk_view(checkin: CheckIn | None) -> dict:
    """The check-in for the desk screen and the API: name and national number masked. Notes
    and checklist items stay codes (or older texts) for the desk to put in the clerk's
    language; a part with nothing known is None, and only its known keys are shown."""
    checkin = checkin or CheckIn()
    return {
        "visit": checkin.visit,
        "card": _kept(checkin.card),
        "lost_card": checkin.lost_card,
        **checkin.identity.masked(),
        "age": checkin.age,
        "pin_tries_left": checkin.pin_tries_left,
        "notes": list(checkin.notes),
        "confirmed": list(checkin.confirmed),
        "missing": list(checkin.missing),
        "pickup": _kept(checkin.pickup),
        "code_request": _kept(checkin.code_request),
        **({"doc_stop": checkin.doc_stop} if checkin.doc_stop else {}),
    }


def mask_name(value: str) -> str:
    """'Testperson, Jan' → 'T***, J***': each word keeps its first letter."""
    return (
        ", ".join(" ".join(f"{word[0]}***" for word in part.split()) for part in value.split(",") if part.strip())
        or "***"
    )


def _kept(part: Any) -> dict | None:
    """A part's known keys, None when none is known."""
    if part is None:
        return None
    # tuples (the certificates) as lists: what JSON gives back
    kept = {key: list(v) if isinstance(v, tuple) else v for key, v in dataclasses.asdict(part).items() if v is not None}
    return kept or None


def _card(data: Mapping) -> Card:
    certificates = data.get("certificates")
    return Card(
        _text(data.get("type")),
        _flag(data.get("expired")),
        _one_of(data.get("authenticity"), AUTHENTICITY),
        _one_of(data.get("photo"), PHOTO),
        tuple(
            CardCertificate(_text(c.get("kind")), _text(c.get("valid_until")))
            for c in certificates
            if isinstance(c, Mapping)
        )
        if isinstance(certificates, list)
        else None,
    )


def _one_of(value: Any, known: tuple[str, ...]) -> str | None:
    return value if value in known else None


def _known(part: T) -> T | None:
    return part if _kept(part) else None


def _table(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(item for item in value if isinstance(item, str)) if isinstance(value, list) else ()


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None
