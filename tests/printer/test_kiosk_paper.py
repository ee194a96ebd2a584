"""The kiosk's ticket on paper, on the fake network printer: the citizen's language as the
screen shows it, with the office's main language alongside."""

import pytest

from hardware.printer import paper_ticket
from kiosk.extensions import office
from kiosk.printing import preview_html, print_ticket, ticket_print
from kiosk.site import DEMO_PROFILE
from tests.printer.escpos_reader import read_escpos
from tests.printer.test_printer_preview import html_lines


@pytest.fixture
def database_url(tmp_path):
    """Printing does not depend on the database kind."""
    return f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"


@pytest.fixture
def printer_table(fake_printer):
    return f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = {fake_printer.port}\n'


@pytest.fixture
def app_config(tmp_path, clock, printer_table):
    site = tmp_path / "site.toml"
    demo = DEMO_PROFILE.read_text(encoding="utf-8")
    assert '[printer]\nkind = "simulated"\n' in demo
    site.write_text(demo.replace('[printer]\nkind = "simulated"\n', printer_table), encoding="utf-8")
    return {"SITE": str(site), "DATA_DIR": str(tmp_path), "CLOCK": clock, "TESTING": True}


@pytest.mark.parametrize("language, word", [("ar", "بطاقة"), ("uk", "посвідк")])
def test_the_paper_carries_what_the_screen_shows(app, fake_printer, language, word):
    with app.app_context():
        ticket, place = office.queue.issue("pickup", language=language)
        outcome = print_ticket(ticket, place)
        screen = html_lines(str(preview_html(ticket, place))).lines
        model = ticket_print(ticket, place)
        raster = office.printer.raster
        paper = paper_ticket(model, office.printer.printer.settings.code_page, raster.covers)
    assert outcome.printed and outcome.status.note is None
    printout = read_escpos(fake_printer.wait_for_job(5.0).data)

    assert paper.complete
    assert screen == [(line.role, line.text) for line in paper.lines]  # the same content
    assert any(word in text for role, text in screen if role in ("service", "bring_item"))
    # The main language's service name, the number and the time print as text; the citizen's
    # words as pictures.
    assert model.service_name_main in printout.texts and ticket.number in printout.texts
    assert printout.rasters
    printed_text = set(printout.texts)
    for line in paper.lines:
        if not line.raster and line.role not in ("qr", "bring_item"):
            assert line.text in printed_text, line


@pytest.mark.parametrize("printer_table", ['[printer]\nkind = "simulated"\nraster_font = "/nonexistent/font.ttf"\n'])
def test_the_kiosk_health_says_when_the_paper_falls_back_to_the_main_language(app, client, printer_table):
    health = client.get("/kiosk/health").get_json()
    note = health["printer"]["note"]
    assert "/nonexistent/font.ttf" in note and "main language" in note
    assert health["printer"]["ready"] is True  # it still prints
