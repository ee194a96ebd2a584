"""A ticket as ESC/POS bytes.

The commands are written out here rather than through a library object so the bytes are the
same on every machine (code page selected with ESC t, text encoded by `code_page`), and
tests can check them byte for byte. Lines the code page cannot carry are pictures made by
`hardware.printer.raster` (GS v 0), when the caller passes one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from hardware.printer.code_page import DEFAULT_CODE_PAGE, encode, page_number
from hardware.printer.raster import RasterText, raster_commands
from hardware.printer.ticket import TicketLine, TicketPrint, paper_ticket

ESC = b"\x1b"
GS = b"\x1d"
LF = b"\n"

INIT = ESC + b"@"
ALIGN_LEFT = ESC + b"a\x00"
ALIGN_CENTER = ESC + b"a\x01"
BOLD_ON = ESC + b"E\x01"
BOLD_OFF = ESC + b"E\x00"
SIZE_NORMAL = GS + b"!\x00"
SIZE_DOUBLE_HEIGHT = GS + b"!\x01"
CUT_FULL = GS + b"VA\x00"  # function B: feed to the cutter, then cut
CUT_PARTIAL = GS + b"VB\x00"

QR_ERROR_CORRECTION_M = 49

CENTERED_ROLES = {
    "municipality",
    "number_label",
    "number",
    "service",
    "service_main",
    "issued",
    "qr",
    "follow_label",
    "status_url",
    "footer",
}
BOLD_ROLES = {"municipality", "number", "service", "bring_label"}
# A blank line before these separates the header, the details and the QR block.
SPACED_ROLES = {"people_ahead", "qr", "footer"}


def size_command(width: int, height: int) -> bytes:
    """GS ! n: character width and height multipliers (1 to 8)."""
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


def qr_commands(data: str, module_size: int) -> bytes:
    """Native QR code (model 2): GS ( k functions 165, 167, 169, 180 (store), 181 (print)."""
    payload = data.encode("utf-8")

    def function(fn: int, params: bytes) -> bytes:
        length = len(params) + 2
        return GS + b"(k" + bytes([length & 0xFF, length >> 8, 49, fn]) + params

    return b"".join(
        (
            function(65, bytes([50, 0])),  # model 2
            function(67, bytes([module_size])),
            function(69, bytes([QR_ERROR_CORRECTION_M])),
            function(80, b"0" + payload),  # "function 180": store the data
            function(81, b"0"),  # "function 181": print the stored symbol
        )
    )


def default_columns(paper_width_mm: int) -> int:
    # Font A: 32 columns on 58 mm paper; 42 on 80 mm fits TM-T88 (512 dots) and TM-T20 alike.
    return 32 if paper_width_mm <= 58 else 42


def render_escpos(
    ticket: TicketPrint,
    *,
    paper_width_mm: int = 80,
    columns: int | None = None,
    code_page: str = DEFAULT_CODE_PAGE,
    cut: str = "full",
    raster: RasterText | None = None,
) -> bytes:
    """ESC/POS bytes for one ticket, wrapped to `columns` characters. Without `raster`, text
    alone (a ticket in a script the code page lacks is printed in the site's main language)."""
    paper = paper_ticket(ticket, code_page, raster.covers if raster else None)
    return escpos_lines(
        paper.lines, paper_width_mm=paper_width_mm, columns=columns, code_page=code_page, cut=cut, raster=raster
    )


def escpos_lines(
    lines: Sequence[TicketLine],
    *,
    paper_width_mm: int = 80,
    columns: int | None = None,
    code_page: str = DEFAULT_CODE_PAGE,
    cut: str = "full",
    raster: RasterText | None = None,
) -> bytes:
    """ESC/POS bytes for a ticket's paper lines (see `hardware.printer.ticket.paper_ticket`)."""
    if cut not in ("full", "partial"):
        raise ValueError(f"cut must be 'full' or 'partial', not {cut!r}")
    columns = columns or default_columns(paper_width_mm)
    qr_module = 6 if paper_width_mm <= 58 else 8

    out = bytearray(INIT)
    out += ESC + b"t" + bytes([page_number(code_page)])
    align, bold = None, False
    for line in lines:
        if line.role in SPACED_ROLES:
            out += LF
        if line.raster:
            if raster is None:
                raise ValueError("a picture line needs a RasterText")
            # As wide as the paper, aligned and bold inside the picture: ESC a and ESC E
            # have nothing to do on it.
            out += raster_commands(raster.block(line.text, line.role))
            continue
        wanted = ALIGN_CENTER if line.role in CENTERED_ROLES else ALIGN_LEFT
        if wanted != align:
            out += wanted
            align = wanted
        if (line.role in BOLD_ROLES) != bold:
            bold = not bold
            out += BOLD_ON if bold else BOLD_OFF
        out += _line_bytes(line, columns, code_page, qr_module)
    out += CUT_FULL if cut == "full" else CUT_PARTIAL
    return bytes(out)


def _line_bytes(line: TicketLine, columns: int, code_page: str, qr_module: int) -> bytes:
    if line.role == "qr":
        # Alignment is already centered; the symbol prints on the line feed after it.
        return qr_commands(line.text, qr_module) + LF

    out = bytearray()
    if line.role == "number":
        # As large as the paper allows, up to four times the normal size.
        scale = max(1, min(4, columns // max(1, len(line.text))))
        out += size_command(scale, scale)
        rows = _wrap(line.text, columns // scale, "")
    elif line.role == "municipality":
        out += SIZE_DOUBLE_HEIGHT
        rows = _wrap(line.text, columns, "")
    elif line.role == "bring_item":
        rows = _wrap("- " + line.text, columns, "  ")
    else:
        rows = _wrap(line.text, columns, "")
    for row in rows:
        out += encode(row, code_page) + LF
    if line.role in ("number", "municipality"):
        out += SIZE_NORMAL
    return bytes(out)


def _wrap(text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(text, width=max(1, width), subsequent_indent=indent, break_on_hyphens=False) or [""]
