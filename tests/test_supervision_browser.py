"""A supervisor's statistics and live view in a real Chromium against a real waitress server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from kiosk.extensions import office
from tests.desk import conftest as desk
from tests.desk.conftest import PASSWORD
from tests.live import axe_violations
from tests.sites import site_variant

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

staff = desk.staff  # the desk's fixture: an account per role
ALARM_MINUTES = 5  # well inside the 30 minutes that sign a supervisor out when they do nothing
MONDAY = dt.date(2026, 11, 23)


@pytest.fixture
def app_config(app_config, tmp_path):
    site = site_variant(tmp_path, ("retention_days = 30", f"retention_days = 30\nwait_alarm_minutes = {ALARM_MINUTES}"))
    return {**app_config, "SITE": str(site)}


def sign_in(page, url: str) -> None:
    page.goto(url)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill("supervisor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def three_days_of_history(app, clock) -> None:
    """Monday to Wednesday: each day four citizens in the morning and two in the afternoon, each
    waiting a minute longer than the one before; the last of each day is not there when called."""
    with app.app_context():
        queue = office.queue
        for n in range(3):
            for hour, citizens in ((8, 4), (13, 2)):  # 09:00 and 14:00 in Brussels
                clock.now = dt.datetime.combine(MONDAY + dt.timedelta(days=n), dt.time(hour))
                for k in range(citizens):
                    ticket, _ = queue.issue("pickup" if k % 2 else "pin_reset", language="nl")
                    clock.advance(minutes=k + 1)
                    queue.call_next(1)
                    clock.advance(minutes=4)
                    if hour == 13 and k == citizens - 1:
                        queue.no_show(ticket.id)
                    else:
                        queue.finish(ticket.id)


def test_a_supervisor_reads_the_charts_and_their_tables(app, live_server, page, staff, clock):
    three_days_of_history(app, clock)
    sign_in(page, f"{live_server.url}/office/stats?from=2026-11-23&to=2026-11-25")
    expect(page.get_by_role("heading", name="Statistics", exact=True)).to_be_visible()
    expect(page.locator("figure.chart")).to_have_count(4)
    for title in (
        "Tickets per day",
        "Waiting time per day",
        "Tickets per hour of arrival",
        "Waiting time per hour of arrival",
    ):
        expect(
            page.get_by_role("img", name=re.compile(f"^{title} "))
        ).to_be_visible()  # the SVG's title and description
        table = page.get_by_text(f"{title} as a table", exact=True)
        table.click()
    day = page.locator("figure.chart").first.locator("tbody tr").first
    expect(day).to_have_text(re.compile(r"Mon 23 Nov 2026\s*5\s*1\s*0\s*0"))
    hours = page.locator("figure.chart").nth(2).locator("tbody tr")
    expect(hours).to_have_count(6)  # 09 to 14, the hours between with nothing
    expect(hours.first).to_have_text(re.compile(r"^09:00–10:00\s*12\s*0"))
    services = page.locator("tr[data-service=pin_reset] td")
    expect(services.first).to_have_text("9")  # issued: the first, third of each morning and first of each afternoon
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == "statistics-2026-11-23-2026-11-25.csv"


def test_the_live_view_raises_the_alarm_when_someone_waits_too_long(app, live_server, page, staff, clock):
    clock.now = dt.datetime(2026, 11, 24, 8, 0)
    with app.app_context():
        office.queue.issue("pickup", language="nl")
    page.clock.install()  # the page's own clock, moved on with the office's below
    sign_in(page, f"{live_server.url}/office/live")
    expect(page.locator("#services tr[data-service=pickup] td").first).to_have_text("1")
    expect(page.locator("#waiting-total")).to_have_text("1")
    alarm = page.locator("#wait-alarm")
    expect(alarm).to_be_hidden()
    assert alarm.get_attribute("role") == "alert"

    # Nothing else happens in the queue: time passes (the office's clock and the page's) and the alarm goes on.
    clock.advance(minutes=ALARM_MINUTES + 1)
    page.clock.fast_forward(f"{ALARM_MINUTES + 1:02d}:00")
    expect(page.get_by_role("alert")).to_have_text(
        "Waiting too long: someone has waited 6 minutes for Pick up your new residence card (the alarm is at 5 minutes)."
    )
    expect(page.locator("#services tr.too-long")).to_have_attribute("data-service", "pickup")
    assert axe_violations(page) == []

    with app.app_context():  # a counter calls them: the page hears of it from the queue version
        office.queue.call_next(2)
    expect(alarm).to_be_hidden()
    expect(page.locator("#waiting-total")).to_have_text("0")
    expect(page.locator('#counters tr[data-counter="2"] td').last).to_have_text("A001")
