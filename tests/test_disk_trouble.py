"""A full disk and a read-only data directory: the kiosk goes out of service with a clear
reason, nothing is lost, and it comes back by itself once the disk takes writes again. On a
small tmpfs of its own, filled and freed, and made read-only and back."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pytest

from kiosk import disk
from tests.system import missing, wait_until


def needs_root(what: str) -> None:
    if os.geteuid() != 0:
        missing(f"{what} needs root")


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "4m"):
    needs_root("mounting a tmpfs")
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)], check=True, timeout=30)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], timeout=30)


def fill(directory: Path) -> Path:
    """A file that takes every free block. Unbuffered: a buffered file's close would try its
    last partial block again and fail with ENOSPC in turn."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(bytes(65536))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.fixture
def quick_looks(monkeypatch):
    monkeypatch.setattr(disk, "PROBE_S", 0.0)  # look at every ask, as a server does in trouble


def test_a_full_disk_puts_the_kiosk_out_of_service_until_there_is_room(tmp_path, app_config, quick_looks):
    from kiosk import create_app
    from kiosk.extensions import office
    from kiosk.storage import migrate

    with small_tmpfs(tmp_path / "data") as data:
        app = create_app({**app_config, "DATA_DIR": str(data)})
        with app.app_context():
            migrate(office.engine)
        client = app.test_client()
        try:
            assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201
            filler = fill(data)
            refused = client.post("/api/tickets", json={"service": "pickup"})
            assert refused.status_code == 503 and refused.get_json()["error"] == "database_unavailable"
            home = client.get("/kiosk/")
            assert home.status_code == 503 and 'data-reasons="storage"' in home.get_data(as_text=True)
            health = client.get("/kiosk/health").get_json()
            assert health["in_service"] is False and "storage" in health["reasons"]

            filler.unlink()  # room again: no restart
            wait_until(lambda: client.get("/kiosk/").status_code == 200, what="the kiosk back in service")
            issued = client.post("/api/tickets", json={"service": "pickup"})
            assert issued.status_code == 201 and issued.get_json()["number"] == "A002"  # nothing lost
        finally:
            app.extensions["office"]["engine"].dispose()


def test_a_disk_with_a_few_blocks_left_stays_out_of_service(tmp_path, app_config, quick_looks):
    from kiosk import create_app
    from kiosk.extensions import office
    from kiosk.storage import migrate

    with small_tmpfs(tmp_path / "data") as data:
        app = create_app({**app_config, "DATA_DIR": str(data)})
        with app.app_context():
            migrate(office.engine)
        client = app.test_client()
        try:
            filler = fill(data)
            assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 503
            with open(filler, "r+b") as out:  # a few pages free: not enough to serve citizens
                out.truncate(filler.stat().st_size - 64 * 1024)
            assert client.get("/kiosk/").status_code == 503
        finally:
            app.extensions["office"]["engine"].dispose()


# --- a data directory made read-only, and back ----------------------------------------------


def test_a_read_only_data_directory_and_back(tmp_path, app_config, quick_looks):
    from kiosk import create_app
    from kiosk.extensions import office
    from kiosk.storage import migrate

    with small_tmpfs(tmp_path / "data") as data:
        app = create_app({**app_config, "DATA_DIR": str(data)})
        with app.app_context():
            migrate(office.engine)
        client = app.test_client()
        try:
            assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 201
            # The pool lets its connections go (as after any database error); the file system
            # can then be made read-only, and every connection opened meanwhile is.
            office_engine = app.extensions["office"]["engine"]
            office_engine.dispose()
            subprocess.run(["mount", "-o", "remount,ro", str(data)], check=True, timeout=30)
            try:
                assert client.post("/api/tickets", json={"service": "pickup"}).status_code == 503
                home = client.get("/kiosk/")
                assert home.status_code == 503 and "storage" in home.get_data(as_text=True)
                assert "storage" in client.get("/kiosk/health").get_json()["reasons"]
            finally:
                subprocess.run(["mount", "-o", "remount,rw", str(data)], check=True, timeout=30)
            wait_until(lambda: client.get("/kiosk/").status_code == 200, what="the kiosk back in service")
            issued = client.post("/api/tickets", json={"service": "pickup"})
            assert issued.status_code == 201 and issued.get_json()["number"] == "A002"  # no restart, nothing lost
        finally:
            app.extensions["office"]["engine"].dispose()
