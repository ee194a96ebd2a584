"""The statistics as CSV, for a spreadsheet: one row per total, day, hour, service and counter.

The headings are fixed English identifiers, not translated, so a sheet or script that reads the
file keeps working whatever the exporting supervisor's language; times are in seconds.
"""

from __future__ import annotations

import csv
import io

from ..stats import Figures, Statistics

COLUMNS = (
    "breakdown",  # total, day, hour, service or counter
    "key",  # the business day (YYYY-MM-DD), hour of arrival (0-23), service id or counter number
    "issued",
    "served",
    "no_shows",
    "left_at_closing",
    "waits_measured",
    "wait_median_s",
    "wait_p90_s",
    "services_measured",
    "service_median_s",
    "service_p90_s",
)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{round(value, 1):g}"


def _row(breakdown: str, key: object, f: Figures) -> list[object]:
    return [
        breakdown,
        key,
        f.issued,
        f.served,
        f.no_shows,
        f.left_at_closing,
        f.wait.count,
        _seconds(f.wait.median_s),
        _seconds(f.wait.p90_s),
        f.service.count,
        _seconds(f.service.median_s),
        _seconds(f.service.p90_s),
    ]


def statistics_csv(s: Statistics) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as spreadsheets expect
    writer.writerow(COLUMNS)
    writer.writerow(_row("total", f"{s.period.first.isoformat()}/{s.period.last.isoformat()}", s.total))
    writer.writerows(_row("day", day.isoformat(), f) for day, f in s.by_day.items())
    writer.writerows(_row("hour", hour, f) for hour, f in s.by_hour.items())
    writer.writerows(_row("service", service, f) for service, f in s.by_service.items())
    writer.writerows(_row("counter", counter, f) for counter, f in s.by_counter.items())
    return out.getvalue()
