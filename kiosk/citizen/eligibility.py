"""Does this visit make sense for this person today? Plain rules, no Flask.

The kiosk only diagnoses and routes: it never unblocks a PIN or activates anything itself.
The dates and postcodes of the rules come from the site profile's [rules] (kiosk.site); the
card's checks (its certificates, whether it is genuine) are known a moment after the card
is read, so the rules that need them add their notes when they come (`checks`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from hardware.card import ResidenceCard
from hardware.card.card_checks import Authenticity, CardChecks, CertificateKind, PhotoCheck
from hardware.card.dates import age_on

from ..checkin import Card, CardCertificate, CheckIn, Identity, PickupPlace
from ..pickups import Pickup
from ..site import RulesSettings

# The visits these rules know; a site's own services get a ticket without a card.
CHECKED_VISITS = ("pickup", "activation", "pin_reset", "new_codes")
ADULT_AGE = 18
CODES_DELAY = dt.timedelta(weeks=2)  # new PIN and PUK codes take about two weeks to arrive

# checklist items (what to have at the counter), by code
CURRENT_CARD, POLICE_CERTIFICATE, CODE_LETTER = "current_card", "police_certificate", "code_letter"
CARD, PIN_OR_PUK, PUK, FEE = "card", "pin_or_puk", "puk", "fee"
FEDERAL_RULES = RulesSettings()  # the profile's defaults


def no_new_certificates(card: ResidenceCard, today: dt.date, rules: RulesSettings) -> bool:
    """Since the stop date no new certificates can be put on a card issued before the cut-off:
    a counter visit cannot activate them, only a new card helps."""
    return today >= rules.certificates_stopped_on and card.validity_begin < rules.certificates_issued_from


def issued_to_a_minor(card: ResidenceCard) -> bool:
    return age_on(card.birth_date, card.validity_begin) < ADULT_AGE


def certificate_notes(card: ResidenceCard, checks: CardChecks | None, today: dt.date) -> tuple[str, ...]:
    """What the certificates the card carries say about activating them; nothing before
    they are known. A minor's card without the signing certificate never receives it; a
    card issued to a minor that carries it can have it activated from 18."""
    if checks is None or (signing := checks.carries(CertificateKind.SIGNING)) is None:
        return ()
    notes: tuple[str, ...] = ()
    if issued_to_a_minor(card):
        if not signing:
            notes += ("signing_never_on_this_card",)
        elif card.age_on(today) >= ADULT_AGE:
            notes += ("signing_can_be_activated",)
    if any(c.valid_until < today for c in checks.certificates or ()):
        notes += ("certificates_expired",)
    return notes


def card_check_notes(checks: CardChecks | None) -> tuple[str, ...]:
    """A card whose data or photo did not pass goes on to the counter, marked for the clerk."""
    if checks and (checks.authenticity == Authenticity.INVALID or checks.photo == PhotoCheck.DIFFERS):
        return ("card_to_be_checked",)
    return ()


def pin_reset_without_puk(card: ResidenceCard, rules: RulesSettings) -> bool:
    """Cards issued from the site's date have a blocked PIN reset at the counter without the PUK."""
    return rules.pin_reset_without_puk_from is not None and card.validity_begin >= rules.pin_reset_without_puk_from


def codes_go_elsewhere(card: ResidenceCard, rules: RulesSettings) -> bool:
    """New codes are sent to the municipality of inscription: an address outside the site's
    postcodes means the citizen collects them there."""
    return bool(rules.postcodes) and card.address.postal_code not in rules.postcodes


def reactivation_in_time(blocked_on: dt.date, today: dt.date, rules: RulesSettings) -> bool:
    """A card blocked with DOC STOP and found again within the days allowed is reactivated;
    after that it stays blocked and a new card is needed."""
    return 0 <= (today - blocked_on).days <= rules.reactivation_days


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
    checks: CardChecks | None = None,
    rules: RulesSettings = FEDERAL_RULES,
    blocked_on: dt.date | None = None,
    pin_reset_offered: bool = True,
) -> Assessment:
    """`card` is the card in the reader (None when the citizen typed a national number
    because the card was lost or stolen); `pickup` is what the register holds for them;
    `checks` the card's checks once read; `blocked_on` the day a found card was blocked
    with DOC STOP; `pin_reset_offered` whether the site takes PIN tickets."""
    age = card.age_on(today) if card else None
    if card is None and not lost_card:
        return Assessment(visit, False, refusal="card_needed")
    if card is not None and not card.is_residence_card:
        return Assessment(visit, False, refusal="not_residence_card", age=age)
    assessment = _assess(
        visit, card, lost_card, today, pickup, ticket_without_pickup, checks, rules, blocked_on, pin_reset_offered, age
    )
    if assessment.may_take_ticket:
        assessment = dataclasses.replace(assessment, notes=(*assessment.notes, *card_check_notes(checks)))
    return assessment


def _assess(
    visit: str,
    card: ResidenceCard | None,
    lost_card: bool,
    today: dt.date,
    pickup: Pickup | None,
    ticket_without_pickup: bool,
    checks: CardChecks | None,
    rules: RulesSettings,
    blocked_on: dt.date | None,
    pin_reset_offered: bool,
    age: int | None,
) -> Assessment:
    if blocked_on is not None:
        # a card found again after DOC STOP: its own visit, to lift the block, not a new card
        if card is None or lost_card:
            return Assessment(visit, False, refusal="card_needed")
        if not reactivation_in_time(blocked_on, today, rules):
            return Assessment(visit, False, refusal="doc_stop_too_late", age=age)
        return Assessment(visit, True, notes=("doc_stop_reactivation",), checklist=(CARD,), age=age)

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
        if no_new_certificates(card, today, rules):
            return Assessment(visit, False, refusal="new_card_by_appointment", age=age)
        notes: tuple[str, ...] = ("minor_authentication_only",) if card.age_on(today) < ADULT_AGE else ()
        notes += certificate_notes(card, checks, today)
        return Assessment(visit, True, notes=notes, checklist=(CARD, PIN_OR_PUK), age=age)

    if visit in ("pin_reset", "new_codes") and card.is_expired_on(today):
        # Refused, unlike activation: codes are useless on a dead card, a ticket would only
        # cost a wait (and for new codes a 5 euro request made with the ticket), and a new
        # card is applied for by appointment, not at the fast counter. The screen says so.
        return Assessment(visit, False, refusal="card_expired", age=age)

    without_puk = pin_reset_without_puk(card, rules)
    if visit == "new_codes" and without_puk and pin_reset_offered:
        # neither the fee nor the weeks of waiting: the counter resets the PIN today
        reset = _assess("pin_reset", card, False, today, None, False, checks, rules, None, True, age)
        return dataclasses.replace(reset, notes=("codes_not_needed", *reset.notes))

    if visit == "pin_reset":
        tries = card.pin_tries_left
        note = "pin_tries_unknown" if tries is None else "pin_blocked" if tries == 0 else "pin_not_blocked"
        if without_puk:
            return Assessment(
                visit, True, notes=(note, "no_puk_needed"), checklist=(CARD,), pin_tries_left=tries, age=age
            )
        return Assessment(visit, True, notes=(note,), checklist=(CARD, PUK), pin_tries_left=tries, age=age)

    if visit == "new_codes":
        notes = ("fee_and_delay",)
        if codes_go_elsewhere(card, rules):
            notes += ("codes_to_home_municipality",)
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
    checks: CardChecks | None = None,
    blocked_on: dt.date | None = None,
) -> CheckIn:
    """What the ticket carries to the clerk: the rules' outcome, the card (or the typed
    national number) with its checks when known, and which items of the screen's checklist
    the citizen ticked, as codes that the desk words in the clerk's language."""
    pickup = assessment.pickup
    return CheckIn(
        visit=assessment.visit,
        card=checked_card(card, today, checks) if card else None,
        lost_card=lost_card,
        identity=Identity(f"{card.last_name}, {card.given_names}" if card else None, national_number),
        age=assessment.age,
        pin_tries_left=assessment.pin_tries_left,
        notes=assessment.notes,
        confirmed=tuple(code for code in checklist if code in ticked),
        missing=tuple(code for code in checklist if code not in ticked),
        pickup=PickupPlace(pickup.storage, pickup.card_number) if pickup else None,
        doc_stop=blocked_on.isoformat() if blocked_on else None,
    )


def checked_card(card: ResidenceCard, today: dt.date, checks: CardChecks | None) -> Card:
    """The card as the check-in carries it: the verdict only, never the photo."""
    if checks is None:
        return Card(card.card_type, card.is_expired_on(today))
    return Card(
        card.card_type,
        card.is_expired_on(today),
        str(checks.authenticity),
        str(checks.photo),
        None
        if checks.certificates is None
        else tuple(CardCertificate(str(c.kind), c.valid_until.isoformat()) for c in checks.certificates),
    )
