"""The APDU layer against scripted cards: one test per status-word path."""

import pytest

from hardware.card.apdu import ADDRESS_FILE, IDENTITY_FILE, CardChannel
from hardware.card.card_reading import read_card_files
from hardware.card.eid_applet import EidApplet
from hardware.card.errors import CardDataError, CardStatusError, NotAnEidCard

SELECT_IDENTITY_PATH = "00a4080c04df014031"
SELECT_ADDRESS_PATH = "00a4080c04df014033"
SELECT_MF = "00a4020c023f00"
SELECT_DF01 = "00a4020c02df01"
SELECT_4031 = "00a4020c024031"
SELECT_4033 = "00a4020c024033"


@pytest.fixture
def channel(scripted_channel):
    return scripted_channel


def test_select_by_path_takes_one_command(channel):
    ch, card = channel([(SELECT_IDENTITY_PATH, "9000")])
    ch.select(IDENTITY_FILE)
    card.assert_done()
    assert ch.apdu_count == 1


def test_select_falls_back_to_one_file_id_at_a_time_and_remembers(channel):
    ch, card = channel(
        [
            (SELECT_IDENTITY_PATH, "6a86"),
            (SELECT_MF, "9000"),
            (SELECT_DF01, "9000"),
            (SELECT_4031, "9000"),
            # the path form is not tried again on this card
            (SELECT_MF, "9000"),
            (SELECT_DF01, "9000"),
            (SELECT_4033, "9000"),
        ]
    )
    ch.select(IDENTITY_FILE)
    ch.select(ADDRESS_FILE)
    card.assert_done()


def test_select_of_a_missing_file_fails_with_its_status_word(channel):
    ch, card = channel([(SELECT_IDENTITY_PATH, "6a82"), (SELECT_MF, "9000"), (SELECT_DF01, "6a82")])
    with pytest.raises(CardStatusError) as error:
        ch.select(IDENTITY_FILE)
    assert error.value.sw == 0x6A82
    card.assert_done()


def test_read_binary_resends_with_the_length_from_6cxx_and_stops_there(channel):
    # 0x10 bytes are left: after the resend the file is complete, no further READ
    ch, card = channel([("00b00000fc", "6c10"), ("00b0000010", "00" * 16 + "9000")])
    assert ch.read_binary() == bytes(16)
    card.assert_done()
    assert ch.apdu_count == 2


def test_read_binary_reads_252_byte_chunks_until_a_short_answer(channel):
    first, rest = bytes(range(252)), b"\x01\x02\x03"
    ch, card = channel([("00b00000fc", first.hex() + "9000"), ("00b000fcfc", rest.hex() + "9000")])
    assert ch.read_binary() == first + rest
    card.assert_done()


def test_read_binary_6cxx_on_a_later_chunk(channel):
    first = bytes([7]) * 252
    ch, card = channel(
        [("00b00000fc", first.hex() + "9000"), ("00b000fcfc", "6c05"), ("00b000fc05", "0102030405" + "9000")]
    )
    assert ch.read_binary() == first + bytes([1, 2, 3, 4, 5])
    card.assert_done()


def test_read_binary_6b00_after_a_full_chunk_is_end_of_file(channel):
    chunk = bytes([9]) * 252
    ch, card = channel([("00b00000fc", chunk.hex() + "9000"), ("00b000fcfc", "6b00")])
    assert ch.read_binary() == chunk
    card.assert_done()


def test_read_binary_short_answer_is_end_of_file(channel):
    # a driver that did the 6C retry itself hands back the shorter file at once
    ch, card = channel([("00b00000fc", "414243" + "9000")])
    assert ch.read_binary() == b"ABC"
    card.assert_done()
    assert ch.apdu_count == 1


def test_read_binary_end_of_file_warning_6282(channel):
    ch, card = channel([("00b00000fc", "4142" + "6282")])
    assert ch.read_binary() == b"AB"
    card.assert_done()


def test_61xx_fetches_the_rest_with_get_response(channel):
    ch, card = channel([("00b00000fc", "4142" + "6103"), ("00c0000003", "434445" + "9000")])
    assert ch.read_binary() == b"ABCDE"
    assert ch.apdu_count == 2
    card.assert_done()


def test_61xx_more_than_once(channel):
    ch, card = channel(
        [
            ("80e400011f", "6110"),
            ("00c0000010", "11" * 16 + "610f"),
            ("00c000000f", "22" * 15 + "9000"),
        ]
    )
    assert ch.get_card_data() == bytes([0x11] * 16 + [0x22] * 15)
    card.assert_done()


class EndlessResponse:
    """A broken card: every answer says more bytes are waiting."""

    def transmit(self, apdu):
        return [0x41] * 16, 0x61, 0x10


def test_a_card_that_never_stops_saying_61xx_is_given_up():
    ch = CardChannel(EndlessResponse())
    with pytest.raises(CardStatusError) as error:
        ch.get_card_data()
    assert (error.value.command, error.value.sw) == ("GET RESPONSE", 0x6110)
    assert ch.apdu_count == 1 + 16


def test_sixteen_get_responses_are_still_accepted(channel):
    script = [("80e400011f", "6110")] + [("00c0000010", "11" * 16 + "6110")] * 15
    ch, card = channel([*script, ("00c0000010", "22" * 16 + "9000")])
    assert ch.get_card_data() == bytes([0x11] * 240 + [0x22] * 16)
    card.assert_done()


def test_read_binary_unexpected_status_word(channel):
    ch, card = channel([("00b00000fc", "6986")])
    with pytest.raises(CardStatusError) as error:
        ch.read_binary()
    assert error.value.sw == 0x6986


def test_read_binary_of_an_endless_file_stops(channel):
    script = [(f"00b0{offset:04x}fc", "00" * 252 + "9000") for offset in range(0, 252 * 3, 252)]
    ch, _ = channel(script)
    with pytest.raises(CardDataError):
        ch.read_binary(max_size=500)


def test_card_data_long_form_on_applet_1_8(channel):
    answer = bytes(28) + b"\x02\x00\x00"
    ch, card = channel([("80e400011f", answer.hex() + "9000")])
    assert ch.get_card_data() == answer
    card.assert_done()


def test_card_data_falls_back_to_28_bytes_on_an_older_applet(channel):
    answer = bytes(27) + b"\x0f"
    ch, card = channel([("80e400011f", "6a86"), ("80e400001c", answer.hex() + "9000")])
    assert ch.get_card_data() == answer
    card.assert_done()


def test_card_data_6cxx_when_the_applet_ignores_p1(channel):
    answer = bytes(28)
    ch, card = channel([("80e400011f", "6c1c"), ("80e400011c", answer.hex() + "9000")])
    assert ch.get_card_data() == answer
    card.assert_done()


def test_card_data_refused_in_both_forms(channel):
    ch, _ = channel([("80e400011f", "6d00"), ("80e400001c", "6d00")])
    with pytest.raises(CardStatusError):
        ch.get_card_data()


@pytest.mark.parametrize(
    "pin, block",
    [
        ("1234", "2412 34ff ffff ffff"),
        ("123456789012", "2c12 3456 7890 12ff"),
        ("98765", "2598 765f ffff ffff"),
    ],
)
def test_verify_pin_block(channel, pin, block):
    ch, card = channel([("0020000108" + block.replace(" ", ""), "9000")])
    result = ch.verify_pin(pin)
    assert result.ok and result.tries_left is None
    card.assert_done()


@pytest.mark.parametrize("sw, tries, blocked", [("63c2", 2, False), ("63c0", 0, True), ("6983", 0, True)])
def test_verify_pin_wrong_or_blocked(channel, sw, tries, blocked):
    ch, _ = channel([("0020000108" + "241234ffffffffff", sw)])
    result = ch.verify_pin("1234")
    assert not result.ok
    assert result.tries_left == tries
    assert result.blocked is blocked


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", "", "١٢٣٤"])
def test_verify_pin_refuses_malformed_pins_without_sending(channel, pin):
    ch, card = channel([])
    with pytest.raises(ValueError):
        ch.verify_pin(pin)
    assert card.sent == []


def test_reading_a_card_takes_seven_commands_and_never_verify(channel, cards):
    card = cards["adult-f-plus"]
    identity_left = len(card.identity)
    address_left = len(card.address)
    ch, connection = channel(
        [
            (SELECT_IDENTITY_PATH, "9000"),
            ("00b00000fc", f"6c{identity_left:02x}"),
            (f"00b00000{identity_left:02x}", card.identity.hex() + "9000"),
            (SELECT_ADDRESS_PATH, "9000"),
            ("00b00000fc", f"6c{address_left:02x}"),
            (f"00b00000{address_left:02x}", card.address.hex() + "9000"),
            ("80e400011f", card.card_data(card.pin_tries_left).hex() + "9000"),
        ]
    )
    files = read_card_files(ch)
    connection.assert_done()
    assert ch.apdu_count == 7
    assert (files.identity, files.address) == (card.identity, card.address)
    assert not any(command[1] == 0x20 for command in connection.sent)


def test_a_card_without_the_eid_files_is_not_an_eid(cards):
    ch = CardChannel(EidApplet(cards["not-eid"]))
    with pytest.raises(NotAnEidCard):
        read_card_files(ch)


@pytest.mark.parametrize("sw", ["6b00", "6a87", "6700", "6985", "6d00"])
def test_a_card_refusing_to_select_the_eid_directories_is_not_an_eid(channel, sw):
    ch, card = channel([(SELECT_IDENTITY_PATH, sw), (SELECT_MF, sw)])
    with pytest.raises(NotAnEidCard):
        read_card_files(ch)
    card.assert_done()
    ch, card = channel([(SELECT_IDENTITY_PATH, sw), (SELECT_MF, "9000"), (SELECT_DF01, sw)])
    with pytest.raises(NotAnEidCard):
        read_card_files(ch)
    card.assert_done()


def test_other_select_failures_are_not_taken_for_another_kind_of_card(channel):
    ch, _ = channel([(SELECT_IDENTITY_PATH, "6f00"), (SELECT_MF, "6f00")])
    with pytest.raises(CardStatusError) as error:
        read_card_files(ch)
    assert not isinstance(error.value, NotAnEidCard)


def test_old_applet_through_the_emulated_card(cards):
    """The applet emulation and the APDU layer agree on the fallbacks."""
    ch = CardChannel(EidApplet(cards["old-applet"]))
    files = read_card_files(ch)
    assert len(files.card_data) == 28
    assert files.identity == cards["old-applet"].identity
