"""The on-screen and PNG previews show what the paper shows."""

import io
import re
from html.parser import HTMLParser

import pytest
from PIL import Image

from hardware.printer import render_escpos, render_html, render_png, ticket_lines
from tests.printer.conftest import ARABIC
from tests.printer.escpos_reader import read_escpos


class _Lines(HTMLParser):
    """(data-line, text) pairs in document order; for the QR line, the image's alt text."""

    def __init__(self):
        super().__init__()
        self.lines: list[tuple[str, str]] = []
        self.attrs: list[dict] = []
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.attrs.append({"tag": tag, **attrs})
        if tag == "img" and self._open:
            self._open[-1][2].append(attrs.get("alt", ""))
            return
        self._open.append((tag, attrs.get("data-line"), []))

    def handle_endtag(self, tag):
        opened, role, texts = self._open.pop()
        assert opened == tag, f"<{opened}> closed by </{tag}>"
        if role:
            self.lines.append((role, "".join(texts)))

    def handle_data(self, data):
        if self._open:
            self._open[-1][2].append(data)


def html_lines(html: str) -> _Lines:
    parser = _Lines()
    parser.feed(html)
    parser.close()
    return parser


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        dict(language="nl", service_name="Activering certificaat", labels=None),
        dict(language="de", service_name="Ausländerkarte abholen", estimated_wait_minutes=None),
    ],
)
def test_paper_and_screen_share_the_same_lines(make_ticket, overrides):
    t = make_ticket(**overrides)
    assert ticket_lines(t, paper=True) == ticket_lines(t)


@pytest.mark.parametrize("paper", [58, 80])
def test_printed_text_is_the_shared_lines(make_ticket, paper):
    t = make_ticket()
    printout = read_escpos(render_escpos(t, paper_width_mm=paper))

    printed = collapse(" ".join(printout.texts))
    expected = collapse(
        " ".join(
            ("- " + line.text) if line.role == "bring_item" else line.text
            for line in ticket_lines(t, paper=True)
            if line.role != "qr"
        )
    )
    assert printed == expected
    qr_lines = [line.text for line in ticket_lines(t, paper=True) if line.role == "qr"]
    assert [qr.data.decode() for qr in printout.qr_codes] == qr_lines


def test_html_preview_shows_the_shared_lines(make_ticket):
    t = make_ticket()
    parsed = html_lines(render_html(t))
    assert parsed.lines == [(line.role, line.text) for line in ticket_lines(t)]
    article = parsed.attrs[0]
    assert article["tag"] == "article" and article["dir"] == "ltr" and article["lang"] == "fr"


def test_html_preview_is_self_contained_and_escaped(make_ticket):
    t = make_ticket(footer='<script>alert("x")</script> & co', municipality="Demo <b>stad</b>")
    html = render_html(t)
    assert "<script" not in html and "<b>" not in html
    parsed = html_lines(html)
    assert ("footer", '<script>alert("x")</script> & co') in parsed.lines
    sources = [a["src"] for a in parsed.attrs if "src" in a]
    assert sources and all(src.startswith("data:image/svg+xml;base64,") for src in sources)
    assert not any(a["tag"] in ("link", "script", "style") for a in parsed.attrs)


def test_rtl_preview_shows_the_citizens_language_while_text_only_paper_uses_the_main_one(make_ticket):
    """Text alone (no pictures of text, see test_printer_raster) cannot print Arabic."""
    t = make_ticket(**ARABIC)
    html = render_html(t)
    parsed = html_lines(html)

    assert parsed.attrs[0]["dir"] == "rtl"
    assert parsed.lines == [(line.role, line.text) for line in ticket_lines(t)]
    assert ("service", "استلام بطاقة الإقامة") in parsed.lines
    assert ("service_main", "Verblijfskaart afhalen") in parsed.lines
    assert ("bring_item", "بطاقة الإقامة الحالية") in parsed.lines

    printout = read_escpos(render_escpos(t))
    assert "Verblijfskaart afhalen" in printout.texts
    assert not any("استلام" in text for text in printout.texts)
    # Numbers, times and the URL keep left-to-right order inside the right-to-left ticket.
    for a in parsed.attrs:
        if a.get("data-line") in ("number", "issued", "status_url"):
            assert a["dir"] == "ltr"


@pytest.mark.parametrize("paper, width", [(58, 384), (80, 576)])
def test_png_is_a_picture_of_the_paper_ticket(make_ticket, paper, width):
    for t in (make_ticket(), make_ticket(**ARABIC)):
        data = render_png(t, paper_width_mm=paper)
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(data)) as image:
            assert image.width == width
            assert image.height > width  # a tall ticket with number, lines and QR code
            # Not blank: there is ink in the top (number) and in the middle (QR) thirds.
            gray = image.convert("L")
            top = gray.crop((0, 0, width, gray.height // 3))
            middle = gray.crop((0, gray.height // 3, width, 2 * gray.height // 3))
            assert top.getextrema()[0] == 0 and middle.getextrema()[0] == 0


def test_png_is_deterministic(make_ticket):
    assert render_png(make_ticket()) == render_png(make_ticket())
