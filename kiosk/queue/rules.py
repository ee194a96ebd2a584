"""The parts of the site profile the queue needs, and the business day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from kiosk.site import OpeningHours, SiteProfile


@dataclass(frozen=True)
class ServiceRule:
    id: str
    letter: str
    enabled: bool
    default_seconds: float  # service time assumed before there is history


@dataclass(frozen=True)
class QueueRules:
    services: dict[str, ServiceRule]
    counters: dict[int, tuple[str, ...]]  # counter number -> services it may serve
    timezone: ZoneInfo
    reset_hour: int
    opening_hours: OpeningHours
    history_size: int = 20  # finished tickets averaged for the service time
    history_days: int = 14

    @classmethod
    def from_site(cls, site: SiteProfile) -> QueueRules:
        return cls(
            services={s.id: ServiceRule(s.id, s.letter, s.enabled, s.minutes * 60) for s in site.services.values()},
            counters={c.number: c.services for c in site.counters.values()},
            timezone=site.timezone,
            reset_hour=site.daily_reset_hour,
            opening_hours=site.opening_hours,
        )

    def local(self, utc: dt.datetime) -> dt.datetime:
        return utc.replace(tzinfo=dt.UTC).astimezone(self.timezone)

    def business_day(self, utc: dt.datetime) -> dt.date:
        """Tickets issued before the reset hour still belong to the previous day."""
        return (self.local(utc) - dt.timedelta(hours=self.reset_hour)).date()

    def is_open(self, utc: dt.datetime) -> bool:
        return self.opening_hours.is_open(self.local(utc))
