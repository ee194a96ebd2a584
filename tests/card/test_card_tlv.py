import pytest

from hardware.card.errors import CardDataError
from hardware.card.tlv import encode_length, encode_tlv, parse_tlv

KNOWN = {0x01, 0x02, 0x03}


def test_parses_known_tags_and_skips_unknown_ones():
    data = bytes.fromhex("01034142437f02ffff020003015a")
    assert parse_tlv(data, KNOWN) == {0x01: b"ABC", 0x02: b"", 0x03: b"Z"}


def test_zero_padding_ends_the_file():
    data = bytes.fromhex("010141") + bytes(100)
    assert parse_tlv(data, KNOWN) == {0x01: b"A"}


def test_empty_tag_zero_before_data_is_not_padding():
    data = bytes.fromhex("0000010141")
    assert parse_tlv(data, KNOWN) == {0x01: b"A"}


def test_long_values_use_seven_bit_length_continuation():
    value = bytes(range(200))
    assert encode_length(200) == bytes([0x81, 0x48])  # 1 * 128 + 72
    data = encode_tlv([(0x02, value), (0x01, b"x")])
    assert data[:3] == bytes([0x02, 0x81, 0x48])
    assert parse_tlv(data, KNOWN) == {0x01: b"x", 0x02: value}


@pytest.mark.parametrize(
    "data, reason",
    [
        (bytes.fromhex("010541"), "truncated value"),
        (bytes.fromhex("01"), "truncated length"),
        (bytes.fromhex("0181"), "truncated length"),
        (bytes.fromhex("01ffffff01"), "overlong length"),
        (bytes.fromhex("010141010142"), "appears twice"),
    ],
)
def test_malformed(data, reason):
    with pytest.raises(CardDataError) as error:
        parse_tlv(data, KNOWN)
    assert reason in error.value.reason


def test_unknown_tags_may_repeat():
    assert parse_tlv(bytes.fromhex("7701aa7701bb010141"), KNOWN) == {0x01: b"A"}


def test_encode_pads_with_zeros():
    data = encode_tlv([(0x01, b"A")], pad_to=10)
    assert data == bytes.fromhex("010141") + bytes(7)
