"""Dates on the card: validity dates and birth dates that may be partly unknown."""

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .errors import CardDataError

# Month abbreviations as printed on cards in French, Dutch and German (plus the accented
# spellings, which cost nothing to accept).
_MONTHS = {
    "JAN": 1,
    "FEV": 2, "FÉV": 2, "FEB": 2,
    "MARS": 3, "MAAR": 3, "MÄR": 3,
    "AVR": 4, "APR": 4,
    "MAI": 5, "MEI": 5,
    "JUIN": 6, "JUN": 6,
    "JUIL": 7, "JUL": 7,
    "AOUT": 8, "AOÛT": 8, "AUG": 8,
    "SEPT": 9, "SEP": 9,
    "OCT": 10, "OKT": 10,
    "NOV": 11,
    "DEC": 12, "DÉC": 12, "DEZ": 12,
}  # fmt: skip

_VALIDITY_DATE = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
_DAY = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[0-9]{4}")


@dataclass(frozen=True)
class BirthDate:
    """A birth date whose day, or day and month, may be unknown (some foreigners' records)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self):
        if self.day is not None and self.month is None:
            raise ValueError("a birth date with a day needs a month")
        # date() checks the ranges, including 29 February
        date(self.year, self.month or 1, self.day or 1)

    @property
    def is_complete(self) -> bool:
        return self.day is not None

    @property
    def unknown_parts(self) -> tuple[str, ...]:
        """("day",), ("day", "month") or () for a complete date."""
        if self.month is None:
            return ("day", "month")
        return () if self.day is not None else ("day",)

    def latest_possible(self) -> date:
        """The last day the person can have been born: unknown month = December,
        unknown day = last day of the month. Ages computed from it are never too high."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return date(self.year, month, day)

    def isoformat(self) -> str:
        """ISO 8601 with reduced precision for unknown parts: 1985-07-30, 1985-07 or 1985."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text


def age_on(birth: BirthDate, day: date) -> int:
    """Age in whole years on `day`, counted from the latest possible birth date, so someone
    whose birthday is unknown becomes 18 only when they are 18 whatever the real date
    (a minor is never treated as an adult). Never negative."""
    born = birth.latest_possible()
    years = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    return max(years, 0)


def parse_validity_date(text: str) -> date:
    """DD.MM.YYYY, as in tags 03 and 04."""
    match = _VALIDITY_DATE.fullmatch(text.strip())
    if not match:
        raise CardDataError("validity date is not DD.MM.YYYY")
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise CardDataError("validity date does not exist") from None


def parse_birth_date(text: str) -> BirthDate:
    """`DD MMMM YYYY` (fr/nl), `DD.MMM.YYYY` (de, sometimes mixed with spaces), or the
    same with a blank day (`MMMM YYYY`) or a blank day and month (`YYYY`)."""
    parts = text.replace(".", " ").split()
    if not parts or len(parts) > 3 or not _YEAR.fullmatch(parts[-1]):
        raise CardDataError("birth date has no four-digit year")
    year = int(parts[-1])
    month = day = None
    if len(parts) >= 2:
        month = _MONTHS.get(parts[-2].upper())
        if month is None:
            raise CardDataError("birth date has an unknown month")
    if len(parts) == 3:
        if not _DAY.fullmatch(parts[0]):
            raise CardDataError("birth date has a malformed day")
        day = int(parts[0])
    try:
        return BirthDate(year, month, day)
    except ValueError:
        raise CardDataError("birth date does not exist") from None
