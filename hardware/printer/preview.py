"""Ticket previews made from the same lines as the paper ticket.

`render_html` is what the citizen sees on screen (and the fallback when the printer fails):
always in the citizen's language, right to left where needed. `render_png` is a picture of
the paper ticket, i.e. exactly what the printer prints (the lines printed as pictures are the
same pictures), for desk reprints and documentation.
"""

from __future__ import annotations

import base64
import functools
import io
from html import escape

import qrcode
import qrcode.constants
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont

from hardware.printer.code_page import DEFAULT_CODE_PAGE
from hardware.printer.raster import RasterText
from hardware.printer.ticket import TicketLine, TicketPrint, is_rtl, paper_ticket, ticket_lines

_STYLE = {
    "municipality": "font-weight:bold;font-size:1.2em;text-align:center",
    "number_label": "text-align:center",
    "number": "font-weight:bold;font-size:3.5em;line-height:1.1;text-align:center",
    "service": "font-weight:bold;font-size:1.1em;text-align:center",
    "service_main": "text-align:center",
    "issued": "text-align:center",
    "people_ahead": "margin-top:.8em",
    "estimated_wait": "",
    "bring_label": "font-weight:bold;margin-top:.8em",
    "follow_label": "text-align:center",
    "status_url": "text-align:center;font-family:monospace",
    "footer": "text-align:center;font-size:.85em;margin-top:.8em",
}
# Texts that are not in the citizen's language, or not words, keep their own direction.
_OWN_DIRECTION = {"number": "ltr", "issued": "ltr", "status_url": "ltr", "service_main": "auto"}


def qr_svg_data_uri(url: str) -> str:
    image = qrcode.make(
        url,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


def render_html(ticket: TicketPrint) -> str:
    """A self-contained HTML fragment (no external resources); every text is escaped and
    every line carries data-line="<role>"."""
    direction = "rtl" if is_rtl(ticket.language) else "ltr"
    parts = [
        f'<article class="ticket-preview" lang="{escape(ticket.language)}" dir="{direction}" '
        'style="background:#fff;color:#000;max-width:22em;padding:1em;'
        'border:1px solid #ccc;font-family:sans-serif">'
    ]
    lines = ticket_lines(ticket)
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.role == "bring_item":
            parts.append('<ul style="margin:.2em 0;padding-inline-start:1.2em">')
            while index < len(lines) and lines[index].role == "bring_item":
                parts.append(f'<li data-line="bring_item">{escape(lines[index].text)}</li>')
                index += 1
            parts.append("</ul>")
            continue
        parts.append(_html_line(line))
        index += 1
    parts.append("</article>")
    return "\n".join(parts)


def _html_line(line: TicketLine) -> str:
    if line.role == "qr":
        return (
            '<p data-line="qr" style="text-align:center;margin:.8em 0 .2em">'
            f'<img src="{qr_svg_data_uri(line.text)}" alt="{escape(line.text)}" '
            'width="160" height="160"></p>'
        )
    style = _STYLE.get(line.role, "")
    own_dir = _OWN_DIRECTION.get(line.role)
    dir_attr = f' dir="{own_dir}"' if own_dir else ""
    return f'<p data-line="{line.role}"{dir_attr} style="margin:.2em 0;{style}">{escape(line.text)}</p>'


# --- PNG -----------------------------------------------------------------------------------

_DOTS = {58: 384, 80: 576}  # printable width at 203 dpi
_MARGIN = 12


_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.lru_cache(maxsize=16)
def _font(size: int, bold: bool) -> _Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        # Pillow's built-in font; a machine without DejaVu still gets a picture.
        return ImageFont.load_default(size)


_PNG_STYLE = {  # role → (font size, bold, centered)
    "municipality": (26, True, True),
    "number_label": (20, False, True),
    "number": (96, True, True),
    "service": (24, True, True),
    "service_main": (20, False, True),
    "issued": (20, False, True),
    "people_ahead": (20, False, False),
    "estimated_wait": (20, False, False),
    "bring_label": (20, True, False),
    "bring_item": (20, False, False),
    "follow_label": (20, False, True),
    "status_url": (18, False, True),
    "footer": (18, False, True),
}
_GAP_BEFORE = {"people_ahead", "qr", "footer"}


def render_png(
    ticket: TicketPrint,
    *,
    paper_width_mm: int = 80,
    code_page: str = DEFAULT_CODE_PAGE,
    raster: RasterText | None = None,
) -> bytes:
    """A PNG of the paper ticket (the printable lines, `paper_width_mm` wide at 203 dpi, or
    as wide as `raster`'s dots), with `raster` as the printer makes its pictures (None: none)."""
    width = raster.dot_width if raster else _DOTS[58 if paper_width_mm <= 58 else 80]
    canvas = Image.new("L", (width, 4000), 255)
    draw = ImageDraw.Draw(canvas)
    y = _MARGIN
    for line in paper_ticket(ticket, code_page, raster.covers if raster else None).lines:
        if y > canvas.height - 200:
            break  # a runaway ticket is cropped, not a crash
        if line.role in _GAP_BEFORE:
            y += 16
        if line.raster and raster is not None:
            block = raster.block(line.text, line.role)
            canvas.paste(block.convert("L"), (0, y))
            y += block.height
            continue
        if line.role == "qr":
            code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=2)
            code.add_data(line.text)
            qr_image = code.make_image().get_image().convert("L")
            canvas.paste(qr_image, ((width - qr_image.width) // 2, y))
            y += qr_image.height + 4
            continue
        size, bold, centered = _PNG_STYLE[line.role]
        font = _font(size, bold)
        if line.role == "bring_item":
            rows = _wrap_pixels("- " + line.text, font, width - 2 * _MARGIN, indent="   ")
        else:
            rows = _wrap_pixels(line.text, font, width - 2 * _MARGIN)
        for row in rows:
            row_width = draw.textlength(row, font=font)
            x = (width - row_width) / 2 if centered else _MARGIN
            draw.text((x, y), row, font=font, fill=0)
            y += int(size * 1.25)
    image = canvas.crop((0, 0, width, min(y + _MARGIN, canvas.height)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _wrap_pixels(text: str, font: _Font, max_width: int, indent: str = "") -> list[str]:
    """Greedy word wrap to `max_width` pixels; rows after the first start with `indent`."""
    rows: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else (indent if rows else "") + word
        if current and font.getlength(candidate) > max_width:
            rows.append(current)
            current = indent + word
        else:
            current = candidate
        while font.getlength(current) > max_width and len(current) > 1:
            # A single word wider than the paper (a long URL): break it.
            cut = len(current) - 1
            while cut > 1 and font.getlength(current[:cut]) > max_width:
                cut -= 1
            rows.append(current[:cut])
            current = current[cut:]
    if current:
        rows.append(current)
    return rows or [""]
