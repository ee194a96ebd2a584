"""The pickup register in the back office and through the API: upload with a preview, all or
nothing; search; one card added or corrected; handed over (at the desk too); exports;
reminder letters."""

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from kiosk import pickups
from kiosk.extensions import office
from kiosk.tokens import create_token
from tests.conftest import bearer
from tests.desk.conftest import CHECKIN, SignedIn, form_csrf, issue

HEADER = "card_number,national_number,name,storage,arrived_on\n"
ROWS = [
    'B123456789,85073003328,"Testperson, Alex","Kast A, lade 2",2026-11-20',
    'B987654321,90010100123,"Voorbeeld, Sam",Kast B,2026-10-01',
]
BAD = [
    'B123456789,85073003328,"Testperson, Alex",Kast A,2026-11-20',
    "B555,12345678901,,Kast C,yesterday",
]


def csv_file(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def supervisor(client, staff):
    return SignedIn(client, "supervisor")


def upload(signed: SignedIn, data: bytes):
    html = page(signed.client.get("/office/pickups"))
    return signed.client.post(
        "/office/pickups/upload",
        data={"csrf_token": form_csrf(html), "file": (io.BytesIO(data), "register.csv")},
        content_type="multipart/form-data",
    )


def entries(app, status="ready", query=""):
    with app.app_context():
        return pickups.entries(office.engine, status, query, dt.date(2026, 11, 24), 30)


def test_a_bad_file_is_refused_whole_with_every_bad_line(app, supervisor):
    response = upload(supervisor, csv_file(*BAD))
    assert response.status_code == 400
    html = page(response)
    assert "Nothing was saved" in html and "line 3:" in html
    assert "card_number must be 6 to 32 letters or digits" in html and "arrived_on must be a date" in html
    assert entries(app) == []


def test_a_good_file_is_previewed_then_imported_when_confirmed(app, supervisor):
    response = upload(supervisor, csv_file(*ROWS))
    assert response.status_code == 200
    html = page(response)
    assert "The file holds 2 cards" in html and "Kast A, lade 2" in html
    assert entries(app) == []  # nothing is written before the confirmation
    text = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    confirmed = supervisor.client.post(
        "/office/pickups/import", data={"csrf_token": form_csrf(html), "text": text.replace("&#34;", '"')}
    )
    assert confirmed.status_code == 302
    assert "Cards imported into the register: 2." in page(supervisor.client.get("/office/pickups"))
    assert [e.card_number for e in entries(app)] == ["B987654321", "B123456789"]  # the longest waiting first


def test_search_by_card_number_name_or_storage(app, supervisor):
    with app.app_context():
        pickups.import_pickups(office.engine, csv_file(*ROWS), dt.date(2026, 11, 24), office.clock())
    for query in ("b-987 654", "voorbeeld", "kast b"):
        assert [e.card_number for e in entries(app, query=query)] == ["B987654321"], query
    assert "Voorbeeld, Sam" in page(supervisor.client.get("/office/pickups?q=kast+b"))
    assert "Testperson" not in page(supervisor.client.get("/office/pickups?q=kast+b"))
    assert entries(app, query="%") == []  # a wildcard is a character like any other


def test_one_card_is_added_then_corrected_and_a_bad_one_says_why(app, supervisor):
    html = page(supervisor.client.get("/office/pickups"))
    card = dict(
        csrf_token=form_csrf(html),
        card_number="C-111 222 333",
        national_number="85.07.30-033.28",
        name="Testperson, Alex",
        storage="Kast D",
        arrived_on="2026-11-23",
    )
    assert supervisor.client.post("/office/pickups/save", data=card).status_code == 302
    assert supervisor.client.post("/office/pickups/save", data=dict(card, storage="Kast E")).status_code == 302
    assert [(e.card_number, e.storage) for e in entries(app)] == [("C111222333", "Kast E")]
    refused = supervisor.client.post("/office/pickups/save", data=dict(card, national_number="85073003329"))
    assert refused.status_code == 400 and "not a valid national number" in page(refused)
    assert 'value="85073003329"' in page(refused)  # what was typed stays in the form
    refused = supervisor.client.post("/office/pickups/save", data=dict(card, contact="0470 12"))
    assert refused.status_code == 400 and "contact is not a phone number we can send" in page(refused)
    with_contact = dict(card, contact="0470 12 34 56", language="de")
    assert supervisor.client.post("/office/pickups/save", data=with_contact).status_code == 302
    (saved,) = entries(app)
    assert (saved.contact_kind, saved.contact, saved.language) == ("phone", "+32470123456", "de")
    assert "<td>text message</td>" in page(supervisor.client.get("/office/pickups"))


def test_clerks_read_and_hand_over_but_do_not_keep_the_register(app, client, staff):
    with app.app_context():
        pickups.import_pickups(office.engine, csv_file(*ROWS), dt.date(2026, 11, 24), office.clock())
    clerk = SignedIn(client, "clerk")
    html = page(clerk.client.get("/office/pickups"))
    assert "B123456789" in html and "Upload a register file" not in html
    assert clerk.client.post("/office/pickups/save", data={"csrf_token": form_csrf(html)}).status_code == 403
    assert clerk.client.get("/office/pickups.csv").status_code == 403
    done = clerk.client.post("/office/pickups/B123456789/collected", data={"csrf_token": form_csrf(html)})
    assert done.status_code == 302
    (collected,) = entries(app, "collected")
    assert collected.card_number == "B123456789" and collected.collected_by == "clerk (clerk)"


def test_the_api_imports_lists_and_hands_over_with_the_right_tokens(app):
    client = app.test_client()
    with app.app_context():
        desk, kiosk, back_office = (
            create_token(office.engine, role, f"test {role}", office.clock()) for role in ("desk", "kiosk", "office")
        )
    csv_headers = {"Content-Type": "text/csv"}
    url = "/api/pickups/import"
    assert client.post(url, data=csv_file(*ROWS), headers=csv_headers).status_code == 401
    assert client.post(url, data=csv_file(*ROWS), headers={**csv_headers, **bearer(desk)}).status_code == 403
    assert client.post(url, data=csv_file(*ROWS), headers=bearer(back_office)).status_code == 415
    bad = client.post(url, data=csv_file(*BAD), headers={**csv_headers, **bearer(back_office)})
    assert bad.status_code == 400 and bad.get_json()["problems"][0].startswith("line 3:")
    good = client.post(url, data=csv_file(*ROWS), headers={**csv_headers, **bearer(back_office)})
    assert good.get_json() == {"imported": 2}
    assert client.get("/api/pickups", headers=bearer(kiosk)).status_code == 403
    listed = client.get("/api/pickups?status=ready", headers=bearer(desk)).get_json()["pickups"]
    assert [(p["card_number"], p["reminder_by"]) for p in listed] == [
        ("B987654321", "letter"),
        ("B123456789", "letter"),
    ]
    assert client.post("/api/pickups/B123456789/collected", headers=bearer(desk)).status_code == 200
    assert client.post("/api/pickups/B123456789/collected", headers=bearer(desk)).status_code == 404  # not twice
    collected = client.get("/api/pickups?status=collected", headers=bearer(desk)).get_json()["pickups"]
    assert [(p["card_number"], p["collected_by"]) for p in collected] == [("B123456789", "test desk (desk)")]
    assert client.get("/api/pickups?status=lost", headers=bearer(desk)).status_code == 400


def test_a_register_file_bigger_than_a_form_field_is_imported(app):
    """The upload may be far bigger than any other request (REGISTER_UPLOAD_MAX)."""
    rows = [f'C{n:09d},85073003328,"Testperson, Alex {n}",Kast {n % 40},2026-11-20' for n in range(6000)]
    data = csv_file(*rows)
    assert len(data) > app.config["MAX_CONTENT_LENGTH"]
    with app.app_context():
        token = create_token(office.engine, "office", "import", office.clock())
    client = app.test_client()
    response = client.post("/api/pickups/import", data=data, headers={"Content-Type": "text/csv", **bearer(token)})
    assert response.get_json() == {"imported": 6000}


def test_exports_can_be_read_back(app, supervisor):
    with app.app_context():
        pickups.import_pickups(office.engine, csv_file(*ROWS), dt.date(2026, 11, 24), office.clock())
    exported = supervisor.client.get("/office/pickups.csv?status=ready")
    assert exported.headers["Cache-Control"] == "no-store"
    table = list(csv.reader(io.StringIO(exported.get_data().decode("utf-8-sig")), delimiter=";"))
    assert table[0][:5] == ["card_number", "national_number", "name", "storage", "arrived_on"]
    assert {row[0] for row in table[1:]} == {"B123456789", "B987654321"}
    # what was exported imports again as it is
    with app.app_context():
        assert pickups.parse_pickups(exported.get_data(), dt.date(2026, 11, 24))[0].name == "Voorbeeld, Sam"
    book = load_workbook(io.BytesIO(supervisor.client.get("/office/pickups.xlsx?q=kast+a").get_data()))
    sheet = book.active
    assert [c.value for c in sheet[2]][:4] == ["B123456789", "85073003328", "Testperson, Alex", "Kast A, lade 2"]
    assert sheet.max_row == 2


def test_cards_waiting_long_are_listed_for_a_reminder_letter_once(app, supervisor, clock):
    with app.app_context():
        pickups.import_pickups(office.engine, csv_file(*ROWS), dt.date(2026, 11, 24), office.clock())
    due = entries(app, "reminder_due")
    assert [e.card_number for e in due] == ["B987654321"]  # arrived 2026-10-01: more than 30 days
    letters = page(supervisor.client.get("/office/pickups/reminders"))
    assert "Voorbeeld, Sam" in letters and "Testperson" not in letters
    printed = supervisor.client.post(
        "/office/pickups/reminders/printed", data={"csrf_token": form_csrf(letters), "card": ["B987654321"]}
    )
    assert printed.status_code == 302
    assert entries(app, "reminder_due") == []
    # and again once it has waited as long since the letter
    with app.app_context():
        later = pickups.entries(office.engine, "reminder_due", "", dt.date(2026, 12, 25), 30)
    assert [e.card_number for e in later] == ["B987654321", "B123456789"]


def test_a_card_handed_over_at_the_desk_is_no_longer_ready_at_the_kiosk(app, client, staff):
    with app.app_context():
        pickups.import_pickups(office.engine, csv_file(*ROWS), dt.date(2026, 11, 24), office.clock())
    ticket = issue(app, "pickup", dict(CHECKIN, pickup={"storage": "Kast A, lade 2", "card_number": "B123456789"}))
    clerk = SignedIn(client, "clerk")
    assert clerk.post("/api/counters/1/call-next", json={"current": None}).get_json()["id"] == ticket["id"]
    assert clerk.post(f"/desk/2/tickets/{ticket['id']}/handed-over").status_code == 409  # not at that counter
    handed = clerk.post(f"/desk/1/tickets/{ticket['id']}/handed-over")
    assert handed.get_json() == {"card_number": "B123456789", "collected": True}
    with app.app_context():
        assert pickups.ready_for(office.engine, "85073003328") is None
    assert clerk.post(f"/desk/1/tickets/{ticket['id']}/handed-over").get_json()["collected"] is False


def test_the_overview_counts_what_waits(app, supervisor):
    with app.app_context():
        pickups.import_pickups(office.engine, csv_file(*ROWS), dt.date(2026, 11, 24), office.clock())
    html = page(supervisor.client.get("/office/"))
    assert "Cards waiting long, reminder due: 1" in html
    assert supervisor.client.get("/office/", follow_redirects=False).status_code == 200
    signed_out = app.test_client().get("/office/pickups")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
