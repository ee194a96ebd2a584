"""Reading residence cards (the Belgian eID applet) through PC/SC, and the simulated and
virtual cards used for the demo and tests. No Flask, no database."""

from .apdu import CardChannel, PinCheck
from .card_reading import CardFiles, read_card_files, read_residence_card
from .dates import BirthDate
from .document_type import DocumentType, document_type
from .errors import CardDataError, CardStatusError, NotAnEidCard
from .fake_cards import FakeCard, fake_cards
from .national_number import format_national_number, is_valid_national_number, mask_national_number
from .reader_service import ReaderError, ReaderService, ReaderSnapshot, ReaderState
from .residence_card import Address, ResidenceCard, parse_residence_card
from .service_factory import make_reader_service
from .simulated_service import SimulatedReaderService

__all__ = [
    "Address", "BirthDate", "CardChannel", "CardDataError", "CardFiles", "CardStatusError",
    "DocumentType", "FakeCard", "NotAnEidCard", "PinCheck", "ReaderError", "ReaderService",
    "ReaderSnapshot", "ReaderState", "ResidenceCard", "SimulatedReaderService", "document_type", "fake_cards",
    "format_national_number", "is_valid_national_number", "make_reader_service",
    "mask_national_number", "parse_residence_card", "read_card_files", "read_residence_card",
]  # fmt: skip
