"""Fixtures for the card reader tests: scripted connections for the APDU layer, and a
real pcscd with vsmartcard's virtual reader for the PC/SC path."""
import importlib.util
import os

import pytest

from hardware.card.fake_cards import fake_cards
from hardware.card.pcscd import Pcscd, PcscdError, wait_for_reader
from hardware.card.virtual_card import VirtualCard
from tests.system import missing, require_debian_packages

VIRTUAL_READER = "Virtual PCD 00 00"  # the reader on the vpcd port itself (the other is port + 1)


class ScriptedConnection:
    """Plays a card from a script of (expected command, response) pairs, and fails the
    test on any command that is not the next one expected."""

    def __init__(self, script: list[tuple[str, str]]):
        self.script = [(bytes.fromhex(command), bytes.fromhex(response)) for command, response in script]
        self.sent: list[bytes] = []

    def transmit(self, apdu: list[int]):
        command = bytes(apdu)
        self.sent.append(command)
        assert self.script, f"unexpected extra command {command.hex()}"
        expected, response = self.script.pop(0)
        assert command.hex() == expected.hex()
        return list(response[:-2]), response[-2], response[-1]

    def assert_done(self):
        assert not self.script, f"{len(self.script)} scripted commands were never sent"


@pytest.fixture
def scripted_channel():
    """channel(script) -> (CardChannel, ScriptedConnection)"""
    from hardware.card.apdu import CardChannel

    def make(script):
        connection = ScriptedConnection(script)
        return CardChannel(connection), connection

    return make


@pytest.fixture(scope="session")
def cards():
    return fake_cards()


@pytest.fixture(scope="session")
def pcscd_daemon():
    require_debian_packages("pcscd", "vsmartcard-vpcd")
    if os.geteuid() != 0:
        missing("pcscd with the vpcd driver must be started as root")
    if importlib.util.find_spec("smartcard") is None:
        missing("pyscard is not installed (pip install -e '.[pcsc]')")
    daemon = Pcscd()
    try:
        daemon.start()
    except PcscdError as error:
        missing(f"cannot start pcscd: {error}")
    yield daemon
    daemon.stop()


@pytest.fixture
def pcscd(pcscd_daemon):
    """A running pcscd (a test before may have stopped it)."""
    pcscd_daemon.start()
    return pcscd_daemon


@pytest.fixture
def virtual_reader():
    return VIRTUAL_READER


@pytest.fixture
def reader_service(pcscd):
    from hardware.card.pcsc_service import PcscReaderService

    service = PcscReaderService(reader_filter=VIRTUAL_READER)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def virtual_card(cards, pcscd):
    """Make virtual cards (not inserted until asked); all are removed after the test."""
    made = []

    def make(card_id: str, **options) -> VirtualCard:
        card = VirtualCard(cards[card_id], port=pcscd.vpcd_port, **options).start(inserted=False)
        made.append(card)
        return card

    yield make
    for card in made:
        card.stop()
    if pcscd.running:
        # pcscd must have seen the card leave, or the next test finds it in the reader
        wait_for_reader(VIRTUAL_READER, present=False)
