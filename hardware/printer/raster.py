"""Text a printer's code page cannot carry, printed as a picture.

Thermal printers' code pages cover Latin scripts and sometimes Cyrillic; none shapes Arabic.
Such a line is drawn with Pillow's Raqm layout (HarfBuzz joins the Arabic letters, FriBiDi
orders the line right to left with its numbers left to right inside), as a 1-bit image as
wide as the printer's dots, and sent as a raster bit image (GS v 0). Everything else stays
in text mode: a picture costs a bit per dot (72 bytes a dot row on 80 mm paper, about 2 KB
for one line of text), a text line about 40 bytes.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont, features

# Debian's fonts-dejavu-core: Latin, Greek, Cyrillic and Arabic in one file.
DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

GS = b"\x1d"
# A raster command is sent in bands of at most this many bytes: printers with a small receive
# buffer (4 KB is common) garble or drop a single command larger than it.
BAND_BYTES = 4096

MARGIN = 8  # dots on each side: glyphs that reach past their advance (Arabic tails) stay on paper
LINE_GAP = 4  # dots between rows, as the text mode's line spacing leaves about that much

# role → (font size in dots, bold, centered). 24 dots is the height of the text mode's font A,
# so a picture line reads at the size of the text lines around it.
STYLES: dict[str, tuple[int, bool, bool]] = {
    "municipality": (32, True, True),  # double height in text mode
    "number_label": (24, False, True),
    "number": (72, True, True),
    "service": (24, True, True),
    "service_main": (24, False, True),
    "issued": (24, False, True),
    "people_ahead": (24, False, False),
    "estimated_wait": (24, False, False),
    "bring_label": (24, True, False),
    "bring_item": (24, False, False),
    "follow_label": (24, False, True),
    "status_url": (24, False, True),
    "footer": (24, False, True),
}
_DEFAULT_STYLE = (24, False, False)
# A code point no font maps: its picture is the font's "missing glyph" box.
_UNMAPPED = "\U0010fffd"


def default_dot_width(paper_width_mm: int) -> int:
    # Printable dots at 203 dpi: 48 mm on 58 mm paper, 72 mm on 80 mm (a TM-T88 has 512).
    return 384 if paper_width_mm <= 58 else 576


class RasterUnavailable(Exception):
    """Pictures of text cannot be made here; the message says what to install or set."""


def base_direction(text: str) -> str:
    """A line's direction ("rtl" or "ltr") from its first letter with a strong direction, as
    dir="auto" does on screen: a line in Arabic is right to left even if a number comes first."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


class RasterText:
    """Draws ticket lines as 1-bit pictures `dot_width` dots wide with one font."""

    def __init__(self, font_path: str, dot_width: int):
        if dot_width % 8:
            raise ValueError("dot_width must be a multiple of 8")
        self.font_path = font_path
        self.dot_width = dot_width
        self._fonts: dict[int, ImageFont.FreeTypeFont] = {}
        self._glyphs: dict[str, bool] = {}
        # FreeType's faces are not safe to share between threads, and two kiosk requests
        # may print at once: one drawing at a time (a few milliseconds each).
        self._lock = threading.RLock()

    @classmethod
    def open(cls, font_path: str, dot_width: int) -> RasterText:
        """Raises RasterUnavailable when Pillow cannot shape text or the font cannot be read."""
        if not features.check("raqm"):
            raise RasterUnavailable("Pillow has no complex text layout (Raqm): install the Debian package libraqm0")
        raster = cls(font_path, dot_width)
        try:
            raster._font(_DEFAULT_STYLE[0])
        except OSError:
            raise RasterUnavailable(
                f"the raster font {font_path} cannot be read: install fonts-dejavu-core or set [printer] raster_font"
            ) from None
        return raster

    def _font(self, size: int) -> ImageFont.FreeTypeFont:
        with self._lock:
            font = self._fonts.get(size)
            if font is None:
                font = ImageFont.truetype(self.font_path, size, layout_engine=ImageFont.Layout.RAQM)
                self._fonts[size] = font
            return font

    def covers(self, text: str) -> bool:
        """Whether the font has a glyph for every character of `text` (else the picture would
        show boxes: a site language whose script the font lacks)."""
        with self._lock:
            return all(self._has_glyph(char) for char in set(text))

    def _has_glyph(self, char: str) -> bool:
        known = self._glyphs.get(char)
        if known is None:
            if unicodedata.category(char)[0] in "ZC":  # spaces, controls, direction marks
                known = True
            else:
                font = self._font(_DEFAULT_STYLE[0])
                glyph, missing = font.getmask(char, mode="1"), font.getmask(_UNMAPPED, mode="1")
                known = (glyph.size, bytes(glyph)) != (missing.size, bytes(missing))
            self._glyphs[char] = known
        return known

    def block(self, text: str, role: str) -> Image.Image:
        """`text` styled for `role` (see STYLES), wrapped to the paper: a mode "1" image."""
        with self._lock:
            return self._block(text, role)

    def _block(self, text: str, role: str) -> Image.Image:
        size, bold, centered = STYLES.get(role, _DEFAULT_STYLE)
        font = self._font(size)
        direction = base_direction(text)

        def measure(row: str) -> float:
            return font.getlength(row, direction=direction)

        # Bold as a printer's emphasized mode makes it: each dot printed twice, one dot apart.
        room = self.dot_width - 2 * MARGIN - (1 if bold else 0)
        if role == "bring_item":
            rows = wrap("- " + text, measure, room, indent="  ")
        else:
            rows = wrap(text, measure, room)
        ascent, descent = font.getmetrics()
        pitch = ascent + descent + LINE_GAP
        image = Image.new("1", (self.dot_width, pitch * len(rows)), 1)
        draw = ImageDraw.Draw(image)
        for number, row in enumerate(rows):
            width = measure(row)
            if centered:
                x = (self.dot_width - width) / 2
            elif direction == "rtl":  # the start of a right-to-left line is on the right
                x = self.dot_width - MARGIN - width
            else:
                x = MARGIN
            for shift in (0, 1) if bold else (0,):
                draw.text((round(x) + shift, number * pitch), row, font=font, fill=0, direction=direction)
        return image


def wrap(text: str, measure: Callable[[str], float], room: float, indent: str = "") -> list[str]:
    """Greedy word wrap to `room` dots; rows after the first start with `indent`. The words
    stay in reading order: each row is laid out (and, right to left, reversed) on its own."""
    rows: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else (indent if rows else "") + word
        if current and measure(candidate) > room:
            rows.append(current)
            current = indent + word
        else:
            current = candidate
        while measure(current) > room and len(current) > 1:
            # One word wider than the paper (a long URL): break it.
            cut = len(current) - 1
            while cut > 1 and measure(current[:cut]) > room:
                cut -= 1
            rows.append(current[:cut])
            current = current[cut:]
    if current:
        rows.append(current)
    return rows or [""]


_INVERT = bytes(255 - n for n in range(256))


def raster_commands(image: Image.Image) -> bytes:
    """GS v 0 (raster bit image, normal density) for a mode "1" image, in bands of at most
    BAND_BYTES. The print position is at the start of a line before and after."""
    if image.mode != "1":
        raise ValueError("a raster image must be mode '1'")
    width_bytes = (image.width + 7) // 8
    if image.width % 8:
        padded = Image.new("1", (width_bytes * 8, image.height), 1)
        padded.paste(image, (0, 0))
        image = padded
    # Pillow packs mode "1" rows most significant bit first with 1 = white; ESC/POS wants
    # 1 = a black dot.
    data = image.tobytes().translate(_INVERT)
    rows_per_band = max(1, BAND_BYTES // width_bytes)
    out = bytearray()
    for top in range(0, image.height, rows_per_band):
        rows = min(rows_per_band, image.height - top)
        out += GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        out += data[top * width_bytes : (top + rows) * width_bytes]
    return bytes(out)
