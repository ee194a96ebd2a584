"""The typed content of a residence card: identity file, address file and card data."""

from dataclasses import dataclass, field
from datetime import date

from .dates import BirthDate, age_on, parse_birth_date, parse_validity_date
from .document_type import DocumentType, parse_document_type
from .errors import CardDataError
from .national_number import is_valid_national_number, mask_national_number
from .tlv import parse_tlv

# Identity file 4031
CARD_NUMBER = 0x01
CHIP_NUMBER = 0x02
VALIDITY_BEGIN = 0x03
VALIDITY_END = 0x04
DELIVERY_MUNICIPALITY = 0x05
NATIONAL_NUMBER = 0x06
LAST_NAME = 0x07
GIVEN_NAMES = 0x08
THIRD_NAME_INITIAL = 0x09
NATIONALITY = 0x0A
BIRTH_PLACE = 0x0B
BIRTH_DATE = 0x0C
GENDER = 0x0D
DOCUMENT_TYPE = 0x0F
SPECIAL_STATUS = 0x10
PHOTO_HASH = 0x11  # of the photo file 4035; read by the card's checks (card_checks), not kept here
MEMBER_OF_FAMILY = 0x14
IDENTITY_TAGS = frozenset(
    {CARD_NUMBER, CHIP_NUMBER, VALIDITY_BEGIN, VALIDITY_END, DELIVERY_MUNICIPALITY,
     NATIONAL_NUMBER, LAST_NAME, GIVEN_NAMES, THIRD_NAME_INITIAL, NATIONALITY, BIRTH_PLACE,
     BIRTH_DATE, GENDER, DOCUMENT_TYPE, SPECIAL_STATUS, MEMBER_OF_FAMILY}
)  # fmt: skip
# Without these the card cannot be told apart or checked in; everything else may be absent
# (some people have no given name, no known birth place...).
_REQUIRED = {
    CARD_NUMBER: "card number",
    VALIDITY_BEGIN: "validity begin",
    VALIDITY_END: "validity end",
    NATIONAL_NUMBER: "national number",
    LAST_NAME: "last name",
    BIRTH_DATE: "birth date",
    DOCUMENT_TYPE: "document type",
}

# Address file 4033
STREET_AND_NUMBER = 0x01
POSTAL_CODE = 0x02
MUNICIPALITY = 0x03
ADDRESS_TAGS = frozenset({STREET_AND_NUMBER, POSTAL_CODE, MUNICIPALITY})

# GET CARD DATA answer
CARD_DATA_LENGTH = 28
_APPLET_VERSION = 21
_PIN_TRIES = 28
APPLET_WITH_PIN_TRIES = 0x18

_GENDERS = {"M": "M", "F": "F", "V": "F", "W": "F"}  # fr/en F, nl V(rouw), de W(eiblich)


@dataclass(frozen=True)
class Address:
    street_and_number: str
    postal_code: str
    municipality: str

    def to_dict(self) -> dict:
        return {
            "street_and_number": self.street_and_number,
            "postal_code": self.postal_code,
            "municipality": self.municipality,
        }


@dataclass(frozen=True)
class ResidenceCard:
    """One card as read. Personal fields are left out of repr() so a stray log line or
    test failure never prints them."""

    card_number: str = field(repr=False)
    chip_number: str = field(repr=False)  # hex
    document_type: DocumentType
    validity_begin: date
    validity_end: date
    delivery_municipality: str
    national_number: str = field(repr=False)
    last_name: str = field(repr=False)
    given_names: str = field(repr=False)
    third_name_initial: str = field(repr=False)
    nationality: str = field(repr=False)
    birth_place: str = field(repr=False)
    birth_date: BirthDate = field(repr=False)
    gender: str = field(repr=False)  # "M", "F", or "X" when the card says something else
    special_status: int = field(repr=False)
    member_of_family: bool = field(repr=False)
    address: Address = field(repr=False)
    applet_version: str  # "1.8"
    pin_tries_left: int | None  # None when the applet cannot tell (before 1.8, or out of range)

    @property
    def card_type(self) -> str:
        return self.document_type.label

    @property
    def is_residence_card(self) -> bool:
        return self.document_type.is_residence_card

    def age_on(self, day: date) -> int:
        """Whole years on `day`; unknown birth day/month count as the latest possible
        date, so a child is never taken for an adult (see dates.age_on)."""
        return age_on(self.birth_date, day)

    def is_expired_on(self, day: date) -> bool:
        """The card is valid up to and including its end date."""
        return day > self.validity_end

    def to_dict(self, today: date | None = None) -> dict:
        """JSON-safe data for the touch screen. The national number is masked: screens
        never need it whole. With `today`, adds the age and whether the card expired."""
        data = {
            "card_number": self.card_number,
            "chip_number": self.chip_number,
            "card_type": self.card_type,
            "document_type_code": self.document_type.code,
            "is_residence_card": self.is_residence_card,
            "is_kids_card": self.document_type.is_kids_card,
            "validity_begin": self.validity_begin.isoformat(),
            "validity_end": self.validity_end.isoformat(),
            "delivery_municipality": self.delivery_municipality,
            "national_number_masked": mask_national_number(self.national_number),
            "last_name": self.last_name,
            "given_names": self.given_names,
            "third_name_initial": self.third_name_initial,
            "nationality": self.nationality,
            "birth_place": self.birth_place,
            "birth_date": self.birth_date.isoformat(),
            "birth_date_unknown_parts": list(self.birth_date.unknown_parts),
            "gender": self.gender,
            "special_status": self.special_status,
            "member_of_family": self.member_of_family,
            "address": self.address.to_dict(),
            "applet_version": self.applet_version,
            "pin_tries_left": self.pin_tries_left,
        }
        if today is not None:
            data["age"] = self.age_on(today)
            data["is_expired"] = self.is_expired_on(today)
        return data


def _text(value: bytes, what: str) -> str:
    try:
        return value.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CardDataError(f"{what} is not UTF-8") from None


def parse_address(data: bytes) -> Address:
    fields = parse_tlv(data, ADDRESS_TAGS)
    return Address(
        street_and_number=_text(fields.get(STREET_AND_NUMBER, b""), "street"),
        postal_code=_text(fields.get(POSTAL_CODE, b""), "postal code"),
        municipality=_text(fields.get(MUNICIPALITY, b""), "municipality"),
    )


def parse_card_data(data: bytes) -> tuple[str, int | None]:
    """(applet version, PIN tries left) from the GET CARD DATA answer."""
    if len(data) < CARD_DATA_LENGTH:
        raise CardDataError("card data too short")
    version = data[_APPLET_VERSION]
    tries = None
    if version >= APPLET_WITH_PIN_TRIES and len(data) > _PIN_TRIES:
        tries = data[_PIN_TRIES]
        if tries > 15:
            tries = None  # only a hint for the counter staff: not worth refusing the card
    return f"{version >> 4}.{version & 0x0F}", tries


def parse_residence_card(identity: bytes, address: bytes, card_data: bytes) -> ResidenceCard:
    """Parse the three answers; raises CardDataError (and nothing else) on bad data."""
    identity, address, card_data = bytes(identity), bytes(address), bytes(card_data)
    fields = parse_tlv(identity, IDENTITY_TAGS)
    for tag, what in _REQUIRED.items():
        if tag not in fields:
            raise CardDataError(f"identity file has no {what}")
    text = {tag: _text(value, f"tag {tag:02X}") for tag, value in fields.items() if tag != CHIP_NUMBER}

    national_number = text[NATIONAL_NUMBER]
    if len(national_number) != 11 or not is_valid_national_number(national_number):
        raise CardDataError("national number fails the mod-97 check")
    special_status = text.get(SPECIAL_STATUS, "0") or "0"
    if not (len(special_status) <= 2 and special_status.isascii() and special_status.isdigit()):
        raise CardDataError("special status is not a number")
    applet_version, pin_tries_left = parse_card_data(card_data)

    return ResidenceCard(
        card_number=text[CARD_NUMBER],
        chip_number=fields.get(CHIP_NUMBER, b"").hex().upper(),
        document_type=parse_document_type(text[DOCUMENT_TYPE]),
        validity_begin=parse_validity_date(text[VALIDITY_BEGIN]),
        validity_end=parse_validity_date(text[VALIDITY_END]),
        delivery_municipality=text.get(DELIVERY_MUNICIPALITY, ""),
        national_number=national_number,
        last_name=text[LAST_NAME],
        given_names=text.get(GIVEN_NAMES, ""),
        third_name_initial=text.get(THIRD_NAME_INITIAL, ""),
        nationality=text.get(NATIONALITY, ""),
        birth_place=text.get(BIRTH_PLACE, ""),
        birth_date=parse_birth_date(text[BIRTH_DATE]),
        gender=_GENDERS.get(text.get(GENDER, "").upper(), "X"),
        special_status=int(special_status),
        member_of_family=MEMBER_OF_FAMILY in fields,
        address=parse_address(address),
        applet_version=applet_version,
        pin_tries_left=pin_tries_left,
    )
