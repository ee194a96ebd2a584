"""A fake national register for the fake cards: root certificates and register (RRN) keys
made when first needed, in memory, so that simulated and virtual cards carry real
signatures that the kiosk checks exactly as it checks a real card's.

Two roots stand for the Belgian ones: an RSA root for applet 1.7 cards and an EC (P-384)
root for applet 1.8 cards, each with its register certificate. A third root is trusted by
nobody: a card whose register certificate comes from it is not genuine. No key is ever
written anywhere; a program that needs to trust these cards gets the roots' certificates
(`trust_anchors_pem`), never a key.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

# Fixed, wide validity: the fake PKI must not depend on the day a test runs.
_NOT_BEFORE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_NOT_AFTER = dt.datetime(2099, 12, 31, tzinfo=dt.UTC)
# The size of an EC register signature file: the longest DER ECDSA P-384 signature, so
# shorter ones are followed by zero bytes, as the applet's files may be.
EC_SIGNATURE_FILE_SIZE = 104

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Signer:
    key: PrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def is_ec(self) -> bool:
        return isinstance(self.key, ec.EllipticCurvePrivateKey)

    def sign(self, data: bytes, digest: hashes.HashAlgorithm) -> bytes:
        """As the register signs: PKCS#1 v1.5 with RSA, DER ECDSA padded to a fixed file size with EC."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(data, ec.ECDSA(digest)).ljust(EC_SIGNATURE_FILE_SIZE, b"\x00")
        return self.key.sign(data, padding.PKCS1v15(), digest)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fake national register (test only)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _digest(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    return hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) else hashes.SHA256()


def _issue(
    subject: str,
    public_key,
    issuer: Signer | None,
    issuer_key: PrivateKey,
    *,
    ca: bool,
    not_before: dt.datetime = _NOT_BEFORE,
    not_after: dt.datetime = _NOT_AFTER,
    serial: int | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.certificate.subject if issuer else _name(subject))
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    return builder.sign(issuer_key, _digest(issuer_key))


def _root(common_name: str, key: PrivateKey) -> Signer:
    return Signer(key, _issue(common_name, key.public_key(), None, key, ca=True))


def _register(common_name: str, key: PrivateKey, root: Signer) -> Signer:
    return Signer(key, _issue(common_name, key.public_key(), root, root.key, ca=False))


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeRegister:
    def __init__(self) -> None:
        self.rsa_root = _root("Fake Belgium Root CA (RSA)", _rsa_key())
        self.ec_root = _root("Fake Belgium Root CA (EC)", ec.generate_private_key(ec.SECP384R1()))
        self.other_root = _root("Someone else's root", ec.generate_private_key(ec.SECP384R1()))
        self.rsa_register = _register("RRN", _rsa_key(), self.rsa_root)
        self.ec_register = _register("RRN", ec.generate_private_key(ec.SECP384R1()), self.ec_root)
        self.other_register = _register("RRN", ec.generate_private_key(ec.SECP384R1()), self.other_root)
        # the citizens' certificates need a public key; one for all fake citizens will do
        self._citizen_key = ec.generate_private_key(ec.SECP256R1()).public_key()

    def trust_anchors_pem(self) -> bytes:
        """The two roots a kiosk trusts for the fake cards, as a PEM file's content."""
        return b"".join(
            root.certificate.public_bytes(serialization.Encoding.PEM) for root in (self.rsa_root, self.ec_root)
        )

    def citizen_certificate(
        self, kind: str, card_serial: bytes, valid_from: dt.date, valid_until: dt.date, *, ec_card: bool
    ) -> bytes:
        """A certificate as on the card (authentication or signing), DER, valid for the given days."""
        issuer = self.ec_root if ec_card else self.rsa_root
        serial = int.from_bytes(hashlib.sha256(kind.encode() + card_serial).digest()[:8], "big") | 1
        certificate = _issue(
            f"Testperson ({kind})",
            self._citizen_key,
            issuer,
            issuer.key,
            ca=False,
            not_before=dt.datetime.combine(valid_from, dt.time(), dt.UTC),
            not_after=dt.datetime.combine(valid_until, dt.time(23, 59, 59), dt.UTC),
            serial=serial,
        )
        return certificate.public_bytes(serialization.Encoding.DER)


@functools.cache
def fake_register() -> FakeRegister:
    """This process's fake register, made at first use (generating its keys takes a moment)."""
    return FakeRegister()
