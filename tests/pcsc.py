"""A real pcscd with vsmartcard's virtual reader, and virtual residence cards for it.

Shared by the card reader tests and the kiosk's end-to-end test through PC/SC.
"""

import importlib.util
import os

import pytest

from hardware.card.fake_cards import fake_cards
from hardware.card.pcscd import Pcscd, PcscdError, wait_for_reader
from hardware.card.virtual_card import VirtualCard
from tests.system import missing, require_debian_packages

VIRTUAL_READER = "Virtual PCD 00 00"  # the reader on the vpcd port itself (the other is port + 1)


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
