"""The rules that decide whether a visit makes sense, on the fake cards."""

import dataclasses
import datetime as dt

import pytest

from hardware.card import read_residence_card
from hardware.card.card_checks import Authenticity, PhotoCheck
from hardware.card.eid_applet import EidApplet
from hardware.card.fake_cards import fake_cards
from hardware.card.reader_service import check_outcome, read_outcome
from kiosk.citizen.eligibility import assess
from kiosk.pickups import Pickup
from kiosk.site import RulesSettings

TODAY = dt.date(2026, 11, 24)


def card(card_id):
    """The fake card as the kiosk reads it: through the APDU layer and the parser."""
    return read_residence_card(EidApplet(fake_cards(TODAY)[card_id]))


READY = Pickup("B123456789", "85073099239", "Testperson, Alex", "Kast A, lade 2", TODAY)


def test_pickup_needs_a_card_in_the_register():
    refused = assess("pickup", card=card("adult-f-plus"), lost_card=False, today=TODAY, pickup=None)
    assert (refused.may_take_ticket, refused.refusal) == (False, "no_card_ready")
    ready = assess("pickup", card=card("adult-f-plus"), lost_card=False, today=TODAY, pickup=READY)
    assert ready.may_take_ticket and ready.pickup == READY
    assert ready.checklist == ("current_card", "code_letter")


def test_pickup_without_register_entry_when_the_site_allows_it():
    allowed = assess(
        "pickup", card=card("adult-f-plus"), lost_card=False, today=TODAY, pickup=None, ticket_without_pickup=True
    )
    assert allowed.may_take_ticket and allowed.notes == ("not_in_register",)


def test_pickup_after_loss_asks_for_the_police_certificate():
    lost = assess("pickup", card=None, lost_card=True, today=TODAY, pickup=READY)
    assert lost.may_take_ticket and lost.checklist == ("police_certificate", "code_letter")


def test_pickup_after_loss_gets_a_ticket_whatever_the_register_holds():
    # a typed number may be anyone's: the screen is the same; the desk sees the register's answer
    unknown = assess("pickup", card=None, lost_card=True, today=TODAY, pickup=None)
    assert unknown.may_take_ticket and unknown.checklist == ("police_certificate", "code_letter")
    assert unknown.notes == ("not_in_register",) and unknown.pickup is None


@pytest.mark.parametrize("visit", ["activation", "pin_reset", "new_codes"])
def test_other_visits_need_the_card_itself(visit):
    assert assess(visit, card=None, lost_card=True, today=TODAY).refusal == "card_needed"
    assert assess(visit, card=None, lost_card=False, today=TODAY).refusal == "card_needed"


def test_activation_under_18_is_authentication_only_and_adults_get_both():
    minor = assess("activation", card=card("minor-17"), lost_card=False, today=TODAY)
    assert minor.may_take_ticket and minor.notes == ("minor_authentication_only",) and minor.age == 17
    # the day after, the same card belongs to an adult
    tomorrow = TODAY + dt.timedelta(days=1)
    assert assess("activation", card=card("minor-17"), lost_card=False, today=tomorrow).notes == ()


def test_activation_of_an_expired_card_is_routed_to_the_counter():
    expired = assess("activation", card=card("expired"), lost_card=False, today=TODAY)
    assert expired.may_take_ticket and expired.notes == ("expired",) and expired.checklist == ("card",)


def test_partly_unknown_birth_date_never_makes_an_adult_of_a_child():
    result = assess("activation", card=card("birth-year-only"), lost_card=False, today=TODAY)
    assert result.age == 46


@pytest.mark.parametrize(
    "card_id, note, tries",
    [
        ("pin-blocked", "pin_blocked", 0),
        ("adult-f-plus", "pin_not_blocked", 3),
        ("old-applet", "pin_tries_unknown", None),
    ],
)
def test_pin_reset_tells_whether_the_pin_is_really_blocked(card_id, note, tries):
    result = assess("pin_reset", card=card(card_id), lost_card=False, today=TODAY)
    assert result.may_take_ticket and result.notes == (note,) and result.pin_tries_left == tries
    assert result.checklist == ("card", "puk")


def test_new_codes_explains_fee_and_delay():
    result = assess("new_codes", card=card("type-h"), lost_card=False, today=TODAY)
    assert result.may_take_ticket and result.notes == ("fee_and_delay",) and result.checklist == ("card", "fee")


@pytest.mark.parametrize("visit", ["pin_reset", "new_codes"])
def test_no_codes_for_an_expired_card(visit):
    refused = assess(visit, card=card("expired"), lost_card=False, today=TODAY)
    assert (refused.may_take_ticket, refused.refusal) == (False, "card_expired")


@pytest.mark.parametrize("visit", ["pin_reset", "new_codes"])
def test_codes_on_the_last_valid_day_of_a_card_are_not_refused(visit):
    last_day = dataclasses.replace(card("type-h"), validity_end=TODAY)
    assert assess(visit, card=last_day, lost_card=False, today=TODAY).may_take_ticket


@pytest.mark.parametrize("days_left, warned", [(13, True), (14, False), (15, False)])
def test_new_codes_warn_when_the_card_dies_before_they_arrive(days_left, warned):
    ending = dataclasses.replace(card("type-h"), validity_end=TODAY + dt.timedelta(days=days_left))
    result = assess("new_codes", card=ending, lost_card=False, today=TODAY)
    assert result.may_take_ticket and result.checklist == ("card", "fee")
    assert result.notes == (("fee_and_delay", "expires_before_codes") if warned else ("fee_and_delay",))


def test_a_belgian_card_is_not_for_this_kiosk():
    result = assess("activation", card=card("belgian-eid"), lost_card=False, today=TODAY)
    assert (result.may_take_ticket, result.refusal) == (False, "not_residence_card")


# --- the rules of the card's certificates and of the municipality ------------------------


def checks_of(card_id, *, authenticity="valid", photo="matches"):
    """The card's checks as the reader finds them (certificates from the card itself)."""
    applet = EidApplet(fake_cards(TODAY)[card_id])
    found = check_outcome(applet, read_outcome(applet), ())
    return dataclasses.replace(found, authenticity=Authenticity(authenticity), photo=PhotoCheck(photo))


def rules(**settings):
    return RulesSettings(**settings)


def test_no_new_certificates_on_a_card_issued_before_july_2017():
    old = card("issued-2017")
    assert old.validity_begin < dt.date(2017, 7, 1)
    refused = assess("activation", card=old, lost_card=False, today=TODAY)
    assert (refused.may_take_ticket, refused.refusal) == (False, "new_card_by_appointment")
    # the rule holds since 15 May 2023, not before
    before = assess("activation", card=old, lost_card=False, today=dt.date(2023, 5, 14))
    assert before.may_take_ticket
    # and the dates are the site's
    later = rules(certificates_issued_from=dt.date(2017, 1, 1))
    assert assess("activation", card=old, lost_card=False, today=TODAY, rules=later).may_take_ticket
    # other visits on such a card are not concerned
    assert assess("pin_reset", card=old, lost_card=False, today=TODAY).may_take_ticket


def test_a_minor_s_card_without_the_signing_certificate_never_gets_one():
    adult = card("adult-no-signing")
    assert adult.age_on(TODAY) == 19
    unknown = assess("activation", card=adult, lost_card=False, today=TODAY)
    assert unknown.notes == ()  # before the card's certificates are read: nothing to say yet
    known = assess("activation", card=adult, lost_card=False, today=TODAY, checks=checks_of("adult-no-signing"))
    assert known.may_take_ticket and known.notes == ("signing_never_on_this_card",)


def test_the_same_card_while_still_a_minor_says_both():
    minor = dataclasses.replace(card("adult-no-signing"), birth_date=card("minor-17").birth_date)
    result = assess("activation", card=minor, lost_card=False, today=TODAY, checks=checks_of("adult-no-signing"))
    assert result.notes == ("minor_authentication_only", "signing_never_on_this_card")


def test_at_18_the_signing_certificate_on_a_minor_s_card_can_be_activated():
    result = assess("activation", card=card("turned-18"), lost_card=False, today=TODAY, checks=checks_of("turned-18"))
    assert result.may_take_ticket and result.notes == ("signing_can_be_activated",)
    # the day before 18 it is not yet
    minor = card("minor-17")
    assert assess("activation", card=minor, lost_card=False, today=TODAY, checks=checks_of("minor-17")).notes == (
        "minor_authentication_only",
    )
    tomorrow = TODAY + dt.timedelta(days=1)
    assert assess("activation", card=minor, lost_card=False, today=tomorrow, checks=checks_of("minor-17")).notes == (
        "signing_can_be_activated",
    )
    # a card issued to an adult says nothing of it
    assert assess("activation", card=card("adult-f-plus"), lost_card=False, today=TODAY, checks=checks_of("adult-f-plus")).notes == ()  # fmt: skip


def test_expired_certificates_on_a_valid_card_are_said():
    checks = checks_of("adult-f-plus")
    (auth, sign) = checks.certificates
    ran_out = dataclasses.replace(
        checks, certificates=(dataclasses.replace(auth, valid_until=TODAY - dt.timedelta(days=1)), sign)
    )
    result = assess("activation", card=card("adult-f-plus"), lost_card=False, today=TODAY, checks=ran_out)
    assert result.notes == ("certificates_expired",)


PUK_FREE = rules(pin_reset_without_puk_from=TODAY - dt.timedelta(days=3 * 365))


def test_a_blocked_pin_on_a_recent_card_is_reset_without_the_puk():
    result = assess("pin_reset", card=card("pin-blocked"), lost_card=False, today=TODAY, rules=PUK_FREE)
    assert result.may_take_ticket and result.notes == ("pin_blocked", "no_puk_needed") and result.checklist == ("card",)
    # a card issued before the site's date still needs its PUK
    older = rules(pin_reset_without_puk_from=TODAY - dt.timedelta(days=365))
    assert assess("pin_reset", card=card("pin-blocked"), lost_card=False, today=TODAY, rules=older).checklist == (
        "card",
        "puk",
    )


def test_new_codes_for_a_recent_card_become_a_pin_ticket():
    result = assess("new_codes", card=card("pin-blocked"), lost_card=False, today=TODAY, rules=PUK_FREE)
    assert result.visit == "pin_reset" and result.may_take_ticket
    assert result.notes == ("codes_not_needed", "pin_blocked", "no_puk_needed") and result.checklist == ("card",)
    # without the rule, or where the site takes no PIN tickets, they stay new codes
    assert assess("new_codes", card=card("pin-blocked"), lost_card=False, today=TODAY).visit == "new_codes"
    no_pin_tickets = assess(
        "new_codes", card=card("pin-blocked"), lost_card=False, today=TODAY, rules=PUK_FREE, pin_reset_offered=False
    )
    assert no_pin_tickets.visit == "new_codes" and no_pin_tickets.checklist == ("card", "fee")


def test_new_codes_for_an_address_elsewhere_go_to_the_municipality_of_inscription():
    elsewhere = rules(postcodes=["9000", "9030"])
    result = assess("new_codes", card=card("type-h"), lost_card=False, today=TODAY, rules=elsewhere)
    assert result.may_take_ticket and result.notes == ("fee_and_delay", "codes_to_home_municipality")
    here = rules(postcodes=["9999"])  # the fake cards live at 9999
    assert assess("new_codes", card=card("type-h"), lost_card=False, today=TODAY, rules=here).notes == (
        "fee_and_delay",
    )
    assert assess("new_codes", card=card("type-h"), lost_card=False, today=TODAY).notes == ("fee_and_delay",)


@pytest.mark.parametrize("days_ago, in_time", [(0, True), (1, True), (7, True), (8, False), (30, False), (-1, False)])
def test_a_card_found_again_within_seven_days_is_reactivated(days_ago, in_time):
    blocked_on = TODAY - dt.timedelta(days=days_ago)
    result = assess("activation", card=card("adult-f-plus"), lost_card=False, today=TODAY, blocked_on=blocked_on)
    if in_time:
        assert result.may_take_ticket and result.notes == ("doc_stop_reactivation",) and result.checklist == ("card",)
    else:
        assert (result.may_take_ticket, result.refusal) == (False, "doc_stop_too_late")


def test_reactivation_days_are_the_site_s():
    blocked_on = TODAY - dt.timedelta(days=10)
    longer = rules(reactivation_days=14)
    assert assess("activation", card=card("type-h"), lost_card=False, today=TODAY, blocked_on=blocked_on, rules=longer).may_take_ticket  # fmt: skip
    assert assess("activation", card=None, lost_card=False, today=TODAY, blocked_on=blocked_on).refusal == "card_needed"


@pytest.mark.parametrize(
    "authenticity, photo, marked",
    [
        ("valid", "matches", False),
        ("invalid", "matches", True),
        ("valid", "differs", True),
        ("not_checked", "matches", False),
    ],
)
def test_a_card_that_fails_its_checks_gets_a_ticket_marked_for_the_clerk(authenticity, photo, marked):
    checks = checks_of("adult-f-plus", authenticity=authenticity, photo=photo)
    result = assess("pin_reset", card=card("adult-f-plus"), lost_card=False, today=TODAY, checks=checks)
    assert result.may_take_ticket
    assert ("card_to_be_checked" in result.notes) is marked
