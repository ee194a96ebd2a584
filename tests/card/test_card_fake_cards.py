"""The fake cards read through the emulated applet and the same parser as real cards."""

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from hardware.card.apdu import CardChannel
from hardware.card.card_reading import read_residence_card
from hardware.card.dates import BirthDate
from hardware.card.eid_applet import EidApplet
from hardware.card.errors import NotAnEidCard
from hardware.card.fake_cards import FAKE_CARD_IDS, fake_cards
from hardware.card.national_number import is_valid_national_number

TODAY = date(2025, 11, 23)
CARDS = fake_cards(TODAY)


def read(card_id, today=TODAY):
    return read_residence_card(EidApplet(fake_cards(today)[card_id]))


def test_ids_are_stable_and_described():
    assert list(CARDS) == list(FAKE_CARD_IDS)
    for card in CARDS.values():
        assert card.description and "\n" not in card.description


def test_the_residence_card_types_are_all_there():
    types = {read(card_id).card_type for card_id, card in CARDS.items() if card.is_eid}
    assert {"A", "B", "EU", "EU+", "F", "F+", "K", "L", "H", "M"} <= types


@pytest.mark.parametrize("card_id", [card_id for card_id, card in CARDS.items() if card.is_eid])
def test_every_eid_card_parses_with_a_valid_fake_identity(card_id):
    card = read(card_id)
    assert card.last_name == "Testperson"
    assert is_valid_national_number(card.national_number)
    assert card.national_number[6:9] >= "990"  # the fake serial range


@pytest.mark.parametrize("today", [TODAY, date(2024, 2, 29), date(2025, 2, 28), date(2026, 1, 1)])
def test_the_minor_is_17_and_turns_18_tomorrow(today):
    card = read("minor-17", today)
    assert card.age_on(today) == 17
    assert card.age_on(today + timedelta(days=1)) == 18


def test_the_adult_is_an_adult_with_three_tries():
    card = read("adult-f-plus")
    assert card.age_on(TODAY) >= 18
    assert (card.card_type, card.pin_tries_left, card.is_expired_on(TODAY)) == ("F+", 3, False)


def test_expired_card():
    card = read("expired")
    assert card.is_expired_on(TODAY)
    assert not card.is_expired_on(TODAY - timedelta(days=30))


def test_blocked_pin():
    assert read("pin-blocked").pin_tries_left == 0


def test_partly_unknown_birth_dates():
    assert read("birth-year-only").birth_date == BirthDate(1979)
    assert read("birth-day-unknown").birth_date == BirthDate(1990, 3)


def test_languages_of_birth_dates():
    assert read("type-f").birth_date == BirthDate(1975, 8, 12)  # 12 AOUT 1975
    assert read("type-l").birth_date == BirthDate(1968, 3, 3)  # 03.MÄR.1968
    assert b"AOUT" in CARDS["type-f"].identity and "MÄR".encode() in CARDS["type-l"].identity


def test_old_applet():
    card = read("old-applet")
    assert (card.applet_version, card.pin_tries_left) == ("1.7", None)


@pytest.mark.parametrize("card_id, label", [("belgian-eid", "Belgian eID"), ("kids-id", "Kids-ID")])
def test_belgian_cards_are_read_but_not_residence_cards(card_id, label):
    card = read(card_id)
    assert (card.card_type, card.is_residence_card) == (label, False)


def test_the_card_without_eid_answers_select_with_6a82():
    applet = EidApplet(CARDS["not-eid"])
    assert applet.transmit([0x00, 0xA4, 0x08, 0x0C, 0x04, 0xDF, 0x01, 0x40, 0x31]) == ([], 0x6A, 0x82)
    with pytest.raises(NotAnEidCard):
        read_residence_card(applet)


def test_applet_read_binary_answers():
    applet = EidApplet(CARDS["adult-f-plus"])
    size = len(CARDS["adult-f-plus"].identity)
    applet.transmit([0x00, 0xA4, 0x08, 0x0C, 0x04, 0xDF, 0x01, 0x40, 0x31])
    assert applet.transmit([0x00, 0xB0, 0x00, 0x00, 0x00]) == ([], 0x6C, size)
    data, *sw = applet.transmit([0x00, 0xB0, 0x00, 0x10, 0x08])
    assert (bytes(data), sw) == (CARDS["adult-f-plus"].identity[16:24], [0x90, 0x00])
    assert applet.transmit([0x00, 0xB0, size >> 8, size & 0xFF, 0x01]) == ([], 0x6B, 0x00)


def test_applet_pin_counter_and_card_data():
    applet = EidApplet(CARDS["adult-f-plus"])
    channel = CardChannel(applet)
    assert channel.verify_pin("0000").tries_left == 2
    assert channel.get_card_data()[28] == 2  # reading the counter spends no try
    assert channel.verify_pin("0000").tries_left == 1
    assert channel.verify_pin("1234").ok
    assert channel.get_card_data()[28] == 3
    for left in (2, 1, 0):
        assert channel.verify_pin("9999").tries_left == left
    verify_1234 = [0x00, 0x20, 0x00, 0x01, 0x08, 0x24, 0x12, 0x34, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
    assert applet.transmit(verify_1234)[1:] == (0x69, 0x83)  # blocked: even the right PIN


def test_cli_lists_the_cards():
    result = subprocess.run(
        [sys.executable, "-m", "hardware.card.virtual_card", "--list"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2], timeout=60,
    )  # fmt: skip
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(FAKE_CARD_IDS)
