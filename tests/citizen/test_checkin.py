"""The check-in as one typed value: built from the rules' assessment, stored with its
version, read back; and check-ins stored before there were versions."""

import datetime as dt

import pytest

from hardware.card import read_residence_card
from hardware.card.eid_applet import EidApplet
from hardware.card.fake_cards import fake_cards
from kiosk.checkin import VERSION, Card, CheckIn, CodeRequestMade, Identity, PickupPlace, clerk_view
from kiosk.citizen.eligibility import assess, check_in, site_service
from kiosk.pickups import Pickup

TODAY = dt.date(2026, 11, 24)
READY = Pickup("B123456789", "85073003328", "Adult, Alex", "Kast A, lade 2", TODAY)


def card(card_id):
    return read_residence_card(EidApplet(fake_cards(TODAY)[card_id]))


def test_a_pickup_is_built_from_the_assessment_the_card_and_the_ticks():
    adult = card("adult-f-plus")
    assessment = assess("pickup", card=adult, lost_card=False, today=TODAY, pickup=READY)
    checkin = check_in(
        assessment,
        card=adult,
        lost_card=False,
        national_number=adult.national_number,
        checklist=["current_card", "code_letter", "site_0"],
        ticked={"code_letter"},
        today=TODAY,
    )
    assert checkin == CheckIn(
        visit="pickup",
        card=Card("F+", False),
        lost_card=False,
        identity=Identity(f"{adult.last_name}, {adult.given_names}", adult.national_number),
        age=41,
        pin_tries_left=None,
        notes=(),
        confirmed=("code_letter",),
        missing=("current_card", "site_0"),  # in the screen's order
        pickup=PickupPlace("Kast A, lade 2", "B123456789"),
        code_request=None,
    )


def test_a_pin_reset_carries_the_rules_notes_and_the_pin_tries():
    blocked = card("pin-blocked")
    assessment = assess("pin_reset", card=blocked, lost_card=False, today=TODAY)
    checkin = check_in(
        assessment,
        card=blocked,
        lost_card=False,
        national_number=blocked.national_number,
        checklist=assessment.checklist,
        ticked=set(),
        today=TODAY,
    )
    assert (checkin.notes, checkin.pin_tries_left, checkin.missing) == (("pin_blocked",), 0, ("card", "puk"))


def test_a_lost_card_has_the_typed_number_and_no_card():
    assessment = assess("pickup", card=None, lost_card=True, today=TODAY, pickup=READY)
    checkin = check_in(
        assessment,
        card=None,
        lost_card=True,
        national_number="85073003328",
        checklist=assessment.checklist,
        ticked={"police_certificate"},
        today=TODAY,
    )
    assert checkin.lost_card and checkin.card is None and checkin.age is None
    assert checkin.identity == Identity(None, "85073003328")
    assert checkin.confirmed == ("police_certificate",) and checkin.missing == ("code_letter",)


def test_a_site_service_has_its_list_and_nothing_of_a_card():
    checkin = check_in(
        site_service("residence_certificate"),
        card=None,
        lost_card=False,
        national_number=None,
        checklist=["site_0", "site_1"],
        ticked={"site_1"},
        today=TODAY,
    )
    assert checkin == CheckIn(visit="residence_certificate", confirmed=("site_1",), missing=("site_0",))


def test_an_expired_card_says_so():
    expired = card("expired")
    assessment = assess("activation", card=expired, lost_card=False, today=TODAY)
    checkin = check_in(
        assessment,
        card=expired,
        lost_card=False,
        national_number=expired.national_number,
        checklist=assessment.checklist,
        ticked={"card"},
        today=TODAY,
    )
    assert checkin.card is not None and checkin.card.expired and checkin.notes == ("expired",)


FULL = CheckIn(
    visit="new_codes",
    card=Card("H", False),
    identity=Identity("Testperson, Jan", "85073003328"),
    age=38,
    notes=("fee_and_delay", "code_request_not_recorded"),
    confirmed=("card",),
    missing=("fee",),
    code_request=CodeRequestMade(12, "email"),
)


def test_stored_with_its_version_and_read_back_the_same():
    stored = FULL.to_json()
    assert stored["v"] == VERSION == 1
    assert stored["name"] == "Testperson, Jan" and stored["notes"] == ["fee_and_delay", "code_request_not_recorded"]
    assert stored["code_request"] == {"id": 12, "contact": "email"} and stored["pickup"] is None
    assert CheckIn.from_json(stored) == FULL
    assert CheckIn.from_json(CheckIn().to_json()) == CheckIn()


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_read_back_from_the_tickets_table(queue):
    ticket, _place = queue.issue("new_codes", language="nl", checkin=FULL.to_json())
    assert CheckIn.from_json(queue.ticket(ticket.id).checkin) == FULL


# As the kiosk stored them before check-ins had a version: the check screen's ...
CHECKED_V0 = {
    "visit": "pickup",
    "card": {"type": "F+", "expired": False},
    "lost_card": False,
    "name": "Testperson, Jan",
    "national_number": "85073003328",
    "age": 41,
    "pin_tries_left": 3,
    "notes": [],
    "confirmed": ["current_card"],
    "missing": ["code_letter"],
    "pickup": {"storage": "Kast B, lade 3", "card_number": "B123456789"},
    "code_request": {"id": 7, "contact": None},
}
# ... and the confirm screen's, for a site's own service (no age, PIN tries or code request).
CONFIRMED_V0 = {
    "visit": "residence_certificate",
    "card": None,
    "lost_card": False,
    "name": None,
    "national_number": None,
    "notes": [],
    "pickup": None,
    "confirmed": ["site_0"],
    "missing": [],
}


def test_a_check_in_stored_before_versions_reads_as_it_was_written():
    checkin = CheckIn.from_json(CHECKED_V0)
    assert checkin == CheckIn(
        visit="pickup",
        card=Card("F+", False),
        identity=Identity("Testperson, Jan", "85073003328"),
        age=41,
        pin_tries_left=3,
        confirmed=("current_card",),
        missing=("code_letter",),
        pickup=PickupPlace("Kast B, lade 3", "B123456789"),
        code_request=CodeRequestMade(7, None),
    )
    assert CheckIn.from_json(CONFIRMED_V0) == CheckIn(visit="residence_certificate", confirmed=("site_0",))
    assert CheckIn.from_json(checkin.to_json()) == checkin  # and stored again, with a version


def test_the_clerk_view_of_an_old_check_in_is_what_it_was():
    assert clerk_view(CheckIn.from_json(CHECKED_V0)) == {
        "visit": "pickup",
        "card": {"type": "F+", "expired": False},
        "lost_card": False,
        "name": "T***, J***",
        "national_number": "85.07.30-***.**",
        "age": 41,
        "pin_tries_left": 3,
        "notes": [],
        "confirmed": ["current_card"],
        "missing": ["code_letter"],
        "pickup": {"storage": "Kast B, lade 3", "card_number": "B123456789"},
        "code_request": {"id": 7},  # no contact given: the key is left out, as before
    }
    assert clerk_view(CheckIn.from_json(CONFIRMED_V0)) == {
        "visit": "residence_certificate",
        "card": None,
        "lost_card": False,
        "name": None,
        "national_number": None,
        "age": None,
        "pin_tries_left": None,
        "notes": [],
        "confirmed": ["site_0"],
        "missing": [],
        "pickup": None,
        "code_request": None,
    }


def test_keys_it_does_not_know_are_dropped():
    checkin = CheckIn.from_json({**CHECKED_V0, "v": 2, "photo": "base64…", "card": {"type": "F+", "chip": "ab"}})
    assert checkin.card == Card("F+", None) and "photo" not in checkin.to_json()
    assert clerk_view(checkin)["card"] == {"type": "F+"}


def test_the_identity_in_full_is_written_as_on_the_card():
    assert FULL.identity.in_full() == {"name": "Testperson, Jan", "national_number": "85.07.30-033.28"}
    assert Identity("X", "12345").in_full() == {"name": "X", "national_number": "12345"}  # not a valid number
    assert Identity().in_full() == Identity().masked() == {"name": None, "national_number": None}


def test_a_note_or_code_request_added_later_makes_a_new_value():
    recorded = FULL.with_code_request(CodeRequestMade(13, None)).with_note("a_newer_note")
    assert recorded.code_request == CodeRequestMade(13, None) and recorded.notes[-1] == "a_newer_note"
    assert FULL.code_request == CodeRequestMade(12, "email") and "a_newer_note" not in FULL.notes
