"""The pickup register and its CSV import: all or nothing, with line numbers."""

import csv
import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from kiosk.extensions import office
from kiosk.pickups import PickupImportError, import_pickups, mark_collected, parse_pickups, ready_for
from kiosk.schema import pickups
from kiosk.storage import make_engine

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
    assert mark_collected(engine, "B987654321", "clerk1", NOW)
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


# --- hostile or careless files -----------------------------------------------------------


def test_a_field_over_the_csv_reader_limit_is_a_bad_line(engine):
    huge = "x" * (csv.field_size_limit() + 1)  # 131073 characters
    data = csv_bytes(GOOD[0], f"B555555555,85073003328,{huge},Kast,2026-11-20", GOOD[1], f'B666666666,"{huge}')
    with pytest.raises(PickupImportError) as caught:
        import_pickups(engine, data, TODAY, NOW)
    assert caught.value.problems == [
        "line 3: a field has more than 131072 characters",
        "line 5: a field has more than 131072 characters",
    ]
    assert count(engine) == 0


def test_a_huge_column_line_is_refused_too():
    with pytest.raises(PickupImportError, match="line 1: a field has more than 131072 characters"):
        parse_pickups(("x" * 200_000 + "\n").encode(), TODAY)


def test_a_name_or_storage_longer_than_the_register_keeps_is_a_bad_line_never_cut(engine):
    data = csv_bytes(
        f"B555555555,85073003328,{'n' * 201},Kast,2026-11-20",
        f"B666666666,85073003328,Someone,{'s' * 201},2026-11-20",
        f"B777777777,{'8' * 65},Someone,Kast,2026-11-20",
    )
    with pytest.raises(PickupImportError) as caught:
        import_pickups(engine, data, TODAY, NOW)
    assert caught.value.problems == [
        "line 2: name has 201 characters, at most 200",
        "line 3: storage has 201 characters, at most 200",
        "line 4: national_number has 65 characters, at most 64",
    ]
    assert count(engine) == 0
    longest = csv_bytes(f"B555555555,85073003328,{'n' * 200},{'s' * 200},2026-11-20")
    assert import_pickups(engine, longest, TODAY, NOW) == 1
    assert storage_of(engine, "B555555555") == "s" * 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_failure_during_the_import_leaves_the_register_as_it_was(engine):
    import_pickups(engine, csv_bytes(GOOD[0]), TODAY, NOW)
    rows = [f"B{n:09d},85073003328,Someone {n},Kast {n},2026-11-20" for n in range(1, 12_001)]
    with engine.begin() as conn:  # the 10,000th new card fails, long after the first were written
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON pickups WHEN NEW.card_number = 'B000010000' "
                "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
            )
        )
    moved = GOOD[0].replace("Kast A, lade 2", "Kast C")
    with pytest.raises(DBAPIError):
        import_pickups(engine, csv_bytes(moved, *rows), TODAY, NOW)
    assert count(engine) == 1 and storage_of(engine, "B123456789") == "Kast A, lade 2"
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse"))
    assert import_pickups(engine, csv_bytes(moved, *rows), TODAY, NOW) == 12_001  # the same pooled connections
    assert count(engine) == 12_001 and storage_of(engine, "B123456789") == "Kast C"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_import_command_says_a_long_field_is_a_bad_line_and_a_database_failure_imported_nothing(
    runner, tmp_path, app
):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(GOOD[0], f"B555555555,85073003328,{'x' * 131_073},Kast,2026-11-20"))
    result = runner.invoke(args=["pickups", "import", str(bad)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "line 3: a field has more than 131072 characters" in result.output
    with app.app_context(), office.engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON pickups BEGIN SELECT RAISE(ABORT, 'disk'); END"))
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes(*GOOD))
    result = runner.invoke(args=["pickups", "import", str(good)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "nothing was imported" in result.output and "Testperson" not in result.output
    with app.app_context():
        assert count(office.engine) == 0


# --- kiosks keep issuing tickets during a large import -----------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("importer", ["this process", "another connection pool"])
def test_tickets_are_issued_without_waiting_while_a_large_file_is_imported(engine, database_url, queue, importer):
    """The server's own engine shares its writers' lock; `kiosk pickups import` runs in a
    process of its own, with its own pool, and meets SQLite's busy timeout instead."""
    arrived = (queue.today() - dt.timedelta(days=3)).isoformat()
    data = csv_bytes(*(f'B{n:09d},85073003328,"Testperson, {n}",Kast {n % 40},{arrived}' for n in range(20_000)))
    import_engine = engine if importer == "this process" else make_engine(database_url)
    queue.issue("pickup", language="nl")  # the first ticket of the day does its housekeeping
    outcome: dict = {}

    def run_import():
        try:
            outcome["rows"] = import_pickups(import_engine, data, queue.today(), queue.clock())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = exc

    importer_thread = threading.Thread(target=run_import)
    waits = []
    importer_thread.start()
    try:
        while importer_thread.is_alive():
            started = time.perf_counter()
            queue.issue("pickup", language="nl")
            waits.append(time.perf_counter() - started)
    finally:
        importer_thread.join(timeout=120)
        if import_engine is not engine:
            import_engine.dispose()
    assert not importer_thread.is_alive()
    assert outcome == {"rows": 20_000}
    assert waits and max(waits) < 1.0, f"an issue waited {max(waits):.1f} s for the import"
    assert count(engine) == 20_000
