"""The validity dates of a certificate from the first bytes of its file.

A visit needs to know whether the card carries the authentication and the signing
certificate and until when they are valid, not the certificates themselves. The dates sit
in the first hundred-odd bytes (after the serial number, the algorithm and the issuer's
name), while a whole certificate takes four to six more READ BINARY commands, tens of
milliseconds each on a real reader. So only the start of the file is read, and walked
here far enough to reach the dates; nothing in it is trusted for more than that.
"""

from __future__ import annotations

import datetime as dt

from .errors import CardDataError

_SEQUENCE, _INTEGER, _VERSION = 0x30, 0x02, 0xA0
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18


class NeedMore(Exception):
    """The dates lie beyond the bytes read so far."""


def _element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the value, its length) of the DER element at `pos`."""
    if pos + 2 > len(data):
        raise NeedMore
    tag, first = data[pos], data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, first
    count = first & 0x7F
    if not 1 <= count <= 3:
        raise CardDataError("certificate length not DER")
    if pos + 2 + count > len(data):
        raise NeedMore
    return tag, pos + 2 + count, int.from_bytes(data[pos + 2 : pos + 2 + count], "big")


def _time(tag: int, value: bytes) -> dt.date:
    try:
        text = value.decode("ascii")
        if tag == _UTC_TIME:  # YYMMDDhhmmssZ; RFC 5280: 50-99 are 1950-1999
            year = int(text[:2])
            return dt.date(1900 + year if year >= 50 else 2000 + year, int(text[2:4]), int(text[4:6]))
        if tag == _GENERALIZED_TIME:  # YYYYMMDDhhmmssZ
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except (UnicodeDecodeError, ValueError):
        pass
    raise CardDataError("certificate validity is not a time")


def validity(prefix: bytes) -> tuple[dt.date, dt.date]:
    """(not before, not after) of the certificate that starts with `prefix`. Raises NeedMore
    when the dates lie beyond it, CardDataError when it is no certificate."""
    tag, pos, _ = _element(prefix, 0)  # Certificate
    tag_tbs, pos, _ = _element(prefix, pos)  # TBSCertificate
    if tag != _SEQUENCE or tag_tbs != _SEQUENCE:
        raise CardDataError("not a certificate")
    tag, start, length = _element(prefix, pos)
    if tag == _VERSION:
        pos = start + length
        tag, start, length = _element(prefix, pos)
    if tag != _INTEGER:
        raise CardDataError("certificate has no serial number")
    pos = start + length
    for what in ("signature algorithm", "issuer"):
        tag, start, length = _element(prefix, pos)
        if tag != _SEQUENCE:
            raise CardDataError(f"certificate has no {what}")
        pos = start + length
    tag, pos, _ = _element(prefix, pos)  # Validity
    if tag != _SEQUENCE:
        raise CardDataError("certificate has no validity")
    dates = []
    for _ in range(2):
        tag, start, length = _element(prefix, pos)
        if start + length > len(prefix):
            raise NeedMore
        dates.append(_time(tag, prefix[start : start + length]))
        pos = start + length
    return dates[0], dates[1]
