"""The pickup register: which new cards lie ready in the office, and where.

Imported from a CSV export with `kiosk pickups import FILE.csv`. A file with any bad row is
rejected whole, with every bad line listed: the register is never half-imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from sqlalchemy import Engine, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hardware.card import is_valid_national_number

from .schema import pickups
from .storage import reading, writing

COLUMNS = ("card_number", "national_number", "name", "storage", "arrived_on")
_CARD_NUMBER = re.compile(r"^[A-Z0-9]{6,32}$")


class PickupImportError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The file was not imported:\n" + "\n".join(problems))


@dataclass(frozen=True)
class Pickup:
    card_number: str
    national_number: str
    name: str
    storage: str
    arrived_on: dt.date


def parse_pickups(data: bytes, today: dt.date) -> list[Pickup]:
    """Rows of a register file; raises PickupImportError listing every bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PickupImportError([f"the file is not UTF-8 text (byte {exc.start})"]) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise PickupImportError(["line 1: the file is empty; the first line must name the columns"])
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    if sorted(header) != sorted(COLUMNS):
        raise PickupImportError([f"line 1: the columns must be {', '.join(COLUMNS)} (found: {', '.join(header)})"])
    problems: list[str] = []
    rows: list[Pickup] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"line {line}: {len(row)} fields instead of {len(header)}")
            continue
        values = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        card = values["card_number"].replace("-", "").replace(" ", "").upper()
        number = re.sub(r"[.\- ]", "", values["national_number"])
        wrong = []
        if not _CARD_NUMBER.match(card):
            wrong.append("card_number must be 6 to 32 letters or digits")
        elif card in seen:
            wrong.append(f"card_number {card} is also on line {seen[card]}")
        if not (len(number) == 11 and number.isdigit() and is_valid_national_number(number)):
            wrong.append("national_number is not a valid national number (11 digits, mod-97 check)")
        if not values["name"]:
            wrong.append("name is empty")
        if not values["storage"]:
            wrong.append("storage is empty")
        arrived: dt.date | None = None
        try:
            arrived = dt.date.fromisoformat(values["arrived_on"])
            if arrived > today:
                wrong.append("arrived_on is in the future")
        except ValueError:
            wrong.append("arrived_on must be a date like 2026-11-23")
        if wrong or arrived is None:
            problems.append(f"line {line}: " + "; ".join(wrong))
            continue
        seen[card] = line
        rows.append(Pickup(card, number, values["name"][:200], values["storage"][:200], arrived))
    if problems:
        raise PickupImportError(problems)
    if not rows:
        raise PickupImportError(["the file has no rows after the column names"])
    return rows


def import_pickups(engine: Engine, data: bytes, today: dt.date, now: dt.datetime) -> int:
    """Add or update every row in one transaction; returns the number of rows. `today` is
    the office's date (no card arrives in the future), `now` stamps the import."""
    rows = parse_pickups(data, today)
    with writing(engine) as conn:
        dialect = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
        for row in rows:
            stmt = dialect.insert(pickups).values(
                card_number=row.card_number,
                national_number=row.national_number,
                name=row.name,
                storage=row.storage,
                arrived_on=row.arrived_on,
                imported_at=now,
                collected_at=None,
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["card_number"],
                    set_={
                        "national_number": stmt.excluded.national_number,
                        "name": stmt.excluded.name,
                        "storage": stmt.excluded.storage,
                        "arrived_on": stmt.excluded.arrived_on,
                        "imported_at": now,
                        "collected_at": None,
                    },
                )
            )
    return len(rows)


def ready_for(engine: Engine, national_number: str) -> Pickup | None:
    """The newest card waiting for this person, if the register has one."""
    with reading(engine) as conn:
        row = conn.execute(
            select(pickups)
            .where(and_(pickups.c.national_number == national_number, pickups.c.collected_at.is_(None)))
            .order_by(pickups.c.arrived_on.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return Pickup(row.card_number, row.national_number, row.name, row.storage, row.arrived_on)


def purge_collected(engine: Engine, before: dt.datetime) -> int:
    """Collected cards leave the register once past the site's retention."""
    with writing(engine) as conn:
        return conn.execute(
            delete(pickups).where(pickups.c.collected_at.is_not(None), pickups.c.collected_at < before)
        ).rowcount


def mark_collected(engine: Engine, card_number: str, now: dt.datetime) -> bool:
    with writing(engine) as conn:
        return (
            conn.execute(
                update(pickups)
                .where(pickups.c.card_number == card_number, pickups.c.collected_at.is_(None))
                .values(collected_at=now)
            ).rowcount
            == 1
        )
