"""Fixtures for the card reader tests: scripted connections for the APDU layer, and a
real pcscd with vsmartcard's virtual reader for the PC/SC path."""

import pytest

from tests.pcsc import VIRTUAL_READER


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


@pytest.fixture
def reader_service(pcscd):
    from hardware.card.pcsc_service import PcscReaderService

    service = PcscReaderService(reader_filter=VIRTUAL_READER)
    service.start()
    yield service
    service.stop()
