"""The ESC/POS bytes of a ticket, read back with an independent reader."""

import pytest

from hardware.printer import render_escpos
from tests.printer.conftest import ARABIC
from tests.printer.escpos_reader import read_escpos

LONG_BRING = [
    "Uw huidige verblijfskaart, of het attest van verlies of diefstal van de politie",
    "De brief met uw PIN- en PUK-code, die u ongeveer drie weken na de aanvraag kreeg",
]


@pytest.mark.parametrize(
    "language, service, main",
    [
        ("nl", "Activering certificaat", "Activering certificaat"),
        ("fr", "Réinitialisation du code PIN", "Nieuwe pincode (met PUK)"),
        ("de", "Ausländerkarte abholen", "Verblijfskaart afhalen"),
        ("fr", "Nouveaux codes PIN et PUK (5 €), reçu", "Nieuwe codes (5 €)"),
    ],
)
def test_accented_service_names_come_back_from_the_code_page(make_ticket, language, service, main):
    data = render_escpos(
        make_ticket(language=language, service_name=service, service_name_main=main),
        paper_width_mm=80,
    )
    printout = read_escpos(data)

    assert printout.initialized
    assert printout.code_pages == [19]  # PC858, selected explicitly
    assert "A012" in printout.texts
    assert service in printout.texts
    if main != service:
        assert main in printout.texts
    else:
        assert printout.texts.count(service) == 1
    assert printout.cut == "full"


def test_cp858_bytes_for_accents_and_euro(make_ticket):
    data = render_escpos(make_ticket(), paper_width_mm=80)
    # Byte values from the PC858 table, not from Python's codec.
    assert b"R\x82initialisation" in data  # é = 0x82
    assert b"5 \xd5" in data  # € = 0xD5
    assert b"re\x87u" in data  # ç = 0x87
    assert "ë".encode("cp858") == b"\x89" and "è".encode("cp858") == b"\x8a"


def test_wpc1252_is_selectable(make_ticket):
    data = render_escpos(make_ticket(), paper_width_mm=80, code_page="cp1252")
    printout = read_escpos(data)
    assert printout.code_pages == [16]
    assert b"5 \x80" in data  # € = 0x80 in Windows-1252
    assert "Réinitialisation du code PIN" in printout.texts


def test_native_qr_code_carries_the_status_url(make_ticket):
    printout = read_escpos(render_escpos(make_ticket(), paper_width_mm=58))

    assert len(printout.qr_codes) == 1
    qr = printout.qr_codes[0]
    assert qr.data == b"https://q.demostad.be/t/7Kp2"
    assert qr.model == 50  # model 2
    assert qr.error_correction == 49  # level M
    assert qr.align == "center"  # aligned before, since the QR command ignores centering
    assert qr.line_feed_after  # the symbol prints on the line feed
    assert "https://q.demostad.be/t/7Kp2" in printout.texts  # also readable without a phone


@pytest.mark.parametrize("paper, columns", [(58, 32), (80, 42), (80, 48)])
def test_lines_fit_the_paper(make_ticket, paper, columns):
    t = make_ticket(
        municipality="Gemeente Demostad - Dienst Burgerzaken, team vreemdelingen",
        bring=LONG_BRING,
        footer="Openingsuren en contact: zie de website van de gemeente of bel de infolijn",
    )
    printout = read_escpos(render_escpos(t, paper_width_mm=paper, columns=columns))

    for line in printout.lines:
        assert len(line.text) * line.width_scale <= columns, line
    widest = max(len(line.text) * line.width_scale for line in printout.lines)
    assert widest > columns - 8  # the space is used, not wrapped far too early
    number = next(line for line in printout.lines if line.text == "A012")
    assert number.width_scale == number.height_scale == 4
    assert number.align == "center" and number.bold
    # Word wrap keeps words whole: every printed word is a word of the ticket.
    words = set(" ".join(LONG_BRING).split()) | {"-"}
    bring_rows = [line.text for line in printout.lines if line.text.startswith(("- ", "  "))]
    assert bring_rows and all(set(row.split()) <= words for row in bring_rows)


def test_58_and_80_mm_wrap_differently(make_ticket):
    t = make_ticket(bring=LONG_BRING)
    narrow = read_escpos(render_escpos(t, paper_width_mm=58))
    wide = read_escpos(render_escpos(t, paper_width_mm=80))
    assert max(len(x) for x in narrow.texts) <= 32
    assert max(len(x) for x in wide.texts) > 32
    assert len(narrow.lines) > len(wide.lines)


def test_control_characters_in_texts_cannot_inject_commands(make_ticket):
    t = make_ticket(footer="Tot ziens\x1bd\x05\x1dV\x00!", municipality="Demo\nstad")
    printout = read_escpos(render_escpos(t))  # the reader rejects stray control bytes
    assert "Tot ziens d  V !" in printout.texts  # each control byte became a space
    assert printout.cut == "full"


def test_partial_cut(make_ticket):
    assert read_escpos(render_escpos(make_ticket(), cut="partial")).cut == "partial"


def test_arabic_ticket_in_text_alone_prints_main_language_texts(make_ticket):
    t = make_ticket(**ARABIC)
    printout = read_escpos(render_escpos(t, paper_width_mm=58))

    assert "Verblijfskaart afhalen" in printout.texts  # the main-language name is always there
    assert "Uw nummer" in printout.texts
    assert "Wachtenden voor u: 3" in printout.texts
    assert "- Uw huidige verblijfskaart" in printout.texts
    assert "Bedankt voor uw bezoek" in printout.texts
    assert not any("?" in text for text in printout.texts)


def test_unprintable_language_without_main_versions_falls_back_to_english(make_ticket):
    t = make_ticket(
        language="uk",
        service_name="Отримання посвідки",
        labels={"your_number": "Ваш номер"},
        labels_main=None,
        bring=["Посвідка на проживання"],
        footer="Дякуємо",
    )
    printout = read_escpos(render_escpos(t))
    assert "Your number" in printout.texts
    assert "Отримання посвідки" not in printout.texts
    assert "Nieuwe pincode (met PUK)" in printout.texts
    assert not any(text.startswith("- ") for text in printout.texts)  # no bring list to print
    assert "Дякуємо" not in printout.texts


def test_latin_letters_outside_the_code_page_lose_only_their_accent(make_ticket):
    t = make_ticket(language="pl", service_name="Odbiór karty (Łódź-Śródmieście)")
    printout = read_escpos(render_escpos(t))
    assert "Odbiór karty (Lódz-Sródmiescie)" in printout.texts


def test_unprintable_characters_in_main_texts_do_not_stop_the_ticket(make_ticket):
    t = make_ticket(municipality="Gemeente ✓ Demostad")
    printout = read_escpos(render_escpos(t))
    assert "Gemeente ? Demostad" in printout.texts
