"""Status bytes (DLE EOT 1, 2, 4) and the reason codes derived from them."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from hardware.printer.status import (
    STATUS_QUERY,
    LatestStatus,
    PrinterStatus,
    failure_reason,
    parse_status,
)
from tests.system import wait_until


def test_status_query_asks_printer_offline_cause_and_roll_paper():
    assert STATUS_QUERY == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"


@pytest.mark.parametrize(
    "answer, online, paper, cover, error, reason",
    [
        (b"\x12\x12\x12", True, "ok", False, None, None),
        (b"\x12\x12\x1e", True, "near_end", False, None, None),  # bits 2-3 of n=4
        (b"\x12\x12\x16", True, "near_end", False, None, None),  # one near-end bit is enough
        (b"\x1a\x32\x72", False, "out", False, None, "paper_out"),
        (b"\x1a\x16\x12", False, "ok", True, None, "cover_open"),
        (b"\x1a\x12\x12", False, "ok", False, None, "offline"),
        (b"\x1a\x52\x12", False, "ok", False, "printer reports an error", "error"),
        (b"\x1a\x36\x72", False, "out", True, None, "paper_out"),  # paper out wins over cover
    ],
)
def test_parse_status(answer, online, paper, cover, error, reason):
    status = parse_status(answer)
    assert (status.online, status.paper, status.cover_open, status.error) == (
        online,
        paper,
        cover,
        error,
    )
    assert failure_reason(status) == reason
    assert status.ready is (reason is None)


@pytest.mark.parametrize("answer", [b"", b"\x12\x12", b"\xff\x12\x12", b"\x12\x12\x12\x12"])
def test_garbled_status_is_an_error_not_ready(answer):
    status = parse_status(answer)
    assert not status.ready and status.paper == "unknown"
    assert failure_reason(status) == "error"


def test_not_reported_status_still_prints():
    status = PrinterStatus.not_reported()
    assert status.ready and status.paper == "unknown"


def test_latest_status_keeps_the_newest_from_any_thread():
    latest = LatestStatus()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    statuses = [PrinterStatus(True, "ok", False, None, checked_at=base + timedelta(seconds=n)) for n in range(200)]
    threads = [threading.Thread(target=latest.set, args=(s,)) for s in reversed(statuses)]
    for thread in threads:
        thread.start()
    wait_until(lambda: not any(t.is_alive() for t in threads), what="every thread to set its status")
    assert latest.get() == statuses[-1]
