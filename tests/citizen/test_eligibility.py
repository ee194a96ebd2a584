"""The rules that decide whether a visit makes sense, on the fake cards."""

import dataclasses
import datetime as dt

import pytest

from hardware.card import read_residence_card
from hardware.card.eid_applet import EidApplet
from hardware.card.fake_cards import fake_cards
from kiosk.citizen.eligibility import assess
from kiosk.pickups import Pickup

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
