"""A small, strict ESC/POS reader for the commands a ticket may use.

Written from the Epson command reference, independently of the renderer: it fails on any
byte it does not understand, so a stray command or control character in a ticket is caught.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CODE_PAGES = {19: "cp858", 16: "cp1252", 17: "cp866", 46: "cp1251"}  # ESC t n


@dataclass
class PrintedLine:
    text: str
    align: str  # "left" | "center" | "right"
    width_scale: int
    height_scale: int
    bold: bool


@dataclass
class QrSymbol:
    data: bytes
    model: int | None
    module_size: int | None
    error_correction: int | None
    align: str
    printed: bool = False
    line_feed_after: bool = False


@dataclass
class RasterImage:
    """Consecutive GS v 0 bands of one width, joined: one picture on the paper."""

    width_bytes: int
    height: int
    data: bytearray  # one bit per dot, 1 = black, rows top to bottom, most significant bit left
    band_heights: list[int] = field(default_factory=list)  # rows of each GS v 0 command

    @property
    def width(self) -> int:
        return self.width_bytes * 8

    def to_image(self):
        """As a Pillow mode "1" image (black ink on white)."""
        from PIL import Image

        inverted = bytes(255 - b for b in self.data)
        return Image.frombytes("1", (self.width, self.height), inverted)


@dataclass
class Printout:
    initialized: bool = False
    code_pages: list[int] = field(default_factory=list)
    lines: list[PrintedLine] = field(default_factory=list)
    qr_codes: list[QrSymbol] = field(default_factory=list)
    rasters: list[RasterImage] = field(default_factory=list)
    # Text lines, QR symbols and pictures in paper order.
    items: list[PrintedLine | QrSymbol | RasterImage] = field(default_factory=list)
    cut: str | None = None

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def read_escpos(data: bytes) -> Printout:
    out = Printout()
    align, bold, width, height = "left", False, 1, 1
    codec = None
    chars: list[str] = []
    # A line's size and weight: the largest in effect for any of its characters.
    line_width = line_height = 1
    line_bold = False
    qr_model = qr_size = qr_ec = None
    stored: bytes | None = None
    qr_printed_at = -1  # offset just past the last QR print command
    raster_ended_at = -1  # offset just past the last raster band
    i = 0

    def need(count: int) -> bytes:
        if i + count > len(data):
            raise ValueError(f"command at offset {i} is cut short")
        return data[i : i + count]

    while i < len(data):
        b = data[i]
        if out.cut is not None:
            raise ValueError(f"bytes after the cut at offset {i}")
        if b == 0x0A:  # LF prints the line buffer
            if out.qr_codes and qr_printed_at == i:
                out.qr_codes[-1].line_feed_after = True
            line = PrintedLine("".join(chars), align, line_width, line_height, line_bold)
            out.lines.append(line)
            out.items.append(line)
            chars = []
            line_width, line_height, line_bold = 1, 1, False
            i += 1
        elif b == 0x1B:  # ESC
            cmd = need(2)[1]
            if cmd == ord("@"):
                out.initialized = True
                align, bold, width, height, codec = "left", False, 1, 1, None
                i += 2
            elif cmd == ord("t"):
                n = need(3)[2]
                if n not in CODE_PAGES:
                    raise ValueError(f"unexpected code page {n}")
                out.code_pages.append(n)
                codec = CODE_PAGES[n]
                i += 3
            elif cmd == ord("a"):
                n = need(3)[2]
                align = {0: "left", 1: "center", 2: "right"}[n % 48]
                i += 3
            elif cmd == ord("E"):
                bold = bool(need(3)[2] & 1)
                i += 3
            else:
                raise ValueError(f"unexpected ESC {cmd:#x} at offset {i}")
        elif b == 0x1D:  # GS
            cmd = need(2)[1]
            if cmd == ord("!"):
                n = need(3)[2]
                width, height = (n >> 4) + 1, (n & 0x0F) + 1
                i += 3
            elif cmd == ord("("):
                head = need(5)
                if head[2] != ord("k"):
                    raise ValueError(f"unexpected GS ( {head[2]:#x}")
                length = head[3] + 256 * head[4]
                body = need(5 + length)[5:]
                cn, fn, params = body[0], body[1], body[2:]
                if cn != 49:
                    raise ValueError(f"GS ( k for symbol {cn}, expected 49 (QR)")
                if fn == 65:
                    qr_model = params[0]
                elif fn == 67:
                    qr_size = params[0]
                elif fn == 69:
                    qr_ec = params[0]
                elif fn == 80:  # function 180: store data
                    if params[0] != 48:
                        raise ValueError("QR store with m != 48")
                    stored = bytes(params[1:])
                elif fn == 81:  # function 181: print the stored symbol
                    if stored is None:
                        raise ValueError("QR print without stored data")
                    symbol = QrSymbol(stored, qr_model, qr_size, qr_ec, align, printed=True)
                    out.qr_codes.append(symbol)
                    out.items.append(symbol)
                    qr_printed_at = i + 5 + length
                else:
                    raise ValueError(f"unexpected QR function {fn}")
                i += 5 + length
            elif cmd == ord("v"):  # GS v 0 m xL xH yL yH d1...dk: raster bit image
                head = need(8)
                if head[2] != ord("0") or head[3] not in (0, 48):
                    raise ValueError(f"GS v at offset {i}: only 'GS v 0' in normal density is expected")
                if chars:
                    raise ValueError(f"raster image at offset {i} while text waits in the line buffer")
                width_bytes = head[4] + 256 * head[5]
                height = head[6] + 256 * head[7]
                if not width_bytes or not height:
                    raise ValueError(f"empty raster image at offset {i}")
                bits = need(8 + width_bytes * height)[8:]
                last = out.rasters[-1] if out.rasters else None
                if last is not None and raster_ended_at == i and last.width_bytes == width_bytes:
                    last.data += bits
                    last.height += height
                    last.band_heights.append(height)
                else:
                    image = RasterImage(width_bytes, height, bytearray(bits), [height])
                    out.rasters.append(image)
                    out.items.append(image)
                i += 8 + width_bytes * height
                raster_ended_at = i
            elif cmd == ord("V"):
                m = need(3)[2]
                if m in (65, 66):
                    need(4)
                    out.cut = "full" if m == 65 else "partial"
                    i += 4
                elif m in (0, 1, 48, 49):
                    out.cut = "full" if m in (0, 48) else "partial"
                    i += 3
                else:
                    raise ValueError(f"unexpected cut mode {m}")
            else:
                raise ValueError(f"unexpected GS {cmd:#x} at offset {i}")
        elif b < 0x20 or b == 0x7F:
            raise ValueError(f"unexpected control byte {b:#04x} at offset {i}")
        else:
            if codec is None:
                raise ValueError(f"text at offset {i} before a code page was selected")
            chars.append(bytes([b]).decode(codec))
            line_width, line_height = max(line_width, width), max(line_height, height)
            line_bold = line_bold or bold
            i += 1
    if chars:
        raise ValueError("text left in the line buffer: it would print only on the next ticket")
    return out
