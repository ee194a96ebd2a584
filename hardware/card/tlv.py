"""The eID applet's tag-length-value format (identity and address files).

One byte of tag, then the length: one byte below 128; from 128 on, each length byte
with the high bit set is followed by another, 7 bits at a time (how the reference
parsers read it). Files end in zero padding.
"""

from collections.abc import Collection, Iterable

from .errors import CardDataError

_MAX_LENGTH_BYTES = 3  # 2**21 bytes: far beyond any eID file, so more is garbage


def parse_tlv(data: bytes, known_tags: Collection[int]) -> dict[int, bytes]:
    """Values of the known tags; other tags are skipped so new card generations still read."""
    values: dict[int, bytes] = {}
    pos = 0
    end = len(data)
    while pos < end:
        if not any(data[pos:]):
            break  # zero padding up to the end of the file
        tag = data[pos]
        pos += 1
        length = 0
        for count in range(1, _MAX_LENGTH_BYTES + 1):
            if pos >= end:
                raise CardDataError(f"truncated length of tag {tag:02X}")
            byte = data[pos]
            pos += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
            if count == _MAX_LENGTH_BYTES:
                raise CardDataError(f"overlong length of tag {tag:02X}")
        if pos + length > end:
            raise CardDataError(f"truncated value of tag {tag:02X}")
        if tag in known_tags:
            if tag in values:
                raise CardDataError(f"tag {tag:02X} appears twice")
            values[tag] = bytes(data[pos : pos + length])
        pos += length
    return values


def encode_length(length: int) -> bytes:
    groups = [length & 0x7F]
    length >>= 7
    while length:
        groups.append(0x80 | (length & 0x7F))
        length >>= 7
    return bytes(reversed(groups))


def encode_tlv(fields: Iterable[tuple[int, bytes]], pad_to: int = 0) -> bytes:
    """Build a file the way the card stores it (for the fake cards and tests)."""
    out = bytearray()
    for tag, value in fields:
        out += bytes([tag]) + encode_length(len(value)) + value
    if len(out) < pad_to:
        out += bytes(pad_to - len(out))
    return bytes(out)
