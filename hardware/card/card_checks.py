"""What the kiosk checks on a card after its check screen is shown: whether the data is
genuine (the register's signatures, against the site's trust anchors), whether the photo
matches its hash, and which certificates the card carries until when. None of it needs a
PIN, and none of it holds the citizen up: the check screen waits only for the identity,
address and card data (card_reading), and this verdict follows.

The photo is read to be hashed and then dropped: it is never kept, shown or logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509

from . import authenticity, certificates
from .apdu import CardChannel
from .errors import CardDataError, CardStatusError
from .files import (
    ADDRESS_SIGNATURE,
    AUTHENTICATION_CERTIFICATE,
    IDENTITY_SIGNATURE,
    PHOTO_FILE,
    REGISTER_CERTIFICATE,
    SIGNING_CERTIFICATE,
    FilePath,
)
from .residence_card import PHOTO_HASH
from .tlv import parse_tlv

FILE_NOT_FOUND = 0x6A82
# The first chunk holds a certificate's dates (certificates.py); more only if it does not.
CERTIFICATE_PREFIX = 252


class Authenticity(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    NOT_CHECKED = "not_checked"  # no trust anchor configured, or the card left too soon


class PhotoCheck(StrEnum):
    MATCHES = "matches"
    DIFFERS = "differs"
    NOT_CHECKED = "not_checked"


class CertificateKind(StrEnum):
    AUTHENTICATION = "authentication"
    SIGNING = "signing"


@dataclass(frozen=True)
class Certificate:
    kind: CertificateKind
    valid_from: dt.date
    valid_until: dt.date

    def to_dict(self) -> dict:
        return {
            "kind": str(self.kind),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
        }


@dataclass(frozen=True)
class CardChecks:
    authenticity: Authenticity
    photo: PhotoCheck
    certificates: tuple[Certificate, ...] | None  # None: not read

    def carries(self, kind: CertificateKind) -> bool | None:
        """Whether the card carries that certificate; None when that is not known."""
        if self.certificates is None:
            return None
        return any(c.kind == kind for c in self.certificates)

    def to_dict(self) -> dict:
        return {
            "authenticity": str(self.authenticity),
            "photo": str(self.photo),
            "certificates": None if self.certificates is None else [c.to_dict() for c in self.certificates],
        }


# The card left the reader (or the read failed) before the verdict was complete.
NOT_CHECKED = CardChecks(Authenticity.NOT_CHECKED, PhotoCheck.NOT_CHECKED, None)


def _read(channel: CardChannel, path: FilePath, prefix: int | None = None) -> bytes | None:
    """The file, or None when the card has no such file."""
    try:
        channel.select(path)
    except CardStatusError as error:
        if error.sw == FILE_NOT_FOUND:
            return None
        raise
    return channel.read_binary(prefix=prefix)


def read_certificates(channel: CardChannel) -> tuple[Certificate, ...]:
    """The certificates the card carries, with their dates, from the start of their files."""
    found = []
    for kind, path in (
        (CertificateKind.AUTHENTICATION, AUTHENTICATION_CERTIFICATE),
        (CertificateKind.SIGNING, SIGNING_CERTIFICATE),
    ):
        data = _read(channel, path, prefix=CERTIFICATE_PREFIX)
        # an empty file (all zeros or never written) is no certificate either
        while data and data.strip(b"\x00\xff"):
            try:
                valid_from, valid_until = certificates.validity(data)
            except certificates.NeedMore:
                more = channel.read_binary(prefix=len(data) + CERTIFICATE_PREFIX)
                if len(more) <= len(data):
                    break  # the file ends before the dates: no certificate
                data = more
                continue
            except CardDataError:
                break
            found.append(Certificate(kind, valid_from, valid_until))
            break
    return tuple(found)


def _genuine(
    channel: CardChannel,
    identity: bytes,
    address: bytes,
    photo_hash: bytes,
    anchors: Sequence[x509.Certificate],
    issued_on: dt.date,
) -> Authenticity:
    if not anchors:
        return Authenticity.NOT_CHECKED
    try:
        register = _read(channel, REGISTER_CERTIFICATE)
        key = None if register is None else authenticity.register_key(register, anchors, issued_on)
        if key is None:
            return Authenticity.INVALID  # no read costs more once this fails
        identity_signature = _read(channel, IDENTITY_SIGNATURE)
        address_signature = _read(channel, ADDRESS_SIGNATURE)
    except (CardStatusError, CardDataError):
        return Authenticity.INVALID  # a genuine card has every one of these files
    if identity_signature is None or address_signature is None:
        return Authenticity.INVALID
    signed = authenticity.data_signed(key, identity, identity_signature, address, address_signature, photo_hash)
    return Authenticity.VALID if signed else Authenticity.INVALID


def _photo(channel: CardChannel, photo_hash: bytes) -> PhotoCheck:
    try:
        photo = _read(channel, PHOTO_FILE)
    except (CardStatusError, CardDataError):
        photo = None
    # a card that cannot show the photo its identity file names does not match it
    return PhotoCheck.MATCHES if photo and authenticity.photo_matches(photo, photo_hash) else PhotoCheck.DIFFERS


def read_card_checks(
    channel: CardChannel,
    identity: bytes,
    address: bytes,
    *,
    anchors: Sequence[x509.Certificate],
    issued_on: dt.date,
) -> CardChecks:
    """Read and check; `identity` and `address` are the files as read for the check screen,
    `issued_on` the card's validity begin. Errors of the connection itself (card pulled)
    are the caller's; a card's refusals count against it."""
    try:
        photo_hash = parse_tlv(identity, {PHOTO_HASH}).get(PHOTO_HASH, b"")
    except CardDataError:
        photo_hash = b""
    try:
        found = read_certificates(channel)
    except (CardStatusError, CardDataError):
        found = ()
    verdict = _genuine(channel, identity, address, photo_hash, anchors, issued_on)
    photo = _photo(channel, photo_hash) if photo_hash else PhotoCheck.DIFFERS
    return CardChecks(verdict, photo, found)
