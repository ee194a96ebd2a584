"""What the letter of a residence card means, in a few plain words for the citizen who
holds it: "Card type F+" alone is jargon. The letters are those the Belgian cards carry
(hardware.card.document_type); a kids' card has the same letters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

MEANINGS = {
    "A": _l("temporary stay"),
    "B": _l("unlimited stay"),
    "C": _l("settled"),
    "D": _l("long-term resident of the EU"),
    "E": _l("citizen of the EU"),
    "E+": _l("citizen of the EU, permanent stay"),
    "EU": _l("citizen of the EU"),
    "EU+": _l("citizen of the EU, permanent stay"),
    "F": _l("family member of a citizen of the EU"),
    "F+": _l("family member of a citizen of the EU, permanent stay"),
    "H": _l("European Blue Card, for highly qualified work"),
    "I": _l("transfer within a company"),
    "J": _l("long-term mobility within a company"),
    "K": _l("unlimited stay"),
    "L": _l("long-term resident of the EU"),
    "M": _l("British citizen under the Withdrawal Agreement"),
    "N": _l("British frontier worker"),
}


def card_meaning(card_type: str) -> str | None:
    meaning = MEANINGS.get(card_type)
    return None if meaning is None else str(meaning)
