from datetime import date

import pytest

from hardware.card.dates import BirthDate, age_on, parse_birth_date, parse_validity_date
from hardware.card.errors import CardDataError

# As printed on cards (HARDWARE.md), written out here independently of the parser's table.
FRENCH = "JAN FEV MARS AVR MAI JUIN JUIL AOUT SEPT OCT NOV DEC".split()
DUTCH = "JAN FEB MAAR APR MEI JUN JUL AUG SEP OKT NOV DEC".split()
GERMAN = "JAN FEB MÄR APR MAI JUN JUL AUG SEP OKT NOV DEZ".split()


@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("names", [FRENCH, DUTCH], ids=["fr", "nl"])
def test_french_and_dutch_months(names, month):
    assert parse_birth_date(f"07 {names[month - 1]} 1984") == BirthDate(1984, month, 7)


@pytest.mark.parametrize("month", range(1, 13))
def test_german_months_with_dots(month):
    assert parse_birth_date(f"07.{GERMAN[month - 1]}.1984") == BirthDate(1984, month, 7)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("03. MÄR. 1968", BirthDate(1968, 3, 3)),  # dots and spaces mixed
        ("3 MEI 2001", BirthDate(2001, 5, 3)),  # one-digit day
        ("  29 FEB 2000 ", BirthDate(2000, 2, 29)),  # leap year, padding
        ("12 aout 1975", BirthDate(1975, 8, 12)),  # lower case
    ],
)
def test_variants(text, expected):
    assert parse_birth_date(text) == expected


@pytest.mark.parametrize(
    "text, expected, unknown",
    [
        ("MAAR 1990", BirthDate(1990, 3, None), ("day",)),
        ("   MAAR 1990", BirthDate(1990, 3, None), ("day",)),
        ("MÄR.1990", BirthDate(1990, 3, None), ("day",)),
        ("1979", BirthDate(1979, None, None), ("day", "month")),
        ("      1979", BirthDate(1979, None, None), ("day", "month")),
    ],
)
def test_partly_unknown_birth_dates_keep_the_year(text, expected, unknown):
    parsed = parse_birth_date(text)
    assert parsed == expected
    assert parsed.unknown_parts == unknown
    assert not parsed.is_complete


@pytest.mark.parametrize(
    "text",
    ["", "   ", "30 FOO 1985", "31 FEB 1985", "29 FEB 1900", "1985 JUL 30", "30 JUL 85", "x 30 JUL 1985",
     "300 JUL 1985", "30 JUL 0000", "30 JUL 1985 1985", "٣٠ JUL 1985"],
)  # fmt: skip
def test_malformed_birth_dates(text):
    with pytest.raises(CardDataError):
        parse_birth_date(text)


def test_iso_format_with_reduced_precision():
    assert BirthDate(1985, 7, 30).isoformat() == "1985-07-30"
    assert BirthDate(1985, 7).isoformat() == "1985-07"
    assert BirthDate(1985).isoformat() == "1985"


def test_a_day_needs_a_month():
    with pytest.raises(ValueError):
        BirthDate(1985, None, 3)


def test_age_in_whole_years():
    born = BirthDate(2007, 6, 15)
    assert age_on(born, date(2025, 6, 14)) == 17
    assert age_on(born, date(2025, 6, 15)) == 18
    assert age_on(born, date(2000, 1, 1)) == 0  # before birth: never negative


def test_age_with_unknown_day_counts_from_the_last_day_of_the_month():
    born = BirthDate(2007, 6)
    assert age_on(born, date(2025, 6, 29)) == 17
    assert age_on(born, date(2025, 6, 30)) == 18


def test_age_with_unknown_day_and_month_counts_from_31_december():
    born = BirthDate(2007)
    assert age_on(born, date(2025, 12, 30)) == 17
    assert age_on(born, date(2025, 12, 31)) == 18


def test_leap_day_birthday():
    born = BirthDate(2004, 2, 29)
    assert age_on(born, date(2022, 2, 28)) == 17
    assert age_on(born, date(2022, 3, 1)) == 18


def test_validity_dates():
    assert parse_validity_date("01.02.2030") == date(2030, 2, 1)
    for text in ["1.02.2030", "31.02.2030", "2030-02-01", "01.02.30", ""]:
        with pytest.raises(CardDataError):
            parse_validity_date(text)
