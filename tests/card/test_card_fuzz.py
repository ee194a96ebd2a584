"""Whatever a card sends, the parser gives a ResidenceCard or a CardDataError, nothing
else. CI runs at least 3000 examples per property; set CARD_FUZZ_EXAMPLES locally."""

import json
import os
from datetime import date

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hardware.card.dates import BirthDate, parse_birth_date
from hardware.card.errors import CardDataError
from hardware.card.fake_cards import birth_date_text, fake_cards
from hardware.card.residence_card import ResidenceCard, parse_residence_card
from hardware.card.tlv import encode_length, parse_tlv

EXAMPLES = 3000 if os.environ.get("CI") else int(os.environ.get("CARD_FUZZ_EXAMPLES", "300"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CARD = fake_cards(date(2025, 11, 23))["adult-f-plus"]
IDENTITY_FIELDS = list(parse_tlv(CARD.identity, range(256)).items())
ADDRESS_FIELDS = list(parse_tlv(CARD.address, range(256)).items())
CARD_DATA = CARD.card_data(CARD.pin_tries_left)


def parses_or_refuses(identity: bytes, address: bytes, card_data: bytes) -> None:
    try:
        card = parse_residence_card(identity, address, card_data)
    except CardDataError as error:
        assert isinstance(error.reason, str) and error.reason
        event("refused")
        return
    assert isinstance(card, ResidenceCard)
    event("parsed")
    # what the kiosk does next with a card must not fail either
    json.dumps(card.to_dict(today=date(2025, 11, 23)))
    card.age_on(date(2025, 11, 23))
    card.is_expired_on(date(2025, 11, 23))


@fuzz
@given(st.binary(max_size=600), st.binary(max_size=200), st.binary(max_size=40))
def test_any_bytes(identity, address, card_data):
    parses_or_refuses(identity, address, card_data)


# Near-valid files: the fields of a real-looking card with a few of them dropped, doubled
# or replaced by text or bytes, unknown tags added, then possibly cut short or with a
# byte changed.
_value = st.one_of(
    st.text(max_size=20).map(str.encode),
    st.binary(max_size=20),
    st.sampled_from([b"", b"0", b"01", b"99", b"31.02.2020", b"01.01.2030", b"30 JUL 1985", b"1985",
                     b"MAAR 1990", "03.MÄR.1968".encode(), b"85073003328", b"M", b"V", b"\x00"]),
)  # fmt: skip
DROP, TWICE = "drop", "twice"


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


_change = st.one_of(st.sampled_from([DROP, TWICE]), _value)
_extras = st.lists(st.tuples(st.integers(0x20, 0xFF), st.binary(max_size=300)), max_size=2)
_damage = st.sampled_from(["none", "none", "cut", "flip", "append"])
_position = st.integers(0, 2**16)  # taken modulo the length: no strategy built per draw
_byte = st.integers(0, 255)
_garbage = st.binary(min_size=1, max_size=10)


def near_valid_file(fields, pad_to=0):
    changes = st.dictionaries(st.integers(0, len(fields) - 1), _change, max_size=4)

    @st.composite
    def build(draw):
        chosen = draw(changes)
        out = bytearray()
        for index, (tag, value) in enumerate(fields):
            change = chosen.get(index)
            if change == DROP:
                continue
            if isinstance(change, bytes):
                value = change
            out += _tlv(tag, value) * (2 if change == TWICE else 1)
        for tag, value in draw(_extras):
            at = draw(_position) % (len(out) + 1)
            out[at:at] = _tlv(tag, value)  # often inside another field: damage too
        out += bytes(max(0, pad_to - len(out)))
        damage = draw(_damage)
        if damage == "cut" and out:
            del out[draw(_position) % len(out) :]
        elif damage == "flip" and out:
            out[draw(_position) % len(out)] = draw(_byte)
        elif damage == "append":
            out += draw(_garbage)
        return bytes(out)

    return build()


_card_data = st.one_of(
    st.just(CARD_DATA),
    st.binary(max_size=40),
    st.builds(lambda version, tries: bytes(21) + bytes([version]) + bytes(6) + bytes([tries, 0, 0]),
              st.integers(0, 255), st.integers(0, 255)),
)  # fmt: skip


@fuzz
@given(near_valid_file(IDENTITY_FIELDS), near_valid_file(ADDRESS_FIELDS, pad_to=117), _card_data)
def test_near_valid_files(identity, address, card_data):
    parses_or_refuses(identity, address, card_data)


@fuzz
@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["fr", "nl", "de"]),
    st.sampled_from(["full", "no day", "year only"]),
)
def test_birth_dates_in_every_language_read_back(day, language, known):
    month = None if known == "year only" else day.month
    day_of_month = day.day if known == "full" else None
    expected = BirthDate(day.year, month, day_of_month)
    assert parse_birth_date(birth_date_text(day.year, month, day_of_month, language)) == expected
    assert expected.latest_possible() >= day  # an age is never over-estimated
