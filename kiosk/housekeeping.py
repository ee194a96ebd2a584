"""Daily housekeeping: expire what the last day left open and forget personal data past the
site's retention. The server runs it on a timer (also on days without visitors), and
`kiosk queue close-day` runs it by hand."""
from __future__ import annotations

import datetime as dt
import logging
import threading
import weakref
from dataclasses import dataclass

from . import code_requests, pickups

log = logging.getLogger(__name__)
_done_for: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # queue engine -> business day done
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


def close_day_once(office) -> bool:
    """At most once per business day in this process (other instances do their own: the
    work is idempotent). A failure, such as the database being away, is logged and tried
    again at the next call; it is never passed on. True once the day is done."""
    key = office.queue
    today = key.business_day()
    with _lock:
        if _done_for.get(key) == today:
            return True
        try:
            close_day(office)
        except Exception as exc:  # noqa: BLE001 - the timer must outlive any failure
            log.warning("housekeeping failed (%s); trying again later", type(exc).__name__)
            return False
        _done_for[key] = today
        return True


class Timer(threading.Thread):
    """Runs close_day_once every `every_s` seconds for the app's office."""

    def __init__(self, app, every_s: float = 300):
        super().__init__(name="housekeeping", daemon=True)
        self.app, self.every_s = app, every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        from .extensions import office

        while True:
            with self.app.app_context():
                close_day_once(office)
            if self.stopped.wait(self.every_s):
                return

    def stop(self) -> None:
        self.stopped.set()
        self.join()
