"""`kiosk backup` and `kiosk restore`: SQLite's online backup while tickets are issued, and a
restore that checks what it is given and never replaces a database a server has open."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
from contextlib import closing
from pathlib import Path

import pytest

from tests.system import KIOSK, wait_until

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def kiosk(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_DATA_DIR=str(data_dir))
    return subprocess.run([*KIOSK, *args], env=env, capture_output=True, text=True, timeout=120)


def numbers(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as conn:
        return [row[0] for row in conn.execute("SELECT number FROM tickets ORDER BY id")]


class Issuing(threading.Thread):
    """Tickets issued one after another, as at a busy kiosk, until stopped."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.app, self.count, self.failure = app, 0, None
        self.stopped = threading.Event()

    def run(self):
        queue = self.app.extensions["office"]["queue"]
        try:
            while not self.stopped.is_set():
                queue.issue("pickup", language="nl")
                self.count += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.failure = exc

    def stop(self):
        self.stopped.set()
        self.join(timeout=30)
        assert not self.is_alive() and self.failure is None, self.failure


@SQLITE
def test_a_backup_taken_while_tickets_are_issued_restores_with_them(app, tmp_path):
    backup = tmp_path / "backups" / "kiosk-backup.sqlite3"
    backup.parent.mkdir()
    issuing = Issuing(app)
    issuing.start()
    try:
        wait_until(lambda: issuing.count >= 20, timeout=30, what="tickets being issued")
        before = issuing.count
        made = kiosk(tmp_path, "backup", str(backup))
        after = issuing.count
        wait_until(lambda: issuing.count > after + 20, timeout=30, what="tickets issued after the backup")
    finally:
        issuing.stop()
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"The database is backed up to {backup}."
    assert oct(backup.stat().st_mode & 0o777) == "0o600"
    assert not list(backup.parent.glob("*-wal")) and not list(backup.parent.glob(".*"))  # one file, nothing left over
    saved = numbers(backup)
    assert before <= len(saved) <= after and len(numbers(tmp_path / "kiosk.sqlite3")) == issuing.count

    fresh = tmp_path / "fresh"
    restored = kiosk(fresh, "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout and "kept as" not in restored.stdout  # nothing was there to keep
    assert numbers(fresh / "kiosk.sqlite3") == saved
    assert oct((fresh / "kiosk.sqlite3").stat().st_mode & 0o777) == "0o600"
    assert kiosk(fresh, "init-db").returncode == 0


@SQLITE
def test_restore_refuses_while_the_server_has_the_database_open(app, client, tmp_path):
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201
    backup = tmp_path / "backup.sqlite3"
    assert kiosk(tmp_path, "backup", str(backup)).returncode == 0
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201
    refused = kiosk(tmp_path, "restore", str(backup), "--yes")
    assert refused.returncode != 0 and "in use: stop the server first" in refused.stderr, refused.stderr
    assert len(numbers(tmp_path / "kiosk.sqlite3")) == 2 and not list(tmp_path.glob("*before-restore*"))
    # as long as the server runs it keeps working
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201


@SQLITE
def test_restore_keeps_the_database_it_replaces(app, client, tmp_path):
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201
    backup = tmp_path / "backup.sqlite3"
    assert kiosk(tmp_path, "backup", str(backup)).returncode == 0
    assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201
    app.extensions["office"]["engine"].dispose()  # the server stopped

    asked = kiosk(tmp_path, "restore", str(backup))
    assert asked.returncode != 0 and "Stop the server first, then run this again with --yes" in asked.stderr
    assert len(numbers(tmp_path / "kiosk.sqlite3")) == 2

    restored = kiosk(tmp_path, "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert len(numbers(tmp_path / "kiosk.sqlite3")) == 1
    [aside] = tmp_path.glob("kiosk.sqlite3.before-restore-*")
    assert f"kept as {aside}" in restored.stdout
    assert len(numbers(aside)) == 2  # its write-ahead log was copied into it first
    assert oct(aside.stat().st_mode & 0o777) == "0o600"


def test_restore_refuses_what_is_not_a_backup_of_the_kiosk(tmp_path):
    data = tmp_path / "data"
    not_sqlite = tmp_path / "notes.sqlite3"
    not_sqlite.write_bytes(b"this is not a database\n" * 200)
    other = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(other)) as conn, conn:
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY)")
    unknown = tmp_path / "unknown.sqlite3"
    with closing(sqlite3.connect(unknown)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('9999')")
    for path, why in [
        (not_sqlite, "is not an SQLite database"),
        (other, "has no alembic_version table"),
        (unknown, "does not know (9999)"),
    ]:
        refused = kiosk(data, "restore", str(path), "--yes")
        assert refused.returncode != 0 and why in refused.stderr, (path, refused.stderr)
    assert not (data / "kiosk.sqlite3").exists() or (data / "kiosk.sqlite3").stat().st_size == 0
    assert not list(data.glob("*before-restore*"))


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_postgres_database_is_backed_up_with_pg_dump(runner, tmp_path):
    target = tmp_path / "backup.dump"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and f"pg_dump --format=custom --file={target} 'postgresql://" in result.output
    assert not target.exists()
    result = runner.invoke(args=["restore", str(Path(__file__)), "--yes"])
    assert result.exit_code != 0 and "pg_restore" in result.output
