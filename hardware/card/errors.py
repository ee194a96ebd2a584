"""Errors raised while reading a card."""


class CardDataError(Exception):
    """The card's files are truncated or malformed. `reason` never holds personal data."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class CardStatusError(Exception):
    """The card answered a command with an unexpected status word."""

    def __init__(self, command: str, sw: int):
        super().__init__(f"{command} failed with status {sw:04X}")
        self.command = command
        self.sw = sw


class NotAnEidCard(CardStatusError):
    """The card has no eID applet files (a bank card, a transport card...)."""
