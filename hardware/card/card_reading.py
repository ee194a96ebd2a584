"""Reading a residence card: identity file, address file and card data (never the
photo, never the PIN)."""

from dataclasses import dataclass

from .apdu import ADDRESS_FILE, IDENTITY_FILE, MF, CardChannel, Connection
from .errors import CardStatusError, NotAnEidCard
from .residence_card import ResidenceCard, parse_residence_card

# Status words with which a card says it has no such command or identity file: not an eID.
_NOT_EID = {0x6A82, 0x6A86, 0x6A81, 0x6D00, 0x6E00}
# Refusing to select the eID's directories at all (wrong length 67xx, not allowed 69xx,
# wrong parameters or not found 6Axx/6Bxx) is another card too. 6Fxx says nothing: unreadable.
_DIRECTORY_SELECTS = {f"SELECT {fid:04X}" for fid in (MF, IDENTITY_FILE[0])}
_REFUSED = {0x67, 0x69, 0x6A, 0x6B}


def _not_an_eid(error: CardStatusError) -> bool:
    if error.command in _DIRECTORY_SELECTS and error.sw >> 8 in _REFUSED:
        return True
    return error.sw in _NOT_EID


@dataclass(frozen=True)
class CardFiles:
    identity: bytes
    address: bytes
    card_data: bytes


def read_card_files(channel: CardChannel) -> CardFiles:
    try:
        channel.select(IDENTITY_FILE)
    except CardStatusError as error:
        if _not_an_eid(error):
            raise NotAnEidCard(error.command, error.sw) from None
        raise
    identity = channel.read_binary()
    channel.select(ADDRESS_FILE)
    address = channel.read_binary()
    return CardFiles(identity, address, channel.get_card_data())


def read_residence_card(connection: Connection) -> ResidenceCard:
    """Raises NotAnEidCard, CardStatusError, CardDataError, or the connection's own
    errors (card removed...)."""
    files = read_card_files(CardChannel(connection))
    return parse_residence_card(files.identity, files.address, files.card_data)
