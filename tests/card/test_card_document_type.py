import pytest

from hardware.card.document_type import parse_document_type
from hardware.card.errors import CardDataError

RESIDENCE_CARDS = {
    11: "A", 12: "B", 13: "C", 14: "D", 15: "E", 16: "E+", 17: "F", 18: "F+", 19: "H", 20: "I",
    21: "J", 22: "M", 23: "N", 27: "K", 28: "L", 31: "EU", 32: "EU+", 33: "A", 34: "B", 35: "F",
    36: "F+",
}  # fmt: skip
FOREIGN_KIDS_CARDS = {61: "EU", 62: "EU+", 63: "A", 64: "B", 65: "K", 66: "L", 67: "F", 68: "F+", 69: "M"}


@pytest.mark.parametrize("code, label", RESIDENCE_CARDS.items())
def test_residence_cards(code, label):
    kind = parse_document_type(str(code))
    assert (kind.code, kind.label, kind.is_residence_card, kind.is_kids_card) == (code, label, True, False)


@pytest.mark.parametrize("code, label", FOREIGN_KIDS_CARDS.items())
def test_foreign_kids_cards_are_residence_cards(code, label):
    kind = parse_document_type(str(code))
    assert (kind.label, kind.is_residence_card, kind.is_kids_card) == (label, True, True)


@pytest.mark.parametrize(
    "text, label",
    [
        ("1", "Belgian eID"),
        ("01", "Belgian eID"),
        ("06", "Kids-ID"),
        ("7", "Bootstrap card"),
        ("08", "Habilitation card"),
    ],
)
def test_belgian_cards_are_not_residence_cards(text, label):
    kind = parse_document_type(text)
    assert kind.label == label
    assert not kind.is_residence_card


def test_an_unknown_code_is_kept_but_not_a_residence_card():
    kind = parse_document_type("99")
    assert (kind.code, kind.is_residence_card) == (99, False)


@pytest.mark.parametrize("text", ["", "F+", "123", "1a", "٣"])
def test_malformed(text):
    with pytest.raises(CardDataError):
        parse_document_type(text)
