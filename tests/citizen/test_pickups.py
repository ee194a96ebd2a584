"""The pickup register and its CSV import: all or nothing, with line numbers."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from kiosk.pickups import PickupImportError, import_pickups, mark_collected, parse_pickups, ready_for
from kiosk.schema import pickups

TODAY = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 24, 9, 0)
HEADER = "card_number,national_number,name,storage,arrived_on\n"
GOOD = [
    'B123456789,85073003328,"Testperson, Alex","Kast A, lade 2",2026-11-20',
    'B987654321,85.07.30-033.28,"Testperson, Sam",Kast B,2026-11-21',
]


def csv_bytes(*rows, header=HEADER, sep=","):
    return (header.replace(",", sep) + "\n".join(rows) + "\n").encode()


def count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(pickups)).scalar_one()


def test_import_then_find_the_newest_card_for_a_person(engine):
    assert import_pickups(engine, csv_bytes(*GOOD), TODAY, NOW) == 2
    found = ready_for(engine, "85073003328")
    assert (found.card_number, found.storage) == ("B987654321", "Kast B")
    assert mark_collected(engine, "B987654321", NOW)
    assert ready_for(engine, "85073003328").card_number == "B123456789"
    assert ready_for(engine, "85073099239") is None


def storage_of(engine, card_number):
    with engine.connect() as conn:
        return conn.execute(select(pickups.c.storage).where(pickups.c.card_number == card_number)).scalar_one()


def test_reimport_updates_rows_instead_of_doubling_them(engine):
    import_pickups(engine, csv_bytes(*GOOD), TODAY, NOW)
    moved = GOOD[0].replace("Kast A, lade 2", "Kast C")
    import_pickups(engine, csv_bytes(moved), TODAY, NOW)
    assert count(engine) == 2
    # by card number: ready_for() would return the newer card, which did not move
    assert (storage_of(engine, "B123456789"), storage_of(engine, "B987654321")) == ("Kast C", "Kast B")


def test_a_bad_row_rejects_the_whole_file_and_names_every_bad_line(engine):
    bad = csv_bytes(
        GOOD[0],
        "B1,85073003328,Someone,Kast,2026-11-20",  # line 3: card number too short
        "B555555555,85073003329,Someone,Kast,2026-11-20",  # line 4: mod-97 fails
        "B666666666,85073003328,,Kast,20/11/2026",  # line 5: no name, bad date
        "B777777777,85073003328,Someone,Kast,2026-12-31",  # line 6: future
        "B123456789,85073003328,Someone,Kast,2026-11-20",  # line 7: duplicate of line 2
        "B888888888,85073003328,Someone",  # line 8: too few fields
    )
    with pytest.raises(PickupImportError) as caught:
        import_pickups(engine, bad, TODAY, NOW)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in range(3, 9)]
    assert "card_number" in problems[0] and "national_number" in problems[1]
    assert "name is empty" in problems[2] and "arrived_on must be a date" in problems[2]
    assert "future" in problems[3] and "also on line 2" in problems[4] and "3 fields" in problems[5]
    assert count(engine) == 0  # nothing half-imported


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"\xff\xfe\x00broken", "not UTF-8"),
        (b"card,nn\nB123456789,85073003328\n", "the columns must be"),
        (HEADER.encode(), "no rows"),
    ],
)
def test_malformed_files_get_a_clear_message(data, message):
    with pytest.raises(PickupImportError, match=message):
        parse_pickups(data, TODAY)


def test_semicolons_and_a_byte_order_mark_from_spreadsheets():
    row = 'B987654321;85.07.30-033.28;"Testperson, Sam";Kast B;2026-11-21'
    rows = parse_pickups(b"\xef\xbb\xbf" + csv_bytes(row, sep=";"), TODAY)
    assert (rows[0].national_number, rows[0].name) == ("85073003328", "Testperson, Sam")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_import_command(runner, tmp_path, app):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(*GOOD))
    result = runner.invoke(args=["pickups", "import", str(good)])
    assert result.exit_code == 0 and "2 cards" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(GOOD[0], "x,y,z,w,v"))
    result = runner.invoke(args=["pickups", "import", str(bad)])
    assert result.exit_code != 0 and "line 3:" in result.output
