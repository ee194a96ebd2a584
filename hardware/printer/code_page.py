"""Text for the printer's character code page.

The code page is selected explicitly (ESC t n) and text is encoded here, so the bytes of a
ticket do not depend on a library guessing encodings. The Latin pages print é, è, ë, ç and €;
the Cyrillic ones print Russian (PC866) or every Cyrillic letter of Ukrainian and Bulgarian
too (WPC1251, which has no é: French and Dutch accents are dropped there). Text a page cannot
carry is printed as a picture (see `hardware.printer.raster`).
"""

from __future__ import annotations

import unicodedata

# name → (Python codec, ESC t page number in the Epson table)
CODE_PAGES: dict[str, tuple[str, int]] = {
    "cp858": ("cp858", 19),  # PC858: PC850 with € at 0xD5
    "cp1252": ("cp1252", 16),  # WPC1252
    "cp866": ("cp866", 17),  # PC866 Cyrillic #2: no Ukrainian і and ґ, no €
    "cp1251": ("cp1251", 46),  # WPC1251 Cyrillic
}
DEFAULT_CODE_PAGE = "cp858"

# Letters that do not decompose into a base letter plus accent, and typographic marks that
# translations often contain.
_SUBSTITUTES = {
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ı": "i",
    "ħ": "h",
    "Ħ": "H",
    "ŧ": "t",
    "Ŧ": "T",
    "ŋ": "n",
    "Ŋ": "N",
    "œ": "oe",
    "Œ": "OE",
    "ĳ": "ij",
    "Ĳ": "IJ",
    "‘": "'",
    "’": "'",
    "‚": ",",
    "‛": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "•": "-",
    "…": "...",
    "€": "EUR",  # the Cyrillic PC866 has no euro sign
}


def codec(code_page: str) -> str:
    return _page(code_page)[0]


def page_number(code_page: str) -> int:
    return _page(code_page)[1]


def _page(code_page: str) -> tuple[str, int]:
    try:
        return CODE_PAGES[code_page]
    except KeyError:
        raise ValueError(f"unknown code page {code_page!r}; choose one of {', '.join(CODE_PAGES)}") from None


def _printable_char(char: str, codec_name: str) -> str | None:
    category = unicodedata.category(char)
    # Control bytes in text would reach the printer as commands: never pass them through.
    if category == "Cc":
        return " "
    if category == "Cf":  # direction marks, zero-width joiners, BOM
        return ""
    for candidate in (char, _SUBSTITUTES.get(char)):
        if candidate is None:
            continue
        try:
            candidate.encode(codec_name)
            return candidate
        except UnicodeEncodeError:
            pass
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and base != char:
        try:
            base.encode(codec_name)
            return base
        except UnicodeEncodeError:
            pass
    return None


def _fits(text: str, codec_name: str) -> bool:
    """The common case: no control or format characters, and all in the code page."""
    if not text.isprintable():
        return False
    try:
        text.encode(codec_name)
    except UnicodeEncodeError:
        return False
    return True


def paper_text(text: str, code_page: str = DEFAULT_CODE_PAGE) -> str | None:
    """`text` as the printer can print it, or None if some character has no stand-in."""
    codec_name = codec(code_page)
    if _fits(text, codec_name):
        return text
    out = []
    for char in unicodedata.normalize("NFC", text):
        printable = _printable_char(char, codec_name)
        if printable is None:
            return None
        out.append(printable)
    return "".join(out)


def paper_text_or_placeholder(text: str, code_page: str = DEFAULT_CODE_PAGE) -> str:
    """Like `paper_text`, but an unprintable character becomes "?" instead of failing."""
    codec_name = codec(code_page)
    if _fits(text, codec_name):
        return text
    out = []
    for char in unicodedata.normalize("NFC", text):
        printable = _printable_char(char, codec_name)
        out.append("?" if printable is None else printable)
    return "".join(out)


def encode(text: str, code_page: str = DEFAULT_CODE_PAGE) -> bytes:
    """Bytes for text already made printable (never raises for any input)."""
    return paper_text_or_placeholder(text, code_page).encode(codec(code_page))
