"""Is the card's data what the national register signed? As the Belgian eID middleware's
viewer checks it, with the `cryptography` library:

- the register's certificate on the card (3F00/DF00/503C) must be issued by one of the
  trust anchors the site configures (the Belgian root certificates). The root certificate
  the card carries itself proves nothing (anyone can put a root on a card), so it is not
  read: the anchor checks the register's certificate directly;
- the identity file's signature (4032) is over the identity file as read;
- the address signature (4034) is over the address file without its trailing zero bytes,
  followed by the identity signature file (the published document says otherwise; the
  middleware follows the cards);
- RSA cards (applet 1.7) sign with the digest that the length of the photo hash names
  (20 bytes SHA-1, 32 SHA-256, 48 SHA-384); some re-signed cards keep a SHA-1 photo hash
  under SHA-256 signatures. EC cards (applet 1.8) always use SHA-384, with DER signatures
  in files that may be longer than the signature;
- the photo (4035) hashed with the photo hash's digest equals the identity's tag 0x11.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

_PHOTO_DIGESTS: dict[int, type[hashes.HashAlgorithm]] = {20: hashes.SHA1, 32: hashes.SHA256, 48: hashes.SHA384}

RegisterKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class TrustAnchorError(ValueError):
    """A trust anchor file cannot be used; the message says why (no certificate, unreadable)."""


def load_trust_anchors(paths: Iterable[str | Path]) -> tuple[x509.Certificate, ...]:
    """The root certificates in PEM files (one or more per file)."""
    anchors: list[x509.Certificate] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise TrustAnchorError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            found = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise TrustAnchorError(f"{path} holds no PEM certificate") from None
        anchors.extend(found)
    return tuple(anchors)


def register_key(certificate_der: bytes, anchors: Sequence[x509.Certificate], issued_on: dt.date) -> RegisterKey | None:
    """The register's public key when its certificate comes from a trust anchor, else None.

    Its validity is checked on the day the card was issued, not today: the register signed
    the card then, and a card stays genuine when that certificate later runs out."""
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        return None
    issued_by_anchor = False
    for anchor in anchors:
        if anchor.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(anchor)
        except (ValueError, TypeError, InvalidSignature):
            continue
        issued_by_anchor = True
        break
    valid = certificate.not_valid_before_utc.date() <= issued_on <= certificate.not_valid_after_utc.date()
    key = certificate.public_key()
    if not (issued_by_anchor and valid and isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey)):
        return None
    return key


def der_signature(data: bytes) -> bytes:
    """An EC signature file's DER value, without what follows it in the file."""
    if len(data) < 2 or data[0] != 0x30:
        return data  # not DER: verification fails on it as it is
    if data[1] < 0x80:
        return data[: 2 + data[1]]
    count = data[1] & 0x7F
    if not 1 <= count <= 2 or len(data) < 2 + count:
        return data
    return data[: 2 + count + int.from_bytes(data[2 : 2 + count], "big")]


def _verifies(key: RegisterKey, signature: bytes, data: bytes, digest: hashes.HashAlgorithm) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(der_signature(signature), data, ec.ECDSA(hashes.SHA384()))
        else:
            key.verify(signature, data, padding.PKCS1v15(), digest)
    except (InvalidSignature, ValueError):
        return False
    return True


def data_signed(
    key: RegisterKey,
    identity: bytes,
    identity_signature: bytes,
    address: bytes,
    address_signature: bytes,
    photo_hash: bytes,
) -> bool:
    """Both the identity and the address file are as the register signed them."""
    digests: list[hashes.HashAlgorithm] = [hashes.SHA384()]
    if isinstance(key, rsa.RSAPublicKey):
        kind = _PHOTO_DIGESTS.get(len(photo_hash))
        if kind is None:
            return False
        digests = [kind(), hashes.SHA256()] if kind is hashes.SHA1 else [kind()]
    for digest in digests:
        if _verifies(key, identity_signature, identity, digest):
            signed_address = address.rstrip(b"\x00") + identity_signature
            return _verifies(key, address_signature, signed_address, digest)
    return False


def photo_matches(photo: bytes, photo_hash: bytes) -> bool:
    kind = _PHOTO_DIGESTS.get(len(photo_hash))
    if kind is None:
        return False
    digest = hashes.Hash(kind())
    digest.update(photo)
    return hmac.compare_digest(digest.finalize(), photo_hash)
