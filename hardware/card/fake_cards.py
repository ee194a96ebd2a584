"""Clearly fake cards for the demo, the simulator and the virtual card.

Every card is built as the real files (TLV identity and address files, GET CARD DATA
bytes, signatures, photo, certificates), so simulated and virtual cards go through the same
parser and the same checks as real ones. The people are fictitious ("Testperson"); national
numbers use serials 990-999 and pass the mod-97 check. Dates are computed from `today` so
the 17-year-old stays 17 and the expired card stays expired.

The signatures and certificates come from the fake national register (fake_register), made
in memory at first use: `card_files` signs a card when an applet first serves it, so listing
the cards costs no key generation.
"""

import functools
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.hazmat.primitives import hashes

from .fake_register import Signer, fake_register
from .files import (
    ADDRESS_FILE,
    ADDRESS_SIGNATURE,
    AUTHENTICATION_CERTIFICATE,
    IDENTITY_FILE,
    IDENTITY_SIGNATURE,
    PHOTO_FILE,
    REGISTER_CERTIFICATE,
    ROOT_CERTIFICATE,
    SIGNING_CERTIFICATE,
    FilePath,
)
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
    PHOTO_HASH,
    POSTAL_CODE,
    SPECIAL_STATUS,
    STREET_AND_NUMBER,
    THIRD_NAME_INITIAL,
    VALIDITY_BEGIN,
    VALIDITY_END,
)  # fmt: skip
from .tlv import encode_tlv

_FILE_VERSION = 0x00
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
    photo: bytes = b""
    # what the register signed, when the card now holds something else (a tampered card)
    signed_identity: bytes = b""
    signed_address: bytes = b""
    signed_photo_digest: str = ""  # "sha1", "sha256", "sha384": the photo hash's (tag 0x11)
    register: str = "ec"  # who signed: "ec" (applet 1.8), "rsa" (1.7), "other" (a root nobody trusts)
    certificates: tuple[str, ...] = ("authentication", "signing")
    issued: date | None = None  # the certificates are valid from the card's first day to its last
    expires: date | None = None

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


def _photo(card_id: str) -> bytes:
    """Not a picture of anyone: JPEG markers around 3 KB of bytes made from the card's id,
    the size of a real card's photo so that reading it costs what it costs on a card."""
    body = b"".join(hashlib.sha256(f"photo:{card_id}:{n}".encode()).digest() for n in range(94))
    return b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"


def _digest(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


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
    tamper: str | None = None,  # "identity", "address" or "photo": changed after the register signed
    **card_options,
) -> FakeCard:
    year, month, day = born
    index = sum(card_id.encode()) % 10  # a stable, distinct-enough serial per card
    begin = valid_from or years_before(today, 2)
    end = valid_until or years_before(begin, -5)
    serial = _hash(card_id, "chip", 16)
    prefix = "" if document_type in (1, 6) else "B"
    # Applet 1.8 cards hash the photo with SHA-384; the 1.7 ones here keep a SHA-1 photo
    # hash under SHA-256 signatures, like the re-signed cards the middleware knows of.
    photo_digest = "sha1" if card_options.get("applet_version", 0x18) < 0x18 else "sha384"
    register = card_options.pop("register", "rsa" if photo_digest == "sha1" else "ec")
    photo = _photo(card_id)

    def identity(names: str) -> bytes:
        return encode_tlv(
            [
                (_FILE_VERSION, b"\x01"),
                (CARD_NUMBER, f"{prefix}{sum(serial) * 7919 % 10**9:09d}{index}".encode()),
                (CHIP_NUMBER, serial),
                (VALIDITY_BEGIN, _card_date(begin)),
                (VALIDITY_END, _card_date(end)),
                (DELIVERY_MUNICIPALITY, b"Teststad"),
                (NATIONAL_NUMBER, national_number(year, month, day, 990 + index).encode()),
                (LAST_NAME, b"Testperson"),
                (GIVEN_NAMES, names.encode()),
                (THIRD_NAME_INITIAL, b"Q"),
                (NATIONALITY, nationality.encode()),
                (BIRTH_PLACE, b"Voorbeeldstad"),
                (BIRTH_DATE, birth_date_text(year, month, day, language).encode()),
                (GENDER, (_WOMAN[language] if woman else "M").encode()),
                (DOCUMENT_TYPE, f"{document_type:02d}".encode()),
                (SPECIAL_STATUS, b"0"),
                (PHOTO_HASH, _digest(photo_digest, photo)),
                *([(MEMBER_OF_FAMILY, b"")] if member_of_family else []),
                (_BASIC_KEY_HASH, _hash(card_id, "key", 32)),
                *extra,
            ]
        )

    def address(street: bytes) -> bytes:
        return encode_tlv(
            [
                (_FILE_VERSION, b"\x01"),
                (STREET_AND_NUMBER, street),
                (POSTAL_CODE, b"9999"),
                (MUNICIPALITY, b"Teststad"),
            ],
            pad_to=ADDRESS_FILE_SIZE,
        )

    signed_identity, signed_address = identity(given_names), address(b"Proefstraat 1")
    served_identity = identity(given_names.replace("a", "e", 1)) if tamper == "identity" else signed_identity
    served_address = address(b"Proefstraat 7") if tamper == "address" else signed_address
    served_photo = photo[:-3] + bytes([photo[-3] ^ 0xFF]) + photo[-2:] if tamper == "photo" else photo
    return FakeCard(
        card_id,
        description,
        served_identity,
        served_address,
        serial,
        photo=served_photo,
        signed_identity=signed_identity,
        signed_address=signed_address,
        signed_photo_digest=photo_digest,
        register=register,
        issued=begin,
        expires=end,
        **card_options,
    )


def _register_signer(card: FakeCard) -> Signer:
    register = fake_register()
    return {"rsa": register.rsa_register, "ec": register.ec_register, "other": register.other_register}[card.register]


@functools.lru_cache(maxsize=256)
def card_files(card: FakeCard) -> dict[FilePath, bytes]:
    """The card's files by path from the MF, signed by the fake register (at first use).
    The caller must not change the dictionary: it is shared."""
    if not card.is_eid:
        return {}
    signer = _register_signer(card)
    # the register signs RSA cards with SHA-256 here, EC ones always with SHA-384
    digest = hashes.SHA384() if signer.is_ec else hashes.SHA256()
    identity_signature = signer.sign(card.signed_identity or card.identity, digest)
    address = (card.signed_address or card.address).rstrip(b"\x00")
    files = {
        IDENTITY_FILE: card.identity,
        IDENTITY_SIGNATURE: identity_signature,
        ADDRESS_FILE: card.address,
        ADDRESS_SIGNATURE: signer.sign(address + identity_signature, digest),
        PHOTO_FILE: card.photo,
        REGISTER_CERTIFICATE: signer.der,
        ROOT_CERTIFICATE: fake_register().other_root.der if card.register == "other" else _root_der(signer),
    }
    issued, expires = card.issued or date(2000, 1, 1), card.expires or date(2099, 12, 31)
    for kind, path in (("authentication", AUTHENTICATION_CERTIFICATE), ("signing", SIGNING_CERTIFICATE)):
        if kind in card.certificates:
            files[path] = fake_register().citizen_certificate(kind, card.serial, issued, expires, ec_card=signer.is_ec)
    return files


def _root_der(signer: Signer) -> bytes:
    register = fake_register()
    return (register.ec_root if signer.is_ec else register.rsa_root).der


def _birthday(day: date) -> tuple[int, int, int]:
    return day.year, day.month, day.day


def fake_cards(today: date | None = None) -> dict[str, FakeCard]:
    """The catalogue, by id, in the order a developer page would list them."""
    return dict(_catalogue(today or date.today()))


@functools.lru_cache(maxsize=8)
def _catalogue(today: date) -> dict[str, FakeCard]:
    turns_18_tomorrow = years_before(today, 18) + timedelta(days=1)
    # before 1 July 2017: no new certificates can be put on such a card any more
    before_2017 = min(date(2017, 6, 1), years_before(today, 1))
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
        _card("issued-2017", "Adult, E+ card issued before 1 July 2017 (no new certificates possible)",
              today=today, document_type=16, born=(1983, 4, 9), valid_from=before_2017,
              valid_until=max(years_before(before_2017, -10), today + timedelta(days=365))),
        _card("adult-no-signing", "19 years old, card issued at 15 with the authentication certificate only",
              today=today, document_type=33, born=_birthday(years_before(today, 19) - timedelta(days=30)),
              valid_from=years_before(today, 4), certificates=("authentication",)),
        _card("turned-18", "18 years old, card issued at 16 that carries the signing certificate",
              today=today, document_type=35, born=_birthday(years_before(today, 18) - timedelta(days=60)),
              language="fr"),
        _card("tampered-identity", "Adult, identity file changed after the register signed it",
              today=today, document_type=34, born=(1977, 10, 3), tamper="identity"),
        _card("tampered-address", "Adult, address changed after the register signed it",
              today=today, document_type=34, born=(1978, 11, 4), tamper="address"),
        _card("other-root", "Adult, signed by a register certificate from a root nobody trusts",
              today=today, document_type=34, born=(1979, 12, 5), register="other"),
        _card("photo-differs", "Adult, photo that does not match the photo hash",
              today=today, document_type=34, born=(1980, 1, 6), tamper="photo"),
        _card("belgian-eid", "Belgian eID (not a residence card)",
              today=today, document_type=1, born=(1980, 6, 1), nationality="Belg"),
        _card("kids-id", "Belgian Kids-ID (not a residence card)",
              today=today, document_type=6, born=_birthday(years_before(today, 8)), nationality="Belg"),
        FakeCard("not-eid", "A card without the eID applet (a bank card)", is_eid=False),
    ]  # fmt: skip
    return {card.id: card for card in cards}


FAKE_CARD_IDS = tuple(fake_cards(date(2000, 1, 1)))
