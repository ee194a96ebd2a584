"""Daily housekeeping: expire what the last day left open and forget personal data past the
site's retention. The server runs it on a timer (also on days without visitors), and
`kiosk queue close-day` runs it by hand."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from . import code_requests, outbox, pickups, storage, turn_soon
from .accounts import sessions
from .clock import OfficeClock
from .errors import describe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    expired: int
    tickets_purged: int
    code_requests_purged: int
    pickups_purged: int
    outbox_purged: int  # addresses of messages sent or given up
    code_requests_cancelled: int  # never ordered on the day of the visit
    code_reminders: int
    pickup_reminders: int  # messages; the other cards waiting long get a printed letter


def close_day(office) -> Report:
    """Expiry and retention are decided by the office's clock: it is read from the shared
    database first, and nothing is expired or purged when that cannot be done."""
    office.clock.sync()
    queue, site = office.queue, office.site
    now = office.clock()
    before = now - dt.timedelta(days=site.retention_days)
    # closed first, so that what closes today is purged with the rest once past the retention
    cancelled = code_requests.cancel_unordered(office.engine, queue.business_day(), now)
    reminders = code_requests.send_reminders(office.engine, site.codes, now)
    pickup_reminders = pickups.send_reminders(
        office.engine, queue.today(), site.pickup_reminder_days, site.default_language, now
    )
    report = Report(
        expired=queue.close_past_days(),
        tickets_purged=queue.purge_personal_data(site.retention_days),
        code_requests_purged=code_requests.purge_personal_data(office.engine, before),
        pickups_purged=pickups.purge_collected(office.engine, before),
        outbox_purged=outbox.purge(office.engine, before, office.clock()),
        code_requests_cancelled=cancelled,
        code_reminders=reminders,
        pickup_reminders=pickup_reminders,
    )
    sessions.purge(office.engine, before)
    turn_soon.purge_past_days(office.engine, queue.business_day())
    storage.checkpoint(office.engine)
    log.info("housekeeping: %s", report)  # counts only
    return report


class Timer(threading.Thread):
    """Closes the office's day once per business day, looking every `every_s` seconds, and
    keeps the office's clock in step with the database's meanwhile. Other instances sharing
    the database do their own: the work is idempotent."""

    def __init__(self, app, every_s: float = OfficeClock.RESYNC_S):
        super().__init__(name="housekeeping", daemon=True)
        self.app, self.every_s = app, every_s
        self.stopped = threading.Event()
        self.done_for: dt.date | None = None  # the business day already closed

    def run(self) -> None:
        while True:
            self.close_day_once()
            if self.stopped.wait(self.every_s):
                return

    def close_day_once(self) -> bool:
        """True once today is done. A failure, such as the database being away, is logged
        and tried again at the next look; it is never passed on."""
        from .extensions import office

        with self.app.app_context():
            try:
                office.clock.sync()
                today = office.queue.business_day()
                if self.done_for == today:
                    return True
                close_day(office)
            except Exception as exc:  # noqa: BLE001 - the timer must outlive any failure
                log.warning("housekeeping failed (%s); trying again later", describe(exc))
                return False
            self.done_for = today
            return True

    def stop(self, timeout_s: float = 30) -> None:
        self.stopped.set()
        self.join(timeout_s)
