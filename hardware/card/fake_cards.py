"""Clearly fake cards for the demo, the simulator and the virtual card.

Every card is built as the real files (TLV identity and address files, GET CARD DATA
bytes), so simulated and virtual cards go through the same parser as real ones. The
people are fictitious ("Testperson"); national numbers use serials 990-999 and pass the
mod-97 check. Dates are computed from `today` so the 17-year-old stays 17 and the
expired card stays expired.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from .national_number import check_digits
from .residence_card import (
    BIRTH_DATE,
    BIRTH_PLACE,
    CARD_DATA_LENGTH,
    CARD_NUMBER,
    CHIP_NUMBER,
    DELIVERY_MUNICIPALITY,
    DOCUMENT_TYPE,
    GENDER,
    GIVEN_NAMES,
    LAST_NAME,
    MEMBER_OF_FAMILY,
    MUNICIPALITY,
    NATIONAL_NUMBER,
    NATIONALITY,
    POSTAL_CODE,
    SPECIAL_STATUS,
    STREET_AND_NUMBER,
    THIRD_NAME_INITIAL,
    VALIDITY_BEGIN,
    VALIDITY_END,
)  # fmt: skip
from .tlv import encode_tlv

_FILE_VERSION = 0x00
_PHOTO_HASH = 0x11
_BASIC_KEY_HASH = 0x1A
_EU_REGISTRATION_DATE = 0x1F  # not read by the kiosk: exercises skipping unknown tags
ADDRESS_FILE_SIZE = 117

_MONTHS = {
    "nl": ["JAN", "FEB", "MAAR", "APR", "MEI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEC"],
    "fr": ["JAN", "FEV", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOUT", "SEPT", "OCT", "NOV", "DEC"],
    "de": ["JAN", "FEB", "MÄR", "APR", "MAI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEZ"],
}
_WOMAN = {"nl": "V", "fr": "F", "de": "W"}


@dataclass(frozen=True)
class FakeCard:
    id: str
    description: str  # one line, English, no personal data
    identity: bytes = b""
    address: bytes = b""
    serial: bytes = bytes(16)
    applet_version: int = 0x18
    pin: str = "1234"
    pin_tries_left: int = 3
    is_eid: bool = True
    path_select: bool = True  # older applets only accept one file id per SELECT

    def card_data(self, pin_tries_left: int | None) -> bytes:
        """The GET CARD DATA answer: 28 bytes, or 31 with the PIN tries left at byte 28."""
        data = bytearray(CARD_DATA_LENGTH)
        data[0:16] = self.serial
        data[16:21] = bytes([0x01, 0x11, 0x01, 0x17, 0x01])  # component, OS and softmask
        data[21] = self.applet_version
        data[22:27] = bytes([0x00, 0x03, 0x01, 0x01, 0x01])
        data[27] = 0x0F  # life cycle: personalised
        if pin_tries_left is not None:
            data += bytes([pin_tries_left, 0x00, 0x00])
        return bytes(data)


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def birth_date_text(year: int, month: int | None, day: int | None, language: str) -> str:
    """As printed on the card, blank day or blank day and month included."""
    if month is None:
        return f"{year}"
    name = _MONTHS[language][month - 1]
    if language == "de":
        return f"{day:02d}.{name}.{year}" if day else f"{name}.{year}"
    return f"{day:02d} {name} {year}" if day else f"{name} {year}"


def national_number(year: int, month: int | None, day: int | None, serial: int) -> str:
    """Unknown birth month or day are 00 in the national number."""
    first_nine = f"{year % 100:02d}{month or 0:02d}{day or 0:02d}{serial:03d}"
    return first_nine + check_digits(first_nine, born_from_2000=year >= 2000)


def _card_date(day: date) -> bytes:
    return day.strftime("%d.%m.%Y").encode()


def _hash(card_id: str, what: str, size: int) -> bytes:
    return hashlib.sha256(f"{what}:{card_id}".encode()).digest()[:size]


def _card(
    card_id: str,
    description: str,
    *,
    today: date,
    document_type: int,
    born: tuple[int, int | None, int | None],
    language: str = "nl",
    woman: bool = False,
    given_names: str = "Alex Sample",
    valid_from: date | None = None,
    valid_until: date | None = None,
    nationality: str = "Testland",
    member_of_family: bool = False,
    extra: tuple[tuple[int, bytes], ...] = (),
    **card_options,
) -> FakeCard:
    year, month, day = born
    index = sum(card_id.encode()) % 10  # a stable, distinct-enough serial per card
    begin = valid_from or years_before(today, 2)
    end = valid_until or years_before(begin, -5)
    serial = _hash(card_id, "chip", 16)
    prefix = "" if document_type in (1, 6) else "B"
    fields = [
        (_FILE_VERSION, b"\x01"),
        (CARD_NUMBER, f"{prefix}{sum(serial) * 7919 % 10**9:09d}{index}".encode()),
        (CHIP_NUMBER, serial),
        (VALIDITY_BEGIN, _card_date(begin)),
        (VALIDITY_END, _card_date(end)),
        (DELIVERY_MUNICIPALITY, b"Teststad"),
        (NATIONAL_NUMBER, national_number(year, month, day, 990 + index).encode()),
        (LAST_NAME, b"Testperson"),
        (GIVEN_NAMES, given_names.encode()),
        (THIRD_NAME_INITIAL, b"Q"),
        (NATIONALITY, nationality.encode()),
        (BIRTH_PLACE, b"Voorbeeldstad"),
        (BIRTH_DATE, birth_date_text(year, month, day, language).encode()),
        (GENDER, (_WOMAN[language] if woman else "M").encode()),
        (DOCUMENT_TYPE, f"{document_type:02d}".encode()),
        (SPECIAL_STATUS, b"0"),
        (_PHOTO_HASH, _hash(card_id, "photo", 32)),
        *([(MEMBER_OF_FAMILY, b"")] if member_of_family else []),
        (_BASIC_KEY_HASH, _hash(card_id, "key", 32)),
        *extra,
    ]
    address = encode_tlv(
        [
            (_FILE_VERSION, b"\x01"),
            (STREET_AND_NUMBER, b"Proefstraat 1"),
            (POSTAL_CODE, b"9999"),
            (MUNICIPALITY, b"Teststad"),
        ],
        pad_to=ADDRESS_FILE_SIZE,
    )
    return FakeCard(card_id, description, encode_tlv(fields), address, serial, **card_options)


def _birthday(day: date) -> tuple[int, int, int]:
    return day.year, day.month, day.day


def fake_cards(today: date | None = None) -> dict[str, FakeCard]:
    """The catalogue, by id, in the order a developer page would list them."""
    today = today or date.today()
    turns_18_tomorrow = years_before(today, 18) + timedelta(days=1)
    cards = [
        _card("adult-f-plus", "Adult, F+ card (family of an EU citizen), 3 PIN tries",
              today=today, document_type=36, born=(1985, 7, 30), member_of_family=True),
        _card("minor-17", "17 years old (turns 18 tomorrow), EU+ card, French",
              today=today, document_type=32, born=_birthday(turns_18_tomorrow),
              language="fr", woman=True,
              extra=((_EU_REGISTRATION_DATE, _card_date(years_before(today, 3))),)),
        _card("expired", "Adult, B card that expired 30 days ago",
              today=today, document_type=34, born=(1970, 1, 15),
              valid_from=years_before(today, 5) - timedelta(days=30),
              valid_until=today - timedelta(days=30)),
        _card("pin-blocked", "Adult, EU card whose PIN is blocked (0 tries left)",
              today=today, document_type=31, born=(1992, 11, 2), woman=True, pin_tries_left=0),
        _card("birth-year-only", "A card, birth date with unknown day and month",
              today=today, document_type=33, born=(1979, None, None)),
        _card("birth-day-unknown", "K card, birth date with unknown day",
              today=today, document_type=27, born=(1990, 3, None)),
        _card("type-f", "Adult, F card, French birth date",
              today=today, document_type=35, born=(1975, 8, 12), language="fr"),
        _card("type-l", "Adult, L card, German birth date",
              today=today, document_type=28, born=(1968, 3, 3), language="de", woman=True),
        _card("type-h", "Adult, H card (EU Blue Card)",
              today=today, document_type=19, born=(1988, 5, 21)),
        _card("type-m", "Adult, M card (Brexit)",
              today=today, document_type=22, born=(1960, 12, 24), language="fr"),
        _card("old-applet", "Adult, old-layout A card, applet 1.7 (no PIN counter, SELECT one id at a time)",
              today=today, document_type=11, born=(1982, 2, 28), applet_version=0x17, path_select=False),
        _card("belgian-eid", "Belgian eID (not a residence card)",
              today=today, document_type=1, born=(1980, 6, 1), nationality="Belg"),
        _card("kids-id", "Belgian Kids-ID (not a residence card)",
              today=today, document_type=6, born=_birthday(years_before(today, 8)), nationality="Belg"),
        FakeCard("not-eid", "A card without the eID applet (a bank card)", is_eid=False),
    ]  # fmt: skip
    return {card.id: card for card in cards}


FAKE_CARD_IDS = tuple(fake_cards(date(2000, 1, 1)))
