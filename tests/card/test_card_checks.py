"""The card's checks: the register's signatures against the trust anchors, the photo against
its hash, the certificates' dates from the start of their files; on the fake cards, read
through the emulated applet, and on files made here for the cases no fake card covers."""

import dataclasses
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hardware.card import authenticity, certificates
from hardware.card.apdu import CardChannel
from hardware.card.card_checks import (
    NOT_CHECKED,
    Authenticity,
    CertificateKind,
    PhotoCheck,
    read_card_checks,
    read_certificates,
)
from hardware.card.eid_applet import EidApplet
from hardware.card.errors import CardDataError
from hardware.card.fake_cards import card_files, fake_cards
from hardware.card.fake_register import Signer, _issue, _register, fake_register
from hardware.card.files import IDENTITY_FILE, IDENTITY_SIGNATURE, REGISTER_CERTIFICATE
from hardware.card.reader_service import check_outcome, read_outcome

TODAY = dt.date(2026, 11, 24)
CARDS = fake_cards(TODAY)


@pytest.fixture(scope="module")
def anchors():
    return tuple(x509.load_pem_x509_certificates(fake_register().trust_anchors_pem()))


def checked(card_id, anchors, today=TODAY):
    applet = EidApplet(fake_cards(today)[card_id])
    return check_outcome(applet, read_outcome(applet), anchors)


@pytest.mark.parametrize("card_id", ["adult-f-plus", "minor-17", "expired", "type-l", "issued-2017", "turned-18"])
def test_a_genuine_ec_card_is_valid_and_its_photo_matches(card_id, anchors):
    checks = checked(card_id, anchors)
    assert (checks.authenticity, checks.photo) == (Authenticity.VALID, PhotoCheck.MATCHES)


def test_a_genuine_rsa_card_with_a_sha1_photo_hash_is_valid(anchors):
    # applet 1.7, SHA-1 photo hash under SHA-256 signatures (the re-signed cards)
    checks = checked("old-applet", anchors)
    assert (checks.authenticity, checks.photo) == (Authenticity.VALID, PhotoCheck.MATCHES)


@pytest.mark.parametrize("card_id", ["tampered-identity", "tampered-address", "other-root"])
def test_tampered_data_or_another_root_is_invalid(card_id, anchors):
    checks = checked(card_id, anchors)
    assert checks.authenticity == Authenticity.INVALID
    assert checks.photo == PhotoCheck.MATCHES  # the photo is a separate verdict


def test_a_photo_that_does_not_match_its_hash(anchors):
    checks = checked("photo-differs", anchors)
    assert (checks.authenticity, checks.photo) == (Authenticity.VALID, PhotoCheck.DIFFERS)


def test_without_trust_anchors_the_data_is_not_checked_but_the_photo_is():
    assert checked("adult-f-plus", ()).authenticity == Authenticity.NOT_CHECKED
    assert checked("tampered-identity", ()).authenticity == Authenticity.NOT_CHECKED
    assert checked("photo-differs", ()).photo == PhotoCheck.DIFFERS
    # and not a command is spent on signatures or the register's certificate
    applet = EidApplet(CARDS["adult-f-plus"])
    channel = CardChannel(applet)
    outcome = read_outcome(applet)
    read_card_checks(channel, outcome.files.identity, outcome.files.address, anchors=(), issued_on=TODAY)
    assert channel.apdu_count == 4 + 14  # two certificates' dates, then the photo


def test_the_card_s_own_root_is_no_trust_anchor(anchors):
    # the other root on the card signed its register: trusting what a card brings proves nothing
    files = card_files(CARDS["other-root"])
    own_root = x509.load_der_x509_certificate(files[(0xDF00, 0x503B)])
    assert checked("other-root", (own_root,)).authenticity == Authenticity.VALID
    assert checked("other-root", anchors).authenticity == Authenticity.INVALID


def test_the_certificates_the_card_carries_and_their_dates(anchors):
    card = CARDS["adult-no-signing"]
    checks = checked("adult-no-signing", anchors)
    assert checks.carries(CertificateKind.AUTHENTICATION) and checks.carries(CertificateKind.SIGNING) is False
    (only,) = checks.certificates
    assert (only.valid_from, only.valid_until) == (card.issued, card.expires)
    assert checked("adult-f-plus", anchors).carries(CertificateKind.SIGNING)
    assert NOT_CHECKED.carries(CertificateKind.SIGNING) is None  # not read: not known


def test_only_the_start_of_a_certificate_is_read():
    channel = CardChannel(EidApplet(CARDS["adult-f-plus"]))
    found = read_certificates(channel)
    assert [c.kind for c in found] == [CertificateKind.AUTHENTICATION, CertificateKind.SIGNING]
    assert channel.apdu_count == 4  # SELECT and one READ BINARY each, of files of ~500 bytes


def test_a_missing_certificate_leaves_the_path_form_of_select_in_use():
    channel = CardChannel(EidApplet(CARDS["adult-no-signing"]))
    read_certificates(channel)
    # 5038: select + read; 5039: path select refused (not found), then MF, DF00, 5039 one at a time
    assert channel.apdu_count == 2 + 4
    assert channel._path_select  # the next file is still selected in one command


# --- the pure checks, on files made here ---------------------------------------------------


def test_certificate_dates_from_a_prefix_and_more_needed_when_cut_short():
    der = card_files(CARDS["adult-f-plus"])[(0xDF00, 0x5038)]
    assert certificates.validity(der[:252]) == (CARDS["adult-f-plus"].issued, CARDS["adult-f-plus"].expires)
    with pytest.raises(certificates.NeedMore):
        certificates.validity(der[:40])
    with pytest.raises(CardDataError):
        certificates.validity(b"\x04\x03abc" + bytes(40))


def test_certificate_dates_in_both_time_forms():
    key = ec.generate_private_key(ec.SECP256R1())
    for year in (2049, 2050, 2051):  # UTCTime up to 2049, GeneralizedTime from 2050
        made = _issue(
            "t", key.public_key(), None, key, ca=False,
            not_before=dt.datetime(2020, 1, 2, tzinfo=dt.UTC), not_after=dt.datetime(year, 3, 4, tzinfo=dt.UTC),
        )  # fmt: skip
        der = made.public_bytes(serialization.Encoding.DER)
        assert certificates.validity(der) == (dt.date(2020, 1, 2), dt.date(year, 3, 4))


def test_an_ec_signature_file_longer_than_its_signature():
    files = card_files(CARDS["adult-f-plus"])
    signature = files[IDENTITY_SIGNATURE]
    der = authenticity.der_signature(signature)
    # a DER ECDSA P-384 signature takes 102 to 104 bytes: the file is as long as the longest
    assert len(der) == 2 + der[1] <= len(signature) == 104 and not any(signature[len(der) :])
    assert authenticity.der_signature(der + bytes(6)) == der
    long_form = b"\x30\x81\x03abc"
    assert authenticity.der_signature(long_form + b"\x00\x00") == long_form


def test_rsa_signatures_follow_the_photo_hash_length():
    register = fake_register().rsa_register
    key = register.certificate.public_key()
    identity, address = b"\x01\x02identity", b"\x01\x02address" + bytes(20)
    for digest, photo_hash in ((hashes.SHA1(), bytes(20)), (hashes.SHA256(), bytes(32)), (hashes.SHA384(), bytes(48))):
        identity_signature = register.sign(identity, digest)
        address_signature = register.sign(address.rstrip(b"\x00") + identity_signature, digest)
        assert authenticity.data_signed(key, identity, identity_signature, address, address_signature, photo_hash)
        # the documented form (zero bytes kept) is not what the register signs
        kept = register.sign(address + identity_signature, digest)
        assert not authenticity.data_signed(key, identity, identity_signature, address, kept, photo_hash)
    # a photo hash of no known length names no digest
    assert not authenticity.data_signed(key, identity, identity_signature, address, address_signature, bytes(16))


def test_the_register_certificate_must_have_been_valid_when_the_card_was_issued(anchors):
    root = fake_register().ec_root
    key = ec.generate_private_key(ec.SECP384R1())
    old = Signer(
        key,
        _issue("RRN", key.public_key(), root, root.key, ca=False,
               not_before=dt.datetime(2010, 1, 1, tzinfo=dt.UTC), not_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
    )  # fmt: skip
    assert authenticity.register_key(old.der, anchors, dt.date(2015, 6, 1)) is not None
    assert authenticity.register_key(old.der, anchors, dt.date(2021, 6, 1)) is None  # issued after it ran out
    assert authenticity.register_key(b"not a certificate", anchors, dt.date(2015, 6, 1)) is None
    stranger = _register("RRN", ec.generate_private_key(ec.SECP384R1()), fake_register().other_root)
    assert authenticity.register_key(stranger.der, anchors, TODAY) is None


def test_a_card_missing_its_register_certificate_is_invalid(anchors):
    card = CARDS["adult-f-plus"]
    files = dict(card_files(card))
    del files[REGISTER_CERTIFICATE]
    applet = EidApplet(card)
    applet._files = {(0x3F00, *path): content for path, content in files.items()}
    assert check_outcome(applet, read_outcome(applet), anchors).authenticity == Authenticity.INVALID


def test_the_identity_as_read_is_what_is_verified(anchors):
    card = CARDS["adult-f-plus"]
    outcome = read_outcome(EidApplet(card))
    assert outcome.files.identity == card_files(card)[IDENTITY_FILE]
    changed = dataclasses.replace(outcome.files, identity=outcome.files.identity.replace(b"Alex", b"Alax"))
    checks = check_outcome(EidApplet(card), dataclasses.replace(outcome, files=changed), anchors)
    assert checks.authenticity == Authenticity.INVALID


def test_trust_anchor_files(tmp_path):
    roots = tmp_path / "roots.pem"
    roots.write_bytes(fake_register().trust_anchors_pem())
    assert len(authenticity.load_trust_anchors([roots])) == 2
    (tmp_path / "empty.pem").write_text("no certificate here\n")
    with pytest.raises(authenticity.TrustAnchorError, match="holds no PEM certificate"):
        authenticity.load_trust_anchors([tmp_path / "empty.pem"])
    with pytest.raises(authenticity.TrustAnchorError, match="cannot read"):
        authenticity.load_trust_anchors([tmp_path / "missing.pem"])
