"""Daily housekeeping: expire what the last day left open and forget personal data past the
site's retention. Runs with the first ticket of each day and with `kiosk queue close-day`."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from . import code_requests, pickups

log = logging.getLogger(__name__)
_done_for: dict[int, dt.date] = {}  # per office state, the business day already done
_lock = threading.Lock()


@dataclass(frozen=True)
class Report:
    expired: int
    tickets_purged: int
    code_requests_purged: int
    pickups_purged: int


def close_day(office) -> Report:
    queue, site = office.queue, office.site
    before = queue.clock() - dt.timedelta(days=site.retention_days)
    report = Report(
        expired=queue.close_past_days(),
        tickets_purged=queue.purge_personal_data(site.retention_days),
        code_requests_purged=code_requests.purge_personal_data(office.engine, before),
        pickups_purged=pickups.purge_collected(office.engine, before),
    )
    log.info("housekeeping: %s", report)  # counts only
    return report


def close_day_once(office) -> None:
    """At most once per business day in this process (other instances do their own: the
    work is idempotent)."""
    today = office.queue.business_day()
    key = id(office.queue)
    with _lock:
        if _done_for.get(key) == today:
            return
        _done_for[key] = today
    close_day(office)
