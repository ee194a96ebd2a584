"""Does this visit make sense for this person today? Plain rules, no Flask.

The kiosk only diagnoses and routes: it never unblocks a PIN or activates anything itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from hardware.card import ResidenceCard

from ..checkin import Card, CheckIn, Identity, PickupPlace
from ..pickups import Pickup

# The visits these rules know; a site's own services get a ticket without a card.
CHECKED_VISITS = ("pickup", "activation", "pin_reset", "new_codes")
ADULT_AGE = 18
CODES_DELAY = dt.timedelta(weeks=2)  # new PIN and PUK codes take about two weeks to arrive

# checklist items (what to have at the counter), by code
CURRENT_CARD, POLICE_CERTIFICATE, CODE_LETTER = "current_card", "police_certificate", "code_letter"
CARD, PIN_OR_PUK, PUK, FEE = "card", "pin_or_puk", "puk", "fee"


@dataclass(frozen=True)
class Assessment:
    visit: str
    may_take_ticket: bool
    refusal: str | None = None  # why not: a code the screen explains
    notes: tuple[str, ...] = ()  # what the screen should also say
    checklist: tuple[str, ...] = ()
    pickup: Pickup | None = None
    pin_tries_left: int | None = None
    age: int | None = None
    extra: dict = field(default_factory=dict)


def assess(
    visit: str,
    *,
    card: ResidenceCard | None,
    lost_card: bool,
    today: dt.date,
    pickup: Pickup | None = None,
    ticket_without_pickup: bool = False,
) -> Assessment:
    """`card` is the card in the reader (None when the citizen typed a national number
    because the card was lost or stolen); `pickup` is what the register holds for them."""
    age = card.age_on(today) if card else None
    if card is None and not lost_card:
        return Assessment(visit, False, refusal="card_needed")
    if card is not None and not card.is_residence_card:
        return Assessment(visit, False, refusal="not_residence_card", age=age)

    if visit == "pickup":
        bring = (POLICE_CERTIFICATE if lost_card else CURRENT_CARD, CODE_LETTER)
        if lost_card:
            # A typed number may be anyone's: the screen must not tell whether the register
            # holds a card for it. Always a ticket; the desk sees what the register holds.
            unknown: tuple[str, ...] = () if pickup else ("not_in_register",)
            return Assessment(visit, True, notes=unknown, checklist=bring, pickup=pickup, age=age)
        if pickup is None:
            if ticket_without_pickup:
                return Assessment(visit, True, notes=("not_in_register",), checklist=bring, age=age)
            return Assessment(visit, False, refusal="no_card_ready", age=age)
        return Assessment(visit, True, checklist=bring, pickup=pickup, age=age)

    if lost_card or card is None:  # every other visit works on the card itself
        return Assessment(visit, False, refusal="card_needed")

    if visit == "activation":
        if card.is_expired_on(today):
            # certificates of an expired card cannot be activated: the counter helps on
            return Assessment(visit, True, notes=("expired",), checklist=(CARD,), age=age)
        notes: tuple[str, ...] = ("minor_authentication_only",) if card.age_on(today) < ADULT_AGE else ()
        return Assessment(visit, True, notes=notes, checklist=(CARD, PIN_OR_PUK), age=age)

    if visit in ("pin_reset", "new_codes") and card.is_expired_on(today):
        # Refused, unlike activation: codes are useless on a dead card, a ticket would only
        # cost a wait (and for new codes a 5 euro request made with the ticket), and a new
        # card is applied for by appointment, not at the fast counter. The screen says so.
        return Assessment(visit, False, refusal="card_expired", age=age)

    if visit == "pin_reset":
        tries = card.pin_tries_left
        note = "pin_tries_unknown" if tries is None else "pin_blocked" if tries == 0 else "pin_not_blocked"
        return Assessment(visit, True, notes=(note,), checklist=(CARD, PUK), pin_tries_left=tries, age=age)

    if visit == "new_codes":
        notes = ("fee_and_delay",)
        if card.is_expired_on(today + CODES_DELAY):  # still valid today, dead when the codes come
            notes += ("expires_before_codes",)
        return Assessment(visit, True, notes=notes, checklist=(CARD, FEE), age=age)

    return Assessment(visit, False, refusal="unknown_visit")


def site_service(visit: str) -> Assessment:
    """A site's own service: the rules do not know it, so it needs no card and anyone may
    take a ticket for it."""
    return Assessment(visit, True)


def check_in(
    assessment: Assessment,
    *,
    card: ResidenceCard | None,
    lost_card: bool,
    national_number: str | None,
    checklist: Sequence[str],
    ticked: Collection[str],
    today: dt.date,
) -> CheckIn:
    """What the ticket carries to the clerk: the rules' outcome, the card (or the typed
    national number) and which items of the screen's checklist the citizen ticked, as codes
    that the desk words in the clerk's language."""
    pickup = assessment.pickup
    return CheckIn(
        visit=assessment.visit,
        card=Card(card.card_type, card.is_expired_on(today)) if card else None,
        lost_card=lost_card,
        identity=Identity(f"{card.last_name}, {card.given_names}" if card else None, national_number),
        age=assessment.age,
        pin_tries_left=assessment.pin_tries_left,
        notes=assessment.notes,
        confirmed=tuple(code for code in checklist if code in ticked),
        missing=tuple(code for code in checklist if code not in ticked),
        pickup=PickupPlace(pickup.storage, pickup.card_number) if pickup else None,
    )
