"""The real PC/SC path: pcscd, vsmartcard's vpcd reader and the virtual card."""

import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509

from hardware.card.apdu import CardChannel
from hardware.card.card_checks import NOT_CHECKED, CertificateKind
from hardware.card.card_reading import read_card_files
from hardware.card.fake_register import fake_register
from hardware.card.pcscd import wait_for_reader
from hardware.card.reader_service import ReaderError, ReaderState
from tests.pcsc import VIRTUAL_READER

pytestmark = pytest.mark.pcsc
TIMEOUT = 10  # a card shows up ~0.4 s after it connects to vpcd


def wait_state(service, state, error=None):
    return service.wait_for(lambda s: s.state == state and s.error == error, TIMEOUT)


def _read_line(stream, timeout: float) -> str:
    """A line of a child's output; fails after `timeout` s instead of waiting for ever."""
    deadline = time.monotonic() + timeout
    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise AssertionError(f"no output line within {timeout} s (got {line!r})")
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                raise AssertionError(f"output closed (got {line!r})")
            line += chunk
    return line.decode()


def test_insert_read_remove(reader_service, virtual_card, virtual_reader):
    waiting = wait_state(reader_service, ReaderState.WAITING)
    assert waiting.reader == virtual_reader
    card = virtual_card("adult-f-plus")
    card.insert()
    ready = wait_state(reader_service, ReaderState.READY)
    assert (ready.card.card_type, ready.card.pin_tries_left, ready.card.applet_version) == ("F+", 3, "1.8")
    checked = reader_service.wait_for(lambda s: s.checks is not None, TIMEOUT)
    assert checked.read == ready.read and checked.card == ready.card
    card.remove()
    gone = wait_state(reader_service, ReaderState.WAITING)
    assert gone.card is None and gone.version > ready.version


def test_card_pulled_in_the_middle_of_a_read(reader_service, virtual_card):
    wait_state(reader_service, ReaderState.WAITING)
    virtual_card("type-h", remove_after_apdus=3).insert()  # leaves while reading the identity file
    wait_state(reader_service, ReaderState.ERROR, ReaderError.REMOVED_DURING_READ)
    # and the next card is read as usual
    virtual_card("type-m").insert()
    assert wait_state(reader_service, ReaderState.READY).card.card_type == "M"


@pytest.mark.parametrize(
    "card_id, message_part",
    [("not-eid", "not an identity or residence card"), ("belgian-eid", "Belgian eID")],
)
def test_cards_that_are_not_residence_cards(reader_service, virtual_card, card_id, message_part):
    wait_state(reader_service, ReaderState.WAITING)
    card = virtual_card(card_id)
    card.insert()
    error = wait_state(reader_service, ReaderState.ERROR, ReaderError.NOT_RESIDENCE_CARD)
    assert message_part in error.message and error.card is None
    card.remove()
    wait_state(reader_service, ReaderState.WAITING)


def test_old_applet_through_pcsc(reader_service, virtual_card):
    virtual_card("old-applet").insert()
    card = wait_state(reader_service, ReaderState.READY).card
    assert (card.card_type, card.applet_version, card.pin_tries_left) == ("A", "1.7", None)


def test_pcscd_restart_while_a_card_is_in(reader_service, virtual_card, pcscd):
    virtual_card("minor-17").insert()
    wait_state(reader_service, ReaderState.READY)
    pcscd.stop()
    down = wait_state(reader_service, ReaderState.ERROR, ReaderError.PCSC_DOWN)
    assert down.card is None  # no one's data stays on screen
    pcscd.start()
    assert wait_state(reader_service, ReaderState.READY).card.card_type == "EU+"


def test_pcscd_restart_without_a_card(reader_service, pcscd):
    wait_state(reader_service, ReaderState.WAITING)
    pcscd.stop()
    wait_state(reader_service, ReaderState.ERROR, ReaderError.PCSC_DOWN)
    pcscd.start()
    wait_state(reader_service, ReaderState.WAITING)


def test_service_started_while_pcscd_is_down(pcscd, virtual_reader):
    from hardware.card.pcsc_service import PcscReaderService

    pcscd.stop()
    service = PcscReaderService(reader_filter=virtual_reader)
    service.start()
    try:
        wait_state(service, ReaderState.ERROR, ReaderError.PCSC_DOWN)
        pcscd.start()
        wait_state(service, ReaderState.WAITING)
    finally:
        service.stop()
    assert service.snapshot().state == ReaderState.NO_READER


def test_reader_filter_matching_no_reader(pcscd):
    from hardware.card.pcsc_service import PcscReaderService

    service = PcscReaderService(reader_filter="No such reader")
    service.start()
    try:
        wait_state(service, ReaderState.NO_READER)
        assert service.snapshot().message != ""
    finally:
        service.stop()


def test_reading_counts_seven_apdus_and_pin_tries_cost_nothing(pcscd, virtual_card, virtual_reader):
    from smartcard import scard

    from hardware.card.pcsc_service import connect_card

    virtual_card("adult-f-plus").insert()
    wait_for_reader(virtual_reader, present=True)
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert result == scard.SCARD_S_SUCCESS
    try:
        with connect_card(scard, context, virtual_reader) as connection:
            channel = CardChannel(connection)
            files = read_card_files(channel)
            assert channel.apdu_count == 7
            assert files.card_data[28] == 3
            assert channel.verify_pin("0000").tries_left == 2
            assert channel.get_card_data()[28] == 2
    finally:
        scard.SCardReleaseContext(context)


def test_virtual_card_command_line(reader_service, pcscd):
    wait_state(reader_service, ReaderState.WAITING)
    process = subprocess.Popen(
        [sys.executable, "-m", "hardware.card.virtual_card", "--card", "type-l", "--port", str(pcscd.vpcd_port)],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
    )
    try:
        assert "type-l" in _read_line(process.stdout, TIMEOUT)
        assert wait_state(reader_service, ReaderState.READY).card.card_type == "L"
    finally:
        process.terminate()
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=TIMEOUT)
            raise
        finally:
            process.stdout.close()
    assert process.returncode == 0
    wait_state(reader_service, ReaderState.WAITING)


# --- the card's checks, after the check screen can show ------------------------------------


def test_the_check_screen_needs_only_seven_commands(reader_service, virtual_card):
    """A card pulled right after the seventh command is still shown: its checks come later,
    and are "not checked" when the card left before them."""
    wait_state(reader_service, ReaderState.WAITING)
    virtual_card("adult-f-plus", remove_after_apdus=7).insert()
    shown = reader_service.wait_for(lambda s: s.state == ReaderState.READY and s.checks is not None, TIMEOUT)
    assert shown.card.card_type == "F+" and shown.checks == NOT_CHECKED
    wait_state(reader_service, ReaderState.WAITING)


@pytest.fixture
def checking_service(pcscd):
    from hardware.card.pcsc_service import PcscReaderService

    anchors = x509.load_pem_x509_certificates(fake_register().trust_anchors_pem())
    service = PcscReaderService(reader_filter=VIRTUAL_READER, trust_anchors=anchors)
    service.start()
    yield service
    service.stop()


@pytest.mark.parametrize(
    "card_id, verdict",
    [
        ("adult-f-plus", ("valid", "matches")),
        ("old-applet", ("valid", "matches")),  # RSA, one file id per SELECT
        ("tampered-identity", ("invalid", "matches")),
        ("tampered-address", ("invalid", "matches")),
        ("other-root", ("invalid", "matches")),
        ("photo-differs", ("valid", "differs")),
    ],
)
def test_each_card_s_verdict_through_pcscd(checking_service, virtual_card, card_id, verdict):
    wait_state(checking_service, ReaderState.WAITING)
    card = virtual_card(card_id)
    card.insert()
    checked = checking_service.wait_for(lambda s: s.checks is not None, TIMEOUT)
    assert (checked.state, str(checked.checks.authenticity), str(checked.checks.photo)) == (ReaderState.READY, *verdict)
    assert checked.checks.carries(CertificateKind.SIGNING)
    card.remove()
    wait_state(checking_service, ReaderState.WAITING)


def test_a_pcscd_in_another_mount_namespace_is_no_rival(pcscd, tmp_path):
    """A container's pcscd (the install test boots one) has a /run/pcscd of its own; ours
    starts beside it, and only a pcscd sharing our socket counts as another."""
    from hardware.card.pcscd import pcscd_pids
    from tests.system import stop_group, wait_until

    pcscd.stop()
    config = tmp_path / "reader.conf.d"
    config.mkdir()
    script = f"mkdir -p /run/pcscd && mount -t tmpfs none /run/pcscd && exec pcscd --foreground --config {config}"
    other = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], start_new_session=True
    )
    try:
        elsewhere = wait_until(lambda: _pcscd_child_of(other.pid), timeout=10, what="the other namespace's pcscd")
        assert elsewhere not in pcscd_pids()
        pcscd.start()
        wait_for_reader(VIRTUAL_READER, present=False, timeout=TIMEOUT)
        assert pcscd_pids() and elsewhere not in pcscd_pids()
    finally:
        stop_group(other)


def _pcscd_child_of(pid: int) -> int | None:
    """The pcscd that `pid` became (exec) or started."""
    from tests.system import processes

    return next((own for own, name, parent in processes() if name == "pcscd" and pid in (own, parent)), None)
