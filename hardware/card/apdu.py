"""Commands of the eID applet over any pyscard-like connection: an object with
`transmit(apdu: list[int]) -> (data, sw1, sw2)`.

Every command sent (GET RESPONSE and length retries included) is counted, so the cost
of a read can be measured.
"""

from dataclasses import dataclass
from typing import Protocol

from .errors import CardDataError, CardStatusError
from .files import ADDRESS_FILE, IDENTITY_FILE, MF

__all__ = ["ADDRESS_FILE", "IDENTITY_FILE", "MF", "CardChannel", "Connection", "PinCheck"]
# The middleware's chunk size; every reader and driver is known to cope with it.
READ_CHUNK = 252
_MAX_OFFSET = 0x7FFF  # READ BINARY offsets have 15 bits
OK = 0x9000
END_OF_FILE_WARNING = 0x6282  # ISO 7816 "end of file before Le bytes": data is the rest
OFFSET_PAST_END = 0x6B00
PIN_BLOCKED = 0x6983
# No eID answer needs more: 16 rounds of up to 256 bytes. A card that keeps saying 61xx
# past that is broken, and must not hold the reader forever.
MAX_GET_RESPONSE = 16


class Connection(Protocol):
    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]: ...


@dataclass(frozen=True)
class PinCheck:
    ok: bool
    tries_left: int | None  # None after a correct PIN: the card does not say

    @property
    def blocked(self) -> bool:
        return self.tries_left == 0


class CardChannel:
    def __init__(self, connection: Connection):
        self.connection = connection
        self.apdu_count = 0
        self._path_select = True  # until the card refuses the path form of SELECT

    def _send(self, apdu: list[int]) -> tuple[bytes, int]:
        self.apdu_count += 1
        data, sw1, sw2 = self.connection.transmit(list(apdu))
        return bytes(data), (sw1 << 8) | sw2

    def transmit(self, apdu: list[int]) -> tuple[bytes, int]:
        """One command; on T=0, `61xx` means xx more bytes wait for GET RESPONSE."""
        data, sw = self._send(apdu)
        for _ in range(MAX_GET_RESPONSE):
            if sw >> 8 != 0x61:
                return data, sw
            more, sw = self._send([0x00, 0xC0, 0x00, 0x00, sw & 0xFF])
            data += more
        if sw >> 8 == 0x61:
            raise CardStatusError("GET RESPONSE", sw)
        return data, sw

    def _transmit_exact(self, apdu: list[int]) -> tuple[bytes, int, bool]:
        """A command with Le; `6Cxx` says the right Le is xx, so send it again with that.
        The flag tells whether that happened (then the answer is all there is)."""
        data, sw = self.transmit(apdu)
        if sw >> 8 != 0x6C:
            return data, sw, False
        data, sw = self.transmit([*apdu[:-1], sw & 0xFF])
        return data, sw, True

    def select(self, path: tuple[int, ...]) -> None:
        """Select a file by its path from the MF: in one command where the applet accepts
        the path form, else one file id at a time as older applets need."""
        tried_path = self._path_select
        if tried_path:
            body = [byte for fid in path for byte in (fid >> 8, fid & 0xFF)]
            _, sw = self.transmit([0x00, 0xA4, 0x08, 0x0C, len(body), *body])
            if sw == OK:
                return
        for fid in (MF, *path):
            _, sw = self.transmit([0x00, 0xA4, 0x02, 0x0C, 0x02, fid >> 8, fid & 0xFF])
            if sw != OK:
                # a file the card does not have: the path form may still be fine
                raise CardStatusError(f"SELECT {fid:04X}", sw)
        if tried_path:
            self._path_select = False  # refused where one id at a time works: an older applet

    def read_binary(self, chunk: int = READ_CHUNK, max_size: int = _MAX_OFFSET, prefix: int | None = None) -> bytes:
        """The whole selected file. It ends at a short answer, at `6B00` (offset past
        the end) or right after a `6Cxx` retry, which gave exactly the rest. With `prefix`,
        only until at least that many bytes are in: on a real reader every chunk costs."""
        data = bytearray()
        while True:
            offset = len(data)
            if prefix is not None and offset >= prefix:
                return bytes(data)
            if offset > max_size:
                raise CardDataError("file longer than any eID file")
            answer, sw, exact = self._transmit_exact([0x00, 0xB0, offset >> 8, offset & 0xFF, chunk & 0xFF])
            if sw == OFFSET_PAST_END:
                return bytes(data)
            if sw not in (OK, END_OF_FILE_WARNING):
                raise CardStatusError("READ BINARY", sw)
            data += answer
            if exact or sw == END_OF_FILE_WARNING or len(answer) < chunk:
                return bytes(data)

    def get_card_data(self) -> bytes:
        """GET CARD DATA; the long form (applet 1.8) adds the PIN tries left at byte 28
        without spending a try. Older applets refuse it: ask for the 28 bytes then."""
        data, sw, _ = self._transmit_exact([0x80, 0xE4, 0x00, 0x01, 0x1F])
        if sw == OK:
            return data
        data, sw, _ = self._transmit_exact([0x80, 0xE4, 0x00, 0x00, 0x1C])
        if sw != OK:
            raise CardStatusError("GET CARD DATA", sw)
        return data

    def verify_pin(self, pin: str) -> PinCheck:
        """Check the citizen's PIN. This spends a try when wrong, so it is only ever sent
        when the caller asks for it explicitly; nothing in the reading path calls it."""
        if not (4 <= len(pin) <= 12 and pin.isascii() and pin.isdigit()):
            raise ValueError("a PIN has 4 to 12 digits")
        block = bytes.fromhex(f"2{len(pin):X}{pin}".ljust(16, "F"))
        _, sw = self.transmit([0x00, 0x20, 0x00, 0x01, len(block), *block])
        if sw == OK:
            return PinCheck(ok=True, tries_left=None)
        if sw >> 4 == 0x63C:
            return PinCheck(ok=False, tries_left=sw & 0x0F)
        if sw == PIN_BLOCKED:
            return PinCheck(ok=False, tries_left=0)
        raise CardStatusError("VERIFY", sw)
