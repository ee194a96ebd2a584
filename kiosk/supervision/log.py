"""What supervisors look back on: every "show in full" of a citizen's identity at a desk (who,
when, which ticket; never the identity itself), and every order staff gave a kiosk. Newest
first, a page at a time."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Engine, func, select

from ..schema import disclosures, kiosk_commands, tickets
from ..storage import reading

PAGE_SIZE = 50
Entry = TypeVar("Entry")


@dataclass(frozen=True)
class Disclosure:
    at: dt.datetime
    username: str
    day: dt.date  # the ticket's business day: numbers start again every day
    number: str


@dataclass(frozen=True)
class KioskOrder:
    at: dt.datetime
    by: str
    kiosk: str
    kind: str  # out_of_service, in_service, reload, restart_<what>
    message: str | None  # the words shown on an out-of-service screen
    done_at: dt.datetime | None  # when the kiosk carried it out


@dataclass(frozen=True)
class Page(Generic[Entry]):
    entries: list[Entry]
    number: int  # from 1
    pages: int  # at least 1, also when there is nothing

    @property
    def older(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    @property
    def newer(self) -> int | None:
        return self.number - 1 if self.number > 1 else None


def _pages(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def disclosure_page(engine: Engine, number: int) -> Page[Disclosure]:
    with reading(engine) as conn:
        total = conn.execute(select(func.count()).select_from(disclosures)).scalar_one()
        rows = conn.execute(
            select(disclosures.c.at, disclosures.c.username, tickets.c.day, tickets.c.number)
            .join(tickets, tickets.c.id == disclosures.c.ticket_id)
            .order_by(disclosures.c.at.desc(), disclosures.c.id.desc())
            .offset((number - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
    return Page([Disclosure(*row) for row in rows], number, _pages(total))


def kiosk_order_page(engine: Engine, number: int) -> Page[KioskOrder]:
    c = kiosk_commands.c
    with reading(engine) as conn:
        total = conn.execute(select(func.count()).select_from(kiosk_commands)).scalar_one()
        rows = conn.execute(
            select(c.at, c.by, c.kiosk, c.kind, c.message, c.done_at)
            .order_by(c.at.desc(), c.id.desc())
            .offset((number - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
    return Page([KioskOrder(*row) for row in rows], number, _pages(total))
