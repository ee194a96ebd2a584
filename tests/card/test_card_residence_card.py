"""Every field of the identity and address files, and the card data."""

import json
from datetime import date

import pytest

from hardware.card.dates import BirthDate
from hardware.card.errors import CardDataError
from hardware.card.residence_card import Address, parse_residence_card
from hardware.card.tlv import encode_tlv

CHIP = bytes.fromhex("534c4950000000000000000000000042")
IDENTITY = {
    0x00: b"\x01",
    0x01: b"B012345678",
    0x02: CHIP,
    0x03: b"15.03.2022",
    0x04: b"15.03.2027",
    0x05: b"Teststad",
    0x06: b"85073003328",
    0x07: "Testperson-Ünal".encode(),
    0x08: b"Alex Sample",
    0x09: b"Q",
    0x0A: b"Testlander",
    0x0B: b"Voorbeeldstad",
    0x0C: b"30 JUL 1985",
    0x0D: b"V",
    0x0F: b"36",
    0x10: b"2",
    0x11: bytes(32),  # photo hash: not kept
    0x14: b"",
    0x1A: bytes(32),
    0x1F: b"01.01.2020",  # a mention the kiosk does not read
}
ADDRESS = {0x00: b"\x01", 0x01: b"Proefstraat 1 bus 2", 0x02: b"9999", 0x03: b"Teststad"}


def card_data(applet_version=0x18, tries: int | None = 3) -> bytes:
    data = bytearray(28)
    data[21] = applet_version
    return bytes(data) + (bytes([tries, 0, 0]) if tries is not None else b"")


def parse(identity=None, address=None, data=None, **changes):
    fields = dict(IDENTITY if identity is None else identity)
    for tag, value in changes.items():
        tag = int(tag.removeprefix("tag_"), 16)
        if value is None:
            fields.pop(tag, None)
        else:
            fields[tag] = value
    return parse_residence_card(
        encode_tlv(fields.items()),
        encode_tlv((ADDRESS if address is None else address).items(), pad_to=117),
        card_data() if data is None else data,
    )


def test_every_identity_field():
    card = parse()
    assert card.card_number == "B012345678"
    assert card.chip_number == "534C4950000000000000000000000042"
    assert (card.validity_begin, card.validity_end) == (date(2022, 3, 15), date(2027, 3, 15))
    assert card.delivery_municipality == "Teststad"
    assert card.national_number == "85073003328"
    assert card.last_name == "Testperson-Ünal"
    assert card.given_names == "Alex Sample"
    assert card.third_name_initial == "Q"
    assert card.nationality == "Testlander"
    assert card.birth_place == "Voorbeeldstad"
    assert card.birth_date == BirthDate(1985, 7, 30)
    assert card.gender == "F"
    assert (card.card_type, card.document_type.code, card.is_residence_card) == ("F+", 36, True)
    assert card.special_status == 2
    assert card.member_of_family is True


def test_address_fields():
    assert parse().address == Address("Proefstraat 1 bus 2", "9999", "Teststad")


def test_card_data_with_pin_tries():
    card = parse(data=card_data(0x18, 2))
    assert (card.applet_version, card.pin_tries_left) == ("1.8", 2)


def test_card_data_without_pin_tries():
    card = parse(data=card_data(0x18, None))
    assert (card.applet_version, card.pin_tries_left) == ("1.8", None)


def test_older_applet_has_no_pin_counter_even_with_a_29th_byte():
    card = parse(data=card_data(0x17, 3))
    assert (card.applet_version, card.pin_tries_left) == ("1.7", None)


def test_blocked_pin():
    assert parse(data=card_data(0x18, 0)).pin_tries_left == 0


def test_a_pin_counter_out_of_range_is_unknown_not_unreadable():
    assert parse(data=card_data(0x18, 16)).pin_tries_left is None
    assert parse(data=card_data(0x18, 15)).pin_tries_left == 15


@pytest.mark.parametrize("data", [b"", bytes(27)])
def test_bad_card_data(data):
    with pytest.raises(CardDataError):
        parse(data=data)


@pytest.mark.parametrize("letter, gender", [("M", "M"), ("F", "F"), ("V", "F"), ("W", "F"), ("m", "M"), ("?", "X")])
def test_gender_letters_of_the_three_languages(letter, gender):
    assert parse(tag_0d=letter.encode()).gender == gender


def test_optional_fields_may_be_absent():
    card = parse(tag_05=None, tag_08=None, tag_09=None, tag_0a=None, tag_0b=None, tag_0d=None, tag_10=None, tag_14=None)
    assert (card.given_names, card.third_name_initial, card.nationality, card.birth_place) == ("", "", "", "")
    assert (card.gender, card.special_status, card.member_of_family) == ("X", 0, False)


def test_empty_address_file():
    assert parse(address={}).address == Address("", "", "")


@pytest.mark.parametrize("tag", ["tag_01", "tag_03", "tag_04", "tag_06", "tag_07", "tag_0c", "tag_0f"])
def test_required_fields(tag):
    with pytest.raises(CardDataError):
        parse(**{tag: None})


@pytest.mark.parametrize(
    "changes",
    [
        {"tag_06": b"85073003329"},  # mod 97
        {"tag_06": b"85.07.30-033.28"},  # the card stores bare digits
        {"tag_03": b"2022-03-15"},
        {"tag_0c": b"30 XYZ 1985"},
        {"tag_0f": b"F+"},
        {"tag_10": b"x"},
        {"tag_10": b"9" * 5000},
        {"tag_07": b"\xff\xfe"},  # not UTF-8
    ],
)
def test_malformed_fields(changes):
    with pytest.raises(CardDataError):
        parse(**changes)


def test_national_number_born_from_2000():
    card = parse(tag_06=b"01010100126", tag_0c=b"01 JAN 2001")
    assert card.national_number == "01010100126"


def test_truncated_identity_file():
    identity = encode_tlv(IDENTITY.items())
    with pytest.raises(CardDataError):
        parse_residence_card(identity[:-5], encode_tlv(ADDRESS.items()), card_data())


def test_age_and_expiry():
    card = parse()
    assert card.age_on(date(2025, 7, 29)) == 39
    assert card.age_on(date(2025, 7, 30)) == 40
    assert not card.is_expired_on(date(2027, 3, 15))  # valid through its last day
    assert card.is_expired_on(date(2027, 3, 16))


def test_age_with_unknown_birth_day_and_month():
    card = parse(tag_0c=b"2007")
    assert card.age_on(date(2025, 12, 30)) == 17
    assert card.age_on(date(2025, 12, 31)) == 18


def test_to_dict_is_json_and_masks_the_national_number():
    data = parse(tag_0c=b"JUL 1985").to_dict(today=date(2025, 1, 1))
    assert json.loads(json.dumps(data)) == data
    assert data["national_number_masked"] == "85.07.30-***.**"
    assert "85073003328" not in json.dumps(data)
    assert data["birth_date"] == "1985-07"
    assert data["birth_date_unknown_parts"] == ["day"]
    assert data["card_type"] == "F+" and data["document_type_code"] == 36
    assert data["address"] == {
        "street_and_number": "Proefstraat 1 bus 2",
        "postal_code": "9999",
        "municipality": "Teststad",
    }
    assert (data["age"], data["is_expired"], data["pin_tries_left"]) == (39, False, 3)


def test_repr_holds_no_personal_data():
    text = repr(parse())
    for personal in ["Testperson", "Alex", "85073003328", "Proefstraat", "Voorbeeldstad", "B012345678", "1985"]:
        assert personal not in text
