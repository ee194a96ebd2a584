"""Supervisors' routes: statistics (page and CSV), the live view of the queue, and the log.

The figures and the wait alarm are kiosk.stats'; these views read the request, call it and render.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..accounts.views import staff_page
from ..auth import current_principal, require
from ..extensions import office
from ..live import POLL_INTERVAL_MS, counter_name, service_label, version_url
from ..office.views import navigation
from ..stats import MAX_DAYS, Figures, History, Period, PeriodError, Statistics, longest, wait_alarm, waiting_now
from .charts import BarChart, Series, bar_chart
from .export import statistics_csv
from .log import Disclosure, KioskOrder, Page, disclosure_page, kiosk_order_page

bp = Blueprint("supervision", __name__, url_prefix="/office")

SUPERVISORS = ("supervisor",)
DEFAULT_DAYS = 28  # without dates: the four weeks up to today
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # date.fromisoformat alone also takes 20261124 and 2026-W48-2
ORDER_NAMES = {
    "out_of_service": _l("Taken out of service"),
    "in_service": _l("Put back in service"),
    "reload": _l("Screen reloaded"),
    "restart_screen": _l("Screen restarted"),
    "restart_browser": _l("Browser restarted"),
    "restart_app": _l("App restarted"),
}


@bp.record_once
def _setup(state) -> None:
    # One per app: what it keeps of closed days serves every supervisor's page (kiosk.stats.History).
    state.app.extensions["statistics"] = History(state.app.extensions["office"]["queue"])


bp.context_processor(navigation)  # the back office's links


def _history() -> History:
    return current_app.extensions["statistics"]


def _page(template: str, status: int = 200, **context):
    return render_template(template, principal=current_principal(), **context), status


# --- the period ------------------------------------------------------------------------------


class Refused(Exception):
    """The request's period cannot be shown; the message says why, in the reader's language."""


def _date(text: str) -> dt.date:
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Refused(
            _("“%(text)s” is not a date. Write it as year-month-day, e.g. 2026-11-24.", text=text[:40])
        ) from None


def _period() -> Period:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, business days, both included; either left out: four weeks
    up to today, or from the given start."""
    first_text, last_text = request.args.get("from", ""), request.args.get("to", "")
    last = _date(last_text) if last_text else None
    first = _date(first_text) if first_text else None
    if last is None:
        last = first + dt.timedelta(days=DEFAULT_DAYS - 1) if first else office.queue.business_day()
    if first is None:
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
    try:
        return Period(first, last)
    except PeriodError as exc:
        if exc.kind == "reversed":
            raise Refused(
                _("The period ends before it starts: %(to)s is before %(from)s.", to=last, **{"from": first})
            ) from None
        days = (last - first).days + 1
        raise Refused(_("%(days)d days is too long: choose at most %(most)d days.", days=days, most=MAX_DAYS)) from None


# --- statistics ------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """12:05 (minutes and seconds), 1:02:05 from an hour; – for nothing measured."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _count(value: float | None) -> str:
    return "0" if value is None else str(round(value))


def _outcome_series(figures: list[Figures]) -> list[Series]:
    return [
        Series("served", _("Served"), [f.served for f in figures]),
        Series("no-show", _("No-show"), [f.no_shows for f in figures]),
        Series("left", _("Left at closing"), [f.left_at_closing for f in figures]),
        Series("other", _("Cancelled or still open"), [f.other for f in figures]),
    ]


def _wait_series(figures: list[Figures]) -> list[Series]:
    return [
        Series("p90", _("90th percentile"), [_minutes(f.wait.p90_s) for f in figures]),
        Series("median", _("Median"), [_minutes(f.wait.median_s) for f in figures]),
    ]


def _day_labels(days: list[dt.date]) -> list[tuple[str, str]]:
    """(24 Nov, Tue 24 Nov 2026) in the reader's language: Babel's "d MMM" and "EEE d MMM yyyy",
    from its names of months and weekdays, as formatting a year of days one by one took longer
    than the statistics themselves."""
    locale = get_locale()
    months = locale.months["format"]["abbreviated"]
    weekdays = locale.days["format"]["abbreviated"]
    return [(f"{d.day} {months[d.month]}", f"{weekdays[d.weekday()]} {d.day} {months[d.month]} {d.year}") for d in days]


Labels = Sequence[tuple[str, str]]  # (under the bar, in the table)


def _tickets_chart(key: str, title: str, text: str, axis: str, labels: Labels, figures: list[Figures]) -> BarChart:
    return bar_chart(
        f"tickets-per-{key}", title, text, axis, labels, _outcome_series(figures), stacked=True, shown=_count
    )


def _wait_chart(key: str, title: str, text: str, axis: str, labels: Labels, figures: list[Figures]) -> BarChart:
    return bar_chart(
        f"wait-per-{key}",
        title,
        text,
        axis,
        labels,
        _wait_series(figures),
        stacked=False,
        shown=lambda m: duration(None if m is None else m * 60),
        axis=lambda m: f"{m:g} min",
    )


def _charts(s: Statistics) -> list[BarChart]:
    days = _day_labels(list(s.by_day))
    hours = [(f"{h:02d}", f"{h:02d}:00–{(h + 1) % 24:02d}:00") for h in s.by_hour]
    per_day, per_hour = list(s.by_day.values()), list(s.by_hour.values())
    return [
        _tickets_chart(
            "day",
            _("Tickets per day"),
            _("Tickets issued on each business day, split into served, no-show, left at closing, and the rest."),
            _("Day"),
            days,
            per_day,
        ),
        _wait_chart(
            "day",
            _("Waiting time per day"),
            _("Minutes from arrival to the first call on each business day: the median, and the 90th percentile."),
            _("Day"),
            days,
            per_day,
        ),
        _tickets_chart(
            "hour",
            _("Tickets per hour of arrival"),
            _("Tickets issued in each hour of the day over the whole period, by outcome."),
            _("Hour"),
            hours,
            per_hour,
        ),
        _wait_chart(
            "hour",
            _("Waiting time per hour of arrival"),
            _("Minutes from arrival to the first call by the hour of arrival: the median, and the 90th percentile."),
            _("Hour"),
            hours,
            per_hour,
        ),
    ]


@bp.get("/stats")
@staff_page(*SUPERVISORS)
def stats():
    try:
        period = _period()
    except Refused as refused:
        return _page(
            "supervision/stats.html",
            400,
            error=str(refused),
            form={"from": request.args.get("from", "")[:40], "to": request.args.get("to", "")[:40]},
            max_days=MAX_DAYS,
        )
    figures = _history().compute(period)
    dates: dict[str, Any] = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    return _page(
        "supervision/stats.html",
        form=dates,
        max_days=MAX_DAYS,
        period=period,
        figures=figures,
        charts=_charts(figures),
        services={s: service_label(s) for s in figures.by_service},
        counters={c: counter_name(c) for c in figures.by_counter},
        duration=duration,
        csv_url=url_for("supervision.stats_csv", **dates),
    )


@bp.get("/stats.csv")
@staff_page(*SUPERVISORS)
def stats_csv():
    try:
        period = _period()
    except Refused as refused:
        abort(400, description=str(refused))
    response = Response(statistics_csv(_history().compute(period)), mimetype="text/csv")
    name = f"statistics-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- live --------------------------------------------------------------------------------------


def live_texts() -> dict[str, str]:
    """The words the live page's script writes, in the supervisor's language."""
    return {
        "nobody": _("Nobody is waiting."),
        "open": _("Open"),
        "closed": _("Closed"),
        "none": _("nobody"),
        "alarm": _(
            "Waiting too long: someone has waited %(minutes)s minutes for %(service)s (the alarm is at %(limit)s minutes).",
            minutes="{minutes}",
            service="{service}",
            limit="{limit}",
        ),
        "offline": _("No connection to the server: the figures shown may be old. Trying again…"),
    }


@bp.get("/live")
@staff_page(*SUPERVISORS)
def live():
    return _page(
        "supervision/live.html",
        texts=live_texts(),
        state_url=url_for("supervision.live_state"),
        version_url=version_url(),
        poll_ms=POLL_INTERVAL_MS,
        login_url=url_for("accounts.login"),
    )


def _seconds(delta: dt.timedelta | None) -> int | None:
    return None if delta is None else int(delta.total_seconds())


@bp.get("/live/state")
@require(*SUPERVISORS)
def live_state():
    """Who waits for what and since when, the counters, and the alarm: fetched when the queue changes."""
    queue = office.queue
    now = queue.clock()
    waits = waiting_now(queue, now)
    oldest = longest(waits)
    alarm = wait_alarm(office.site, oldest)
    known = queue.counters()
    counters = []
    for number, counter in office.site.counters.items():
        state = known.get(number)
        is_open = state is not None and state.open
        at_counter = queue.at_counter(number) if is_open else None
        counters.append(
            {
                "number": number,
                "name": counter_name(number),
                "open": is_open,
                "services": [service_label(s) for s in (state.services if state else counter.services)],
                "serving": None if at_counter is None else at_counter.number,
            }
        )
    response = jsonify(
        services=[
            {
                "service": w.service,
                "name": service_label(w.service),
                "waiting": w.waiting,
                "oldest_wait_s": _seconds(w.oldest),
            }
            for w in waits
        ],
        oldest_wait_s=_seconds(oldest),
        counters=counters,
        alarm={
            "on": alarm.on,
            "threshold_s": _seconds(alarm.threshold),
            "due_in_s": _seconds(alarm.due_in),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the log -------------------------------------------------------------------------------------


def _page_number() -> int:
    text = request.args.get("page", "1")
    if not text.isascii() or not text.isdigit() or len(text) > 6 or int(text) < 1:
        abort(400, description=_("“%(text)s” is not a page number: pages are counted from 1.", text=text[:40]))
    return int(text)


def _local(moment: dt.datetime | None) -> str:
    """A stored time (naive UTC) as the office's wall clock shows it (Babel's own formatting would
    turn it into its default zone, UTC)."""
    return "" if moment is None else office.queue.rules.local(moment).strftime("%Y-%m-%d %H:%M:%S")


@bp.get("/log")
@staff_page(*SUPERVISORS)
def log():
    shown = request.args.get("of", "disclosures")
    if shown not in ("disclosures", "kiosks"):
        abort(400, description=_("There is no log “%(name)s”: see disclosures or kiosks.", name=shown[:40]))
    number = _page_number()
    page: Page[Disclosure] | Page[KioskOrder]
    if shown == "disclosures":
        page = disclosure_page(office.engine, number)
    else:
        page = kiosk_order_page(office.engine, number)
    return _page(
        "supervision/log.html",
        shown=shown,
        page=page,
        local=_local,
        order_names=ORDER_NAMES,
    )
