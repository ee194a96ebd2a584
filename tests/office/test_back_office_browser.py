"""The back office in a real Chromium: a register file refused, then one imported; the card
handed over at the desk, and the kiosk then no longer offering it; a code request taken
through its states. With KIOSK_SCREENSHOTS=<directory> the screens are saved there too."""

import re

import pytest
from playwright.sync_api import expect

from kiosk import code_requests
from kiosk.demo import demo_pickups_csv
from kiosk.extensions import office
from tests.desk.conftest import CHECKIN, NATIONAL_NUMBER, issue
from tests.office.pages import KIOSK, accessible, keep, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def upload(page, data: bytes) -> None:
    page.locator("#file").set_input_files({"name": "register.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_role("button", name="Check the file").click()


def test_register_upload_then_handed_over_at_the_desk_and_refused_at_the_kiosk(app, screen, staff, reader):
    with app.app_context():
        today = office.queue.today()
    register = demo_pickups_csv(today)
    back_office = signed_in(screen, "supervisor", "/office/pickups")
    accessible(back_office)

    bad = register.replace(b"DEMO00000001", b"D1", 1).replace(today.isoformat().encode(), b"gisteren", 1)
    upload(back_office, bad)
    problems = back_office.get_by_role("alert")
    expect(problems).to_contain_text("Nothing was saved")
    expect(problems).to_contain_text("line 2: card_number must be 6 to 32 letters or digits")
    expect(problems).to_contain_text("arrived_on must be a date")
    accessible(back_office)

    upload(back_office, register)
    rows = len(register.splitlines()) - 1
    expect(back_office.get_by_role("heading", name=f"The file holds {rows} cards. Import them?")).to_be_visible()
    accessible(back_office)
    back_office.get_by_role("button", name=f"Import {rows} cards").click()
    expect(back_office.get_by_role("status")).to_have_text(f"Cards imported into the register: {rows}.")
    expect(back_office.locator("table.register tbody tr")).to_have_count(rows)
    keep(back_office, "office-pickups.png")

    # the citizen takes a pickup ticket at the kiosk
    kiosk = screen("/kiosk/", viewport=KIOSK, has_touch=True)
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".visit-pickup").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify\?visit=pickup$"))
    reader.insert("adult-f-plus")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))
    expect(kiosk.locator(".notice.ok")).to_be_visible()
    for item in kiosk.locator(".check-item").all():
        item.tap()
    kiosk.locator(".take-ticket").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ticket$"))
    reader.remove()

    # the clerk hands the card over and says so
    desk = signed_in(screen, "clerk", "/desk/1/")
    desk.get_by_role("button", name=re.compile("^Call next")).click()
    expect(desk.locator('[data-field="pickup"] dd')).to_contain_text("DEMO00000001")
    desk.get_by_role("button", name=re.compile("^Finish")).click()
    question = desk.get_by_role("group", name="Was the new card handed over?")
    expect(question).to_be_visible()
    accessible(desk)
    question.get_by_role("button", name="Yes, handed over").click()
    expect(desk.locator("#message")).to_have_text("Card DEMO00000001 is marked as collected in the register.")
    expect(desk.locator("#current-empty")).to_be_visible()

    # the same card at the kiosk: no longer ready
    kiosk.goto(kiosk.url.split("/kiosk/")[0] + "/kiosk/")
    kiosk.locator(".language-choices a[lang=en]").tap()
    kiosk.locator(".visit-pickup").tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify\?visit=pickup$"))
    reader.insert("adult-f-plus")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/check$"))
    expect(kiosk.locator(".notice.stop")).to_be_visible()
    expect(kiosk.locator(".take-ticket")).to_have_count(0)

    back_office.goto(back_office.url.split("/office/")[0] + "/office/pickups?status=collected")
    expect(back_office.locator("table.register tbody")).to_contain_text("clerk (clerk)")


def test_a_code_request_from_ordered_to_collected(app, screen, staff):
    ticket = issue(app, "new_codes", dict(CHECKIN, visit="new_codes", pickup=None), language="en")
    with app.app_context():
        request_id = code_requests.record(office.engine, ticket["id"], NATIONAL_NUMBER, "", office.clock()).id
    supervisor = signed_in(screen, "supervisor", "/office/code-requests")
    row = supervisor.locator("table.requests tbody tr").filter(has_text=ticket["number"])
    expect(row).to_contain_text("Take the fee at the desk")
    row.get_by_role("button", name=re.compile("^Fee paid")).click()
    expect(supervisor.get_by_role("status")).to_have_text(f"Request {request_id}: Ordered.")
    supervisor.get_by_label("The national numbers on the envelopes, one a line").fill("85.07.30-033.28")
    supervisor.get_by_role("button", name="Mark arrived").click()
    expect(supervisor.get_by_role("status")).to_have_text("Requests marked arrived: 1.")
    row = supervisor.locator("table.requests tbody tr").filter(has_text=ticket["number"])
    expect(row).to_contain_text("No contact left: tell the citizen by letter or phone")
    accessible(supervisor)
    keep(supervisor, "office-code-requests.png")
    row.get_by_role("button", name=re.compile("^Collected")).click()
    expect(supervisor.get_by_role("status")).to_have_text(f"Request {request_id}: Collected.")
    with app.app_context():
        assert code_requests.state_of(office.engine, request_id) == "collected"
