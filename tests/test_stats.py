"""Statistics and the live view for supervisors: figures from a history made with the queue engine
itself on a set clock (so every number is known), on SQLite and PostgreSQL; the pages, the CSV,
the log, and who may see them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from sqlalchemy import insert

from kiosk import fleet
from kiosk.disclosures import record_disclosure
from kiosk.extensions import office
from kiosk.schema import tickets
from kiosk.site import load_site_profile
from kiosk.stats import MAX_DAYS, History, Period, PeriodError, compute, median, oldest_wait, percentile, wait_alarm
from kiosk.supervision.log import PAGE_SIZE
from tests.desk import conftest as desk
from tests.desk.conftest import CHECKIN, NAME, NATIONAL_NUMBER, SignedIn
from tests.sites import site_variant

client, staff = desk.client, desk.staff  # the desk's fixtures: an English browser, an account per role

TUESDAY = dt.date(2026, 11, 24)
AT_NINE = dt.datetime(2026, 11, 24, 8, 0)  # 09:00 in Brussels (UTC+1 in November)


def visit(queue, clock, *, wait_s: float, served_s: float | None = None, service="pickup", counter=1, end="finish"):
    """One citizen from ticket to outcome, alone in the queue: issued now, called `wait_s` later
    at `counter`, then finished `served_s` after the call (or marked no-show, or left there)."""
    ticket, _ = queue.issue(service, language="nl")
    clock.advance(seconds=wait_s)
    called = queue.call_next(counter)
    assert called is not None and called.id == ticket.id
    if served_s is not None:
        clock.advance(seconds=served_s)
    if end == "finish":
        queue.finish(ticket.id)
    elif end == "no_show":
        queue.no_show(ticket.id)
    clock.advance(minutes=1)
    return ticket


def one_day(day: dt.date = TUESDAY) -> Period:
    return Period(day, day)


# --- the rules of the figures ------------------------------------------------------------------


def test_median_is_the_middle_and_the_90th_percentile_the_nearest_rank():
    assert median([]) is None and percentile([], 90) is None
    assert median([1, 2, 3]) == 2 and median([1, 2, 3, 4]) == 2.5
    assert percentile(list(range(1, 11)), 90) == 9  # nine of ten did not wait longer
    assert percentile(list(range(1, 71)), 90) == 63  # 0.9 * 70 is 63.000000000000014 in floats
    assert percentile([5], 90) == 5 and percentile([1, 2], 90) == 2


def test_a_period_runs_from_one_business_day_to_another_and_at_most_a_year():
    assert Period(TUESDAY, TUESDAY).days == 1
    assert Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31)).days == MAX_DAYS  # a leap year fits
    with pytest.raises(PeriodError) as reversed_:
        Period(TUESDAY, TUESDAY - dt.timedelta(days=1))
    with pytest.raises(PeriodError) as too_long:
        Period(TUESDAY, TUESDAY + dt.timedelta(days=MAX_DAYS))
    assert (reversed_.value.kind, too_long.value.kind) == ("reversed", "too_long")


def test_waiting_and_service_times_have_exact_medians_and_90th_percentiles(queue, clock):
    clock.now = AT_NINE
    for wait_s, served_s in ((60, 30), (120, 90), (180, 150), (240, 210), (600, 400)):
        visit(queue, clock, wait_s=wait_s, served_s=served_s)
    figures = compute(queue, one_day()).total
    assert (figures.issued, figures.served, figures.no_shows, figures.left_at_closing) == (5, 5, 0, 0)
    assert (figures.wait.count, figures.wait.median_s, figures.wait.p90_s) == (5, 180, 600)
    assert (figures.service.count, figures.service.median_s, figures.service.p90_s) == (5, 150, 400)

    visit(queue, clock, wait_s=900, served_s=45)  # a sixth: the median is between the middle two
    figures = compute(queue, one_day()).total
    assert (figures.wait.median_s, figures.wait.p90_s) == (210, 900)
    assert (figures.service.median_s, figures.service.p90_s) == (120, 400)


def test_days_and_hours_are_the_sites_business_days_and_local_hours(queue, clock):
    moments = [
        dt.datetime(2026, 7, 7, 7, 10),  # 09:10 in Brussels, summer time (UTC+2)
        dt.datetime(2026, 11, 24, 8, 10),  # 09:10, winter time (UTC+1)
        dt.datetime(2026, 11, 25, 2, 30),  # 03:30 on Wednesday: before the 04:00 reset, still Tuesday
        dt.datetime(2026, 11, 25, 3, 30),  # 04:30: Wednesday
    ]
    for moment in moments:
        clock.now = moment
        queue.issue("pickup", language="nl")
    s = compute(queue, Period(dt.date(2026, 7, 7), dt.date(2026, 11, 25)))
    issued = {day: f.issued for day, f in s.by_day.items() if f.issued}
    assert issued == {dt.date(2026, 7, 7): 1, TUESDAY: 2, dt.date(2026, 11, 25): 1}
    assert len(s.by_day) == 142  # every day of the period: the demo office is open every day
    assert {hour: f.issued for hour, f in s.by_hour.items()} == {3: 1, 4: 1, 5: 0, 6: 0, 7: 0, 8: 0, 9: 2}


def test_no_shows_tickets_left_at_closing_and_the_counters_they_ended_at(queue, clock):
    clock.now = AT_NINE
    visit(queue, clock, wait_s=60, end="no_show")
    visit(queue, clock, wait_s=120, served_s=300, service="pin_reset", counter=3)
    visit(queue, clock, wait_s=180, end="stay")  # still at counter 1 at closing
    parked = visit(queue, clock, wait_s=30, service="new_codes", counter=3, end="stay")
    queue.park(parked.id)
    queue.issue("activation", language="nl")  # never called
    clock.now = dt.datetime(2026, 11, 25, 8, 0)  # the next day's first ticket closes Tuesday
    queue.issue("pickup", language="nl")

    s = compute(queue, one_day())
    total = s.total
    assert (total.issued, total.served, total.no_shows, total.left_at_closing, total.other) == (5, 1, 1, 3, 0)
    assert total.wait.count == 4  # the one never called has no waiting time
    assert list(s.by_service) == ["pickup", "activation", "pin_reset", "new_codes"]  # the profile's order
    assert [(f.issued, f.no_shows, f.left_at_closing) for f in s.by_service.values()] == [
        (2, 1, 1),
        (1, 0, 1),
        (1, 0, 0),
        (1, 0, 1),
    ]
    counters = {number: (f.issued, f.served, f.no_shows) for number, f in s.by_counter.items()}
    assert counters == {1: (1, 0, 1), 2: (0, 0, 0), 3: (1, 1, 0)}  # tickets left there end at no counter
    assert s.by_counter[3].service.median_s == 300


def test_a_ticket_called_again_keeps_its_first_wait_and_is_served_from_its_last_call(queue, clock):
    clock.now = AT_NINE
    ticket, _ = queue.issue("pickup", language="nl")
    clock.advance(minutes=5)
    queue.call_next(1)  # waited five minutes
    clock.advance(minutes=1)
    queue.park(ticket.id)
    clock.advance(minutes=1)
    queue.return_to_queue(ticket.id)
    clock.advance(minutes=10)
    queue.call_next(1)
    clock.advance(minutes=3)
    queue.finish(ticket.id)
    other, _ = queue.issue("pickup", language="nl")
    clock.advance(minutes=2)
    queue.transfer(other.id, "activation")
    clock.advance(minutes=2)
    queue.call_next(2)
    clock.advance(minutes=1)
    queue.finish(other.id)

    s = compute(queue, one_day())
    assert (s.by_service["pickup"].wait.median_s, s.by_service["pickup"].service.median_s) == (300, 180)
    assert s.by_service["activation"].issued == 1  # a transfer counts for the service it ended in
    assert (s.by_service["activation"].wait.median_s, s.by_service["activation"].service.median_s) == (240, 60)


def test_a_closed_day_is_counted_once_but_again_when_its_tickets_change(queue, clock):
    history = History(queue)
    clock.now = AT_NINE
    visit(queue, clock, wait_s=60, served_s=60)
    waiting, _ = queue.issue("pickup", language="nl")
    clock.now = dt.datetime(2026, 11, 25, 8, 0)  # Wednesday; nobody took a ticket yet to close Tuesday
    both = Period(TUESDAY, dt.date(2026, 11, 25))
    tuesday = history.compute(both).by_day[TUESDAY]
    assert (tuesday.issued, tuesday.served, tuesday.left_at_closing, tuesday.other) == (2, 1, 0, 1)
    queue.close_past_days()  # a day with a ticket open was not kept: the expiry shows
    assert history.compute(both).by_day[TUESDAY].left_at_closing == 1

    today, _ = queue.issue("activation", language="nl")  # today changes all the time
    assert history.compute(both).by_day[dt.date(2026, 11, 25)].served == 0
    clock.advance(minutes=4)
    queue.call_next(1)
    queue.finish(today.id)
    assert history.compute(both).by_day[dt.date(2026, 11, 25)].served == 1

    assert history.compute(one_day()).total.issued == history.compute(one_day()).total.issued == 2  # kept whole
    with queue.engine.begin() as conn:  # Tuesday's history grows after it was kept (a restored backup)
        conn.execute(
            insert(tickets).values(
                day=TUESDAY,
                number="A900",
                service="pickup",
                status="cancelled",
                priority=0,
                language="nl",
                arrived_at=AT_NINE,
                status_token="restored-a900",
            )
        )
    assert history.compute(both).by_day[TUESDAY].issued == 3
    assert history.compute(one_day()).total.issued == 3
    assert history.compute(both) == compute(queue, both)  # kept or counted afresh: the same figures


# --- the alarm ---------------------------------------------------------------------------------


def test_the_alarm_goes_on_when_someone_has_waited_the_profiles_minutes(queue, clock, demo_site, tmp_path):
    clock.now = AT_NINE
    assert oldest_wait(queue) is None
    assert not wait_alarm(demo_site, None).on and wait_alarm(demo_site, None).due_in is None
    queue.issue("pickup", language="nl")
    clock.advance(minutes=10)
    queue.issue("activation", language="nl")
    clock.advance(minutes=19, seconds=59)
    alarm = wait_alarm(demo_site, oldest_wait(queue))
    assert demo_site.wait_alarm_minutes == 30  # the default
    assert (alarm.on, alarm.oldest, alarm.due_in) == (
        False,
        dt.timedelta(minutes=29, seconds=59),
        dt.timedelta(seconds=1),
    )
    clock.advance(seconds=1)
    assert wait_alarm(demo_site, oldest_wait(queue)).on

    strict = load_site_profile(
        site_variant(tmp_path, ("retention_days = 30", "retention_days = 30\nwait_alarm_minutes = 5"))
    )
    assert strict.wait_alarm_minutes == 5 and wait_alarm(strict, dt.timedelta(minutes=5)).on
    queue.call_next(1)  # the one waiting longest is called: the other has waited twenty minutes
    assert oldest_wait(queue) == dt.timedelta(minutes=20)
    assert not wait_alarm(demo_site, oldest_wait(queue)).on and wait_alarm(strict, oldest_wait(queue)).on


def test_the_alarm_setting_must_be_a_whole_number_of_minutes(tmp_path):
    from kiosk.site import SiteProfileError

    for value, problem in (("0", "must be at least 1"), ('"30"', "must be an integer")):
        path = site_variant(tmp_path, ("retention_days = 30", f"retention_days = 30\nwait_alarm_minutes = {value}"))
        with pytest.raises(SiteProfileError, match=f"site.wait_alarm_minutes: {problem}"):
            load_site_profile(path)


# --- the pages -----------------------------------------------------------------------------------


@pytest.fixture
def supervisor(client, staff):
    return SignedIn(client, "supervisor")


def history_of_tuesday(app, clock):
    with app.app_context():
        clock.now = AT_NINE
        for wait_s, served_s in ((60, 30), (120, 90), (180, 150), (240, 210), (600, 400)):
            visit(office.queue, clock, wait_s=wait_s, served_s=served_s)
        visit(office.queue, clock, wait_s=300, end="no_show")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_the_statistics_page_has_the_figures_and_each_chart_a_title_and_a_table(app, client, supervisor, clock):
    history_of_tuesday(app, clock)
    page = text_of(client.get("/office/stats?from=2026-11-24&to=2026-11-24"))
    summary = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))
    assert summary["Tickets issued"] == "6" and summary["No-shows"] == "1" and summary["Served"] == "5"
    assert summary["Waiting time, median"] == "3:30" and summary["Waiting time, 90th percentile"] == "10:00"
    assert summary["Service time, median"] == "2:30" and summary["Service time, 90th percentile"] == "6:40"
    charts = re.findall(r'<figure class="chart".*?</figure>', page, re.S)
    assert len(charts) == 4
    for chart in charts:
        title = re.search(r"<title id=\"[\w-]+\">([^<]+)</title>", chart).group(1)
        assert re.search(r'<svg [^>]*role="img"[^>]*aria-labelledby="[\w-]+-title [\w-]+-desc"', chart)
        assert f"<summary>{title} as a table</summary>" in chart and "<table" in chart
    per_day = charts[0]
    assert re.search(r'<th scope="row">Tue 24 Nov 2026</th><td>5</td><td>1</td><td>0</td><td>0</td>', per_day)
    assert "<rect " in page and "<script" not in page  # drawn on the server: the page has no script
    assert "Testperson" not in page and NATIONAL_NUMBER not in page


def test_the_csv_has_a_row_per_total_day_hour_service_and_counter(app, client, supervisor, clock):
    history_of_tuesday(app, clock)
    response = client.get("/office/stats.csv?from=2026-11-23&to=2026-11-24")
    assert response.mimetype == "text/csv"
    assert 'filename="statistics-2026-11-23-2026-11-24.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    by = {(r["breakdown"], r["key"]): r for r in rows}
    total = by[("total", "2026-11-23/2026-11-24")]
    assert (total["issued"], total["served"], total["no_shows"], total["left_at_closing"]) == ("6", "5", "1", "0")
    assert (total["wait_median_s"], total["wait_p90_s"], total["service_p90_s"]) == ("210", "600", "400")
    assert by[("day", "2026-11-23")]["issued"] == "0" and by[("day", "2026-11-24")]["issued"] == "6"
    assert by[("hour", "9")]["issued"] == "6"
    assert by[("service", "pickup")]["waits_measured"] == "6" and by[("service", "new_codes")]["issued"] == "0"
    assert by[("counter", "1")]["served"] == "5"


@pytest.mark.parametrize(
    "query, problem",
    [
        ("from=2026-13-01&to=2026-12-31", "“2026-13-01” is not a date"),
        ("from=20261124&to=2026-11-30", "“20261124” is not a date"),
        ("from=yesterday", "“yesterday” is not a date"),
        ("from=2026-11-24&to=2026-11-01", "The period ends before it starts: 2026-11-01 is before 2026-11-24."),
        ("from=2025-11-23&to=2026-11-24", "367 days is too long: choose at most 366 days."),
    ],
)
def test_a_bad_period_gets_400_and_says_why(client, supervisor, query, problem):
    page = client.get(f"/office/stats?{query}")
    assert page.status_code == 400 and problem in text_of(page)
    assert 'role="alert"' in text_of(page) and 'name="from"' in text_of(page)  # the form, to correct it
    export = client.get(f"/office/stats.csv?{query}")
    assert export.status_code == 400 and problem in text_of(export)


def test_without_dates_the_page_shows_the_four_weeks_up_to_today(client, supervisor, clock):
    clock.now = AT_NINE
    page = text_of(client.get("/office/stats"))
    assert 'value="2026-10-28"' in page and 'value="2026-11-24"' in page
    assert 'value="2026-11-10"' in text_of(client.get("/office/stats?from=2026-11-10")).split('name="to"')[0]


PAGES = ["/office/stats", "/office/stats.csv", "/office/live", "/office/log"]


def test_only_supervisors_see_statistics_the_live_view_and_the_log(client, staff):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/login?next="), path
    assert client.get("/office/live/state", headers={"Accept": "application/json"}).status_code == 401
    for role in ("clerk", "facility"):
        signed_in = SignedIn(client, role)
        for path in [*PAGES, "/office/live/state"]:
            assert client.get(path).status_code == 403, (role, path)
        signed_in.client.post("/logout")
    SignedIn(client, "supervisor")
    for path in [*PAGES, "/office/live/state"]:
        assert client.get(path).status_code == 200, path


def test_the_live_state_has_the_waits_the_counters_and_the_alarm(app, client, supervisor, clock):
    clock.now = AT_NINE
    with app.app_context():
        queue = office.queue
        queue.open_counter(3, ["pin_reset"])
        queue.issue("pin_reset", language="nl")
        queue.issue("pin_reset", language="nl")
        queue.call_next(3)
        clock.advance(minutes=25)
        queue.issue("pickup", language="nl")
        clock.advance(minutes=6)
    state = supervisor.get("/office/live/state").get_json()
    waits = {s["service"]: (s["waiting"], s["oldest_wait_s"]) for s in state["services"]}
    assert waits == {"pickup": (1, 360), "activation": (0, None), "pin_reset": (1, 1860), "new_codes": (0, None)}
    assert state["oldest_wait_s"] == 1860 and state["alarm"] == {"on": True, "threshold_s": 1800, "due_in_s": None}
    counters = {c["number"]: (c["open"], c["serving"]) for c in state["counters"]}
    assert counters == {1: (False, None), 2: (False, None), 3: (True, "C001")}
    page = text_of(supervisor.client.get("/office/live"))
    assert 'role="alert"' in page and 'data-state-url="/office/live/state"' in page
    assert 'data-version-url="/live/version"' in page and "<script>" not in page  # settings in data- attributes


def test_the_log_shows_who_saw_which_ticket_and_who_ordered_which_kiosk(app, client, supervisor, clock):
    clock.now = AT_NINE
    with app.app_context():
        ticket, _ = office.queue.issue("pickup", language="nl", checkin=dict(CHECKIN))
        for n in range(PAGE_SIZE + 1):
            clock.advance(seconds=1)
            record_disclosure(office.engine, ticket.id, f"clerk{n:02d}", clock())
        fleet.beat(office.engine, "hall-left", {"reasons": []}, "1.0", clock(), clock())
        fleet.order(office.engine, "hall-left", "out_of_service", by="anna (facility)", now=clock(), message="Paper")
        clock.advance(minutes=1)
        fleet.order(office.engine, "hall-left", "restart_browser", by="anna (facility)", now=clock())
    first = text_of(client.get("/office/log"))
    rows = re.findall(r"<tr><td>([^<]+)</td><td>(clerk\d\d)</td><td>A001</td><td>2026-11-24</td></tr>", first)
    assert len(rows) == PAGE_SIZE and rows[0] == ("2026-11-24 09:00:51", "clerk50")  # newest first, office time
    assert NAME not in first and "Testperson" not in first and NATIONAL_NUMBER not in first
    assert "Page 1 of 2" in first and 'href="/office/log?of=disclosures&amp;page=2"' in first
    assert re.findall(r"<td>(clerk\d\d)</td>", text_of(client.get("/office/log?page=2"))) == ["clerk00"]
    kiosks = text_of(client.get("/office/log?of=kiosks"))
    orders = re.findall(r"<td>anna \(facility\)</td><td>hall-left</td>\s*<td>([^<]+)</td>", kiosks)
    assert orders == ["Browser restarted", "Taken out of service: “Paper”"]
    assert client.get("/office/log?page=0").status_code == 400
    assert client.get("/office/log?of=everything").status_code == 400
