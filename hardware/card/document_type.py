"""Document types (identity file tag 0F): which card this is, and whether it is a
residence card (the kiosk's citizens) rather than a Belgian's card."""

from dataclasses import dataclass

from .errors import CardDataError


@dataclass(frozen=True)
class DocumentType:
    code: int
    label: str  # the letter printed on residence cards ("F+", "EU"), else a name
    is_residence_card: bool
    is_kids_card: bool = False


def _residence(code: int, label: str, kids: bool = False) -> DocumentType:
    return DocumentType(code, label, is_residence_card=True, is_kids_card=kids)


_KNOWN = [
    DocumentType(1, "Belgian eID", is_residence_card=False),
    DocumentType(6, "Kids-ID", is_residence_card=False, is_kids_card=True),
    DocumentType(7, "Bootstrap card", is_residence_card=False),
    DocumentType(8, "Habilitation card", is_residence_card=False),
    *(
        _residence(code, label)
        for code, label in [
            (11, "A"), (12, "B"), (13, "C"), (14, "D"), (15, "E"), (16, "E+"), (17, "F"),
            (18, "F+"), (19, "H"), (20, "I"), (21, "J"), (22, "M"), (23, "N"), (27, "K"),
            (28, "L"), (31, "EU"), (32, "EU+"), (33, "A"), (34, "B"), (35, "F"), (36, "F+"),
        ]
    ),
    *(
        _residence(61 + offset, label, kids=True)
        for offset, label in enumerate(["EU", "EU+", "A", "B", "K", "L", "F", "F+", "M"])
    ),
]  # fmt: skip
DOCUMENT_TYPES: dict[int, DocumentType] = {t.code: t for t in _KNOWN}


def document_type(code: int) -> DocumentType:
    """The type for a code; unknown codes (a future card) are not treated as residence cards."""
    return DOCUMENT_TYPES.get(code) or DocumentType(code, f"type {code}", is_residence_card=False)


def parse_document_type(text: str) -> DocumentType:
    """ "36", or "01"–"09" with a leading zero."""
    text = text.strip()
    if not (1 <= len(text) <= 2 and text.isascii() and text.isdigit()):
        raise CardDataError("document type is not a number")
    return document_type(int(text))
