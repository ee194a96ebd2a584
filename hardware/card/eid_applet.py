"""The eID applet's side of the conversation, answering from a fake card's files.

Used in process by the simulated reader and by tests (it has a pyscard-like
`transmit`), and behind vpcd by the virtual card.
"""

from . import files
from .fake_cards import FakeCard, card_files

# A file's path: its file identifiers from the MF down, of any depth.
FilePath = tuple[int, ...]

MF: FilePath = (files.MF,)
DF_ID: FilePath = (files.MF, files.ID_DIRECTORY)
DF_CERTIFICATES: FilePath = (files.MF, files.CERTIFICATE_DIRECTORY)
IDENTITY: FilePath = MF + files.IDENTITY_FILE
ADDRESS: FilePath = MF + files.ADDRESS_FILE
_DIRECTORIES: set[FilePath] = {MF, DF_ID, DF_CERTIFICATES}
MAX_PIN_TRIES = 3

SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_WRONG_DATA = b"\x6a\x80"
SW_FILE_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_OFFSET_PAST_END = b"\x6b\x00"
SW_NO_CURRENT_EF = b"\x69\x86"
SW_PIN_BLOCKED = b"\x69\x83"
SW_UNKNOWN_INS = b"\x6d\x00"
SW_UNKNOWN_CLA = b"\x6e\x00"


def _wrong_length(exact: int) -> bytes:
    return bytes([0x6C, exact & 0xFF])


class EidApplet:
    def __init__(self, card: FakeCard):
        self.card = card
        self.pin_tries_left = card.pin_tries_left
        self._files: dict[FilePath, bytes] = {MF + path: content for path, content in card_files(card).items()}
        self._current: FilePath = MF

    def reset(self) -> None:
        self._current = MF

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        response = self.respond(bytes(apdu))
        return list(response[:-2]), response[-2], response[-1]

    def respond(self, apdu: bytes) -> bytes:
        """The response APDU (data and status word) for one command APDU."""
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        cla, ins = apdu[0], apdu[1]
        if cla == 0x00 and ins == 0xA4:
            return self._select(apdu)
        if cla == 0x00 and ins == 0xB0:
            return self._read_binary(apdu)
        if cla == 0x80 and ins == 0xE4 and self.card.is_eid:
            return self._card_data(apdu)
        if cla == 0x00 and ins == 0x20 and self.card.is_eid:
            return self._verify(apdu)
        return SW_UNKNOWN_INS if cla == 0x00 else SW_UNKNOWN_CLA

    def _exists(self, path: FilePath) -> bool:
        return path in _DIRECTORIES or path in self._files

    def _select(self, apdu: bytes) -> bytes:
        if not self.card.is_eid:
            return SW_FILE_NOT_FOUND
        p1, body = apdu[2], apdu[5 : 5 + apdu[4]] if len(apdu) > 4 else b""
        if len(apdu) < 5 or len(body) != apdu[4] or len(body) % 2:
            return SW_WRONG_LENGTH
        fids = tuple(int.from_bytes(body[i : i + 2], "big") for i in range(0, len(body), 2))
        if p1 == 0x08:  # path from the MF
            if not self.card.path_select:
                return SW_WRONG_P1P2
            target = MF + fids
        elif p1 in (0x00, 0x02) and len(fids) == 1:  # one file id
            directory = self._current if self._current in _DIRECTORIES else self._current[:-1]
            target = MF if fids == MF else directory + fids
        else:
            return SW_WRONG_P1P2
        if not self._exists(target):
            return SW_FILE_NOT_FOUND
        self._current = target
        return SW_OK

    def _read_binary(self, apdu: bytes) -> bytes:
        content = self._files.get(self._current)
        if content is None:
            return SW_NO_CURRENT_EF
        if len(apdu) != 5:
            return SW_WRONG_LENGTH
        if apdu[2] & 0x80:  # short file identifiers: not supported
            return SW_WRONG_P1P2
        offset, wanted = (apdu[2] << 8) | apdu[3], apdu[4] or 256
        if offset >= len(content):
            return SW_OFFSET_PAST_END
        left = len(content) - offset
        if wanted > left:
            return _wrong_length(left)
        return content[offset : offset + wanted] + SW_OK

    def _card_data(self, apdu: bytes) -> bytes:
        p1p2 = apdu[2:4]
        with_tries = p1p2 == b"\x00\x01"
        if not (p1p2 == b"\x00\x00" or (with_tries and self.card.applet_version >= 0x18)):
            return SW_WRONG_P1P2
        data = self.card.card_data(self.pin_tries_left if with_tries else None)
        if len(apdu) != 5 or (apdu[4] or 256) != len(data):
            return _wrong_length(len(data))
        return data + SW_OK

    def _verify(self, apdu: bytes) -> bytes:
        if apdu[2:4] != b"\x00\x01":
            return SW_WRONG_P1P2
        if len(apdu) != 13 or apdu[4] != 8:
            return SW_WRONG_LENGTH
        if self.pin_tries_left == 0:
            return SW_PIN_BLOCKED
        digits = apdu[5:].hex().upper()
        length = int(digits[1], 16)
        if digits[0] != "2" or not 4 <= length <= 12 or digits[2 + length :].strip("F"):
            return SW_WRONG_DATA
        if digits[2 : 2 + length] == self.card.pin:
            self.pin_tries_left = MAX_PIN_TRIES
            return SW_OK
        self.pin_tries_left -= 1
        return bytes([0x63, 0xC0 | self.pin_tries_left])
