"""Every language on paper: text where the code page carries it, pictures (GS v 0) elsewhere,
printed on the fake network printer and read back with the independent ESC/POS reader."""

import logging

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from hardware.printer import (
    PrinterConfigError,
    RasterText,
    RasterUnavailable,
    TicketPrinter,
    paper_ticket,
    parse_settings,
    render_escpos,
    ticket_lines,
)
from hardware.printer.escpos_lib import escpos_printers
from hardware.printer.raster import BAND_BYTES, DEFAULT_FONT, MARGIN, STYLES, raster_commands
from tests.printer.conftest import ARABIC, UKRAINIAN
from tests.printer.escpos_reader import PrintedLine, QrSymbol, RasterImage, read_escpos
from tests.system import missing, require_debian_packages


@pytest.fixture(scope="module")
def raster():
    """The font and layout engine the kiosk PC has (installed as ./run and deploy/install.sh do)."""
    require_debian_packages("fonts-dejavu-core", "libraqm0")
    try:
        return RasterText.open(DEFAULT_FONT, 576)
    except RasterUnavailable as exc:
        missing(str(exc))


def print_on(fake, ticket, **settings):
    printer = TicketPrinter(fake.settings(**settings))
    outcome = printer.print_ticket(ticket)
    assert outcome.printed, outcome
    return printer, outcome, read_escpos(fake.wait_for_job(5.0).data)


def ink(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The bounding box of the black dots."""
    return ImageChops.invert(image.convert("L")).getbbox()


def pillow_line(text: str, size: int, layout: ImageFont.Layout, direction: str | None) -> Image.Image:
    """`text` drawn by Pillow directly (not through the printer's code), cropped to its ink."""
    font = ImageFont.truetype(DEFAULT_FONT, size, layout_engine=layout)
    image = Image.new("1", (1200, 3 * size), 1)
    ImageDraw.Draw(image).text((20, 0), text, font=font, fill=0, direction=direction)
    return image.crop(ink(image))


def kinds(printout) -> list[str]:
    names = {PrintedLine: "text", QrSymbol: "qr", RasterImage: "picture"}
    return [names[type(item)] for item in printout.items]


def expected_kinds(lines) -> list[str]:
    """What the paper lines become on paper: LF before spaced roles is a blank text line, and
    pictures one right after the other are one picture."""
    out: list[str] = []
    for line in lines:
        if line.role in ("people_ahead", "qr", "footer"):
            out.append("text")  # the blank line before
        if line.raster:
            if out[-1:] != ["picture"]:
                out.append("picture")
        elif line.role == "qr":
            out += ["qr", "text"]  # the symbol prints on the line feed after it
        else:
            out.append("text")
    return out


def expected_pictures(lines, raster) -> list[Image.Image]:
    """The pictures on paper: each run of picture lines (no blank line between), stacked."""
    runs: list[list[Image.Image]] = []
    previous = None
    for line in lines:
        if line.raster:
            if previous is None or not previous.raster or line.role in ("people_ahead", "qr", "footer"):
                runs.append([])
            runs[-1].append(raster.block(line.text, line.role))
        previous = line
    pictures = []
    for run in runs:
        stacked = Image.new("1", (run[0].width, sum(block.height for block in run)), 1)
        top = 0
        for block in run:
            stacked.paste(block, (0, top))
            top += block.height
        pictures.append(stacked)
    return pictures


def test_an_arabic_ticket_prints_arabic_as_pictures_and_the_rest_as_text(fake_printer, make_ticket, raster):
    ticket = make_ticket(**ARABIC)
    printer, outcome, printout = print_on(fake_printer, ticket)

    assert outcome.status.note is None  # pictures work here
    texts = printout.texts
    # The site's main language alongside, the number, time and address: text, as before.
    for text in (
        "Gemeente Demostad",
        "A012",
        "Verblijfskaart afhalen",
        "04/03/2025 09:30",
        "https://q.demostad.be/t/7Kp2",
    ):
        assert text in texts
    # The citizen's language replaces the English or Dutch stand-ins.
    assert "Uw nummer" not in texts and "Your number" not in texts and "Bedankt voor uw bezoek" not in texts
    assert not any("?" in text for text in texts)

    paper = paper_ticket(ticket, "cp858", raster.covers)
    assert paper.complete
    pictured = [line for line in paper.lines if line.raster]
    assert {line.role for line in pictured} == {
        "number_label",
        "service",
        "people_ahead",
        "estimated_wait",
        "bring_label",
        "bring_item",
        "follow_label",
        "footer",
    }
    assert kinds(printout) == expected_kinds(paper.lines)
    expected = expected_pictures(paper.lines, raster)
    assert len(printout.rasters) == len(expected)
    for image, picture in zip(printout.rasters, expected, strict=True):
        assert image.width == 576  # the printer's dots
        assert ink(image.to_image()) is not None  # not blank
        assert image.to_image().tobytes() == picture.tobytes()
        assert max(image.band_heights) * image.width_bytes <= BAND_BYTES  # each band fits a small buffer


def test_an_arabic_line_is_shaped_and_runs_right_to_left(fake_printer, make_ticket, raster):
    _, _, printout = print_on(fake_printer, make_ticket(**ARABIC))
    line = "عدد الأشخاص قبلك: 3"
    # The people-ahead line is the top of the picture after the number and service.
    block = raster.block(line, "people_ahead")
    picture = printout.rasters[2].to_image().crop((0, 0, 576, block.height))
    assert picture.tobytes() == block.tobytes()

    left, _, right, _ = ink(picture)
    # A left-aligned line starts on the right in a right-to-left language.
    assert right >= 576 - MARGIN - 2 and left > 576 // 3
    printed = picture.crop(ink(picture))
    size = STYLES["people_ahead"][0]
    # The same as Pillow's complex layout of that text, right to left ...
    assert printed.tobytes() == pillow_line(line, size, ImageFont.Layout.RAQM, "rtl").tobytes()
    # ... which is not the letters unjoined, left to right in memory order.
    unshaped = pillow_line(line, size, ImageFont.Layout.BASIC, None)
    assert (printed.size, printed.tobytes()) != (unshaped.size, unshaped.tobytes())
    # The first word read is the rightmost one.
    first_word = pillow_line("عدد", size, ImageFont.Layout.RAQM, "rtl")
    assert _best_overlap(printed, first_word, at_right=True) > 0.9
    assert _best_overlap(printed, first_word, at_right=False) < 0.8


def test_a_right_to_left_line_starts_on_the_right_even_with_a_neutral_first(raster):
    item = "- بطاقة الإقامة الحالية"  # the list's dash comes first, as on screen
    printed = raster.block("بطاقة الإقامة الحالية", "bring_item")
    printed = printed.crop(ink(printed))
    size = STYLES["bring_item"][0]
    assert printed.tobytes() == pillow_line(item, size, ImageFont.Layout.RAQM, "rtl").tobytes()
    left_to_right = pillow_line(item, size, ImageFont.Layout.RAQM, "ltr")  # the dash on the left
    assert printed.tobytes() != left_to_right.tobytes()
    dash = pillow_line("-", size, ImageFont.Layout.RAQM, None)
    assert _best_overlap(printed, dash, at_right=True) == 1.0


def _best_overlap(line: Image.Image, word: Image.Image, at_right: bool) -> float:
    """How well `word` matches the line's right (or left) end, at the best offset nearby."""
    best = 0.0
    base = line.width - word.width if at_right else 0
    word_bits = word.tobytes()
    for dy in range(0, line.height - word.height + 1):
        for dx in (-1, 0, 1):
            x = min(max(base + dx, 0), line.width - word.width)
            region = line.crop((x, dy, x + word.width, dy + word.height))
            same = sum(bin(~(a ^ b) & 0xFF).count("1") for a, b in zip(region.tobytes(), word_bits, strict=True))
            best = max(best, same / (len(word_bits) * 8))
    return best


def test_ukrainian_goes_as_pictures_on_a_latin_code_page(fake_printer, make_ticket, raster):
    _, _, printout = print_on(fake_printer, make_ticket(**UKRAINIAN))
    assert printout.code_pages == [19]
    assert "Nieuwe pincode (met PUK)" in printout.texts  # the main language, as text
    assert not any("Ваш" in text for text in printout.texts)
    paper = paper_ticket(make_ticket(**UKRAINIAN), "cp858", raster.covers)
    assert sum(line.raster for line in paper.lines) == 9  # every Ukrainian line
    assert [image.to_image().tobytes() for image in printout.rasters] == [
        picture.tobytes() for picture in expected_pictures(paper.lines, raster)
    ]


def test_ukrainian_is_text_on_a_cyrillic_code_page(fake_printer, make_ticket, raster):
    _, _, printout = print_on(fake_printer, make_ticket(**UKRAINIAN), code_page="cp1251")
    assert printout.code_pages == [46]  # WPC1251
    assert printout.rasters == []
    texts = printout.texts
    for text in (
        "Ваш номер",
        "Новий PIN-код з вашим PUK-кодом",
        "Nieuwe pincode (met PUK)",
        "Людей перед вами: 3",
        "Візьміть із собою",
        "- Ваша посвідка на проживання",
        "Дякуємо за візит",
    ):
        assert text in texts


def test_pc866_prints_cyrillic_as_text_and_only_lines_with_ukrainian_letters_as_pictures(
    fake_printer, make_ticket, raster
):
    ticket = make_ticket(**UKRAINIAN)
    _, _, printout = print_on(fake_printer, ticket, code_page="cp866")
    assert printout.code_pages == [17]
    assert "Ваш номер" in printout.texts and "Людей перед вами: 3" in printout.texts
    paper = paper_ticket(ticket, "cp866", raster.covers)
    pictured = [line.text for line in paper.lines if line.raster]
    # PC866 has no Ukrainian і: those lines, and only those, are pictures.
    assert pictured and all("і" in text for text in pictured)
    assert all("і" not in text for text in printout.texts)
    assert len(printout.rasters) == len(expected_pictures(paper.lines, raster))


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # French
        dict(language="nl", service_name="Nieuwe pincode (met PUK)", labels=None),
        dict(language="pl", service_name="Odbiór karty (Łódź-Śródmieście)"),
    ],
)
def test_latin_scripts_stay_text_and_keep_their_bytes(fake_printer, make_ticket, raster, overrides):
    ticket = make_ticket(**overrides)
    printer, _, printout = print_on(fake_printer, ticket)
    assert printout.rasters == []
    assert printer.render(ticket) == render_escpos(ticket)  # as small as without pictures
    assert len(printer.render(ticket)) < 1000


def test_without_the_font_the_ticket_is_in_the_main_language_and_says_so(fake_printer, make_ticket, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="hardware.printer")
    missing_font = str(tmp_path / "no-such-font.ttf")
    _, outcome, printout = print_on(fake_printer, make_ticket(**ARABIC), raster_font=missing_font)

    assert printout.rasters == []
    assert "Uw nummer" in printout.texts and "Bedankt voor uw bezoek" in printout.texts
    assert "Verblijfskaart afhalen" in printout.texts
    note = outcome.status.note
    assert note and missing_font in note and "main language" in note
    assert outcome.status.ready  # it still prints
    assert outcome.status.as_dict()["note"] == note  # on the printer's status (kiosk health)
    assert f"the raster font {missing_font} cannot be read" in caplog.text
    assert "ticket A012 printed in the site's main language only" in caplog.text
    assert "رقمك" not in caplog.text and "بطاقة" not in caplog.text  # no ticket texts in the log


def test_a_script_the_font_lacks_falls_back_to_the_main_language(fake_printer, make_ticket, raster, caplog):
    chinese = make_ticket(
        language="zh",
        service_name="领取居留卡",
        labels={"your_number": "您的号码", "people_ahead": "前面的人数"},
        bring=["您现在的居留卡"],
        footer="谢谢光临",
    )
    assert not raster.covers("领取")
    _, outcome, printout = print_on(fake_printer, chinese)
    assert printout.rasters == [] and "Uw nummer" in printout.texts
    assert outcome.status.note is None  # pictures work; this language's script is the problem
    assert "ticket A012 printed in the site's main language only" in caplog.text and "'zh'" in caplog.text


def test_an_odd_character_in_the_municipality_becomes_a_picture_not_a_question_mark(make_ticket, raster):
    ticket = make_ticket(municipality="Gemeente ✓ Demostad")
    printout = read_escpos(render_escpos(ticket, raster=raster))
    assert "Gemeente ? Demostad" not in printout.texts
    assert kinds(printout)[0] == "picture"


def test_raster_bands_are_what_python_escpos_sends(raster):
    tall = raster.block("بطاقة الإقامة الحالية " * 12, "bring_item")
    commands = raster_commands(tall)
    rows_per_band = BAND_BYTES // 72
    assert tall.height > rows_per_band  # more than one band

    dummy = escpos_printers().Dummy()
    dummy.image(tall, impl="bitImageRaster", fragment_height=rows_per_band)
    assert commands == dummy.output

    [image] = read_escpos(commands + b"\x1dVA\x00").rasters  # the bands join up again
    assert len(image.band_heights) == -(-tall.height // rows_per_band)
    assert image.to_image().tobytes() == tall.tobytes()


def test_58_mm_paper_pictures_are_384_dots_wide(fake_printer, make_ticket, raster):
    _, _, printout = print_on(fake_printer, make_ticket(**ARABIC), paper_width_mm=58)
    assert printout.rasters and {image.width for image in printout.rasters} == {384}


def test_paper_with_pictures_carries_the_screens_lines(make_ticket, raster):
    for overrides in (ARABIC, UKRAINIAN):
        ticket = make_ticket(**overrides)
        paper = paper_ticket(ticket, "cp858", raster.covers)
        screen = ticket_lines(ticket)
        assert [(line.role, line.text) for line in paper.lines] == [(line.role, line.text) for line in screen]


def test_the_simulated_printers_picture_of_the_paper_has_the_same_pictures(tmp_path, make_ticket, raster):
    printer = TicketPrinter({"kind": "simulated", "folder": str(tmp_path)})
    assert printer.print_ticket(make_ticket(**ARABIC)).printed
    [job] = tmp_path.glob("*.escpos")
    [png] = tmp_path.glob("*.png")
    pictures = read_escpos(job.read_bytes()).rasters
    with Image.open(png) as image:
        assert image.width == 576
        rows = [
            image.convert("L").crop((0, y, 576, y + 1)).point(lambda v: 255 * (v >= 128)).tobytes()
            for y in range(image.height)
        ]
    assert pictures
    for picture in pictures:
        drawn = picture.to_image().convert("L")
        wanted = [drawn.crop((0, y, 576, y + 1)).tobytes() for y in range(drawn.height)]
        assert any(rows[top : top + len(wanted)] == wanted for top in range(len(rows))), "a picture is not in the PNG"


def test_dot_width_and_font_settings():
    assert parse_settings({"paper_width_mm": 58}).dot_width == 384
    assert parse_settings({}).dot_width == 576
    assert parse_settings({"dot_width": 512}).dot_width == 512
    assert parse_settings({}).raster_font == DEFAULT_FONT
    assert parse_settings({"code_page": "cp866"}).code_page == "cp866"
    for bad in ({"dot_width": 500}, {"dot_width": 64}, {"dot_width": "576"}, {"raster_font": ""}):
        with pytest.raises(PrinterConfigError):
            parse_settings(bad)
