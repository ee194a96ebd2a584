"""The simulated reader service, and the parts of the service interface it shares with
the PC/SC one."""

import itertools
import json
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from hardware.card.reader_service import ReaderError, ReaderState
from hardware.card.service_factory import make_reader_service
from hardware.card.simulated_service import SIMULATED_READER, SimulatedReaderService

TODAY = date(2025, 11, 23)


@pytest.fixture
def service():
    service = SimulatedReaderService(today=lambda: TODAY)
    service.start()
    yield service
    service.stop()


def test_starts_waiting_for_a_card(service):
    snapshot = service.snapshot()
    assert (snapshot.state, snapshot.reader, snapshot.card) == (ReaderState.WAITING, SIMULATED_READER, None)


def test_insert_reads_the_card_and_remove_forgets_it(service):
    service.insert("adult-f-plus")
    ready = service.snapshot()
    assert ready.state == ReaderState.READY
    assert ready.card.card_type == "F+"
    assert service.inserted_card == "adult-f-plus"
    service.remove()
    after = service.snapshot()
    assert (after.state, after.card) == (ReaderState.WAITING, None)
    assert after.version > ready.version


@pytest.mark.parametrize(
    "card_id, error, message_part",
    [
        ("belgian-eid", ReaderError.NOT_RESIDENCE_CARD, "Belgian eID"),
        ("kids-id", ReaderError.NOT_RESIDENCE_CARD, "Kids-ID"),
        ("not-eid", ReaderError.NOT_RESIDENCE_CARD, "not an identity or residence card"),
    ],
)
def test_cards_that_are_not_residence_cards(service, card_id, error, message_part):
    service.insert(card_id)
    snapshot = service.snapshot()
    assert (snapshot.state, snapshot.error, snapshot.card) == (ReaderState.ERROR, error, None)
    assert message_part in snapshot.message


def test_the_blocked_and_expired_cards_are_read_the_kiosk_decides(service):
    service.insert("pin-blocked")
    assert service.snapshot().card.pin_tries_left == 0
    service.insert("expired")
    assert service.snapshot().card.is_expired_on(TODAY)


def test_lists_the_cards_with_descriptions(service):
    listed = {card.id: card.description for card in service.cards()}
    assert {"adult-f-plus", "minor-17", "not-eid"} <= set(listed)
    assert all(listed.values())


def test_unknown_card_and_stopped_service(service):
    with pytest.raises(ValueError):
        service.insert("no-such-card")
    service.stop()
    assert service.snapshot().state == ReaderState.NO_READER
    with pytest.raises(RuntimeError):
        service.insert("adult-f-plus")


def test_unplugged_reader_and_filter(service):
    service.insert("adult-f-plus")
    service.set_reader_present(False)
    snapshot = service.snapshot()
    assert (snapshot.state, snapshot.card) == (ReaderState.NO_READER, None)
    service.set_reader_present(True)
    assert service.snapshot().state == ReaderState.WAITING
    filtered = SimulatedReaderService(reader_filter="ACS ACR38")
    filtered.start()
    assert filtered.snapshot().state == ReaderState.NO_READER


def test_version_grows_only_on_changes(service):
    version = service.snapshot().version
    service.remove()  # no card: nothing changes
    assert service.snapshot().version == version
    service.insert("type-h")
    ready = service.snapshot()
    assert ready.version == version + 3  # reading, ready, then the card's checks
    assert ready.read == version + 2 and ready.checks is not None


def test_wait_for_change_wakes_a_waiting_thread(service):
    version = service.snapshot().version
    seen = []
    waiter = threading.Thread(target=lambda: seen.append(service.wait_for_change(version, timeout=10)))
    waiter.start()
    service.insert("type-m")
    waiter.join(timeout=10)
    assert seen and seen[0].version > version


def test_wait_for_change_times_out_with_the_same_snapshot(service):
    snapshot = service.snapshot()
    assert service.wait_for_change(snapshot.version, timeout=0.01) == snapshot


def test_wait_for(service):
    with pytest.raises(TimeoutError):
        service.wait_for(lambda s: s.state == ReaderState.READY, timeout=0.01)
    service.insert("minor-17")
    assert service.wait_for(lambda s: s.state == ReaderState.READY, timeout=1).card.age_on(TODAY) == 17


def test_snapshot_to_dict_is_json(service):
    service.insert("birth-year-only")
    data = service.snapshot().to_dict(today=TODAY)
    assert json.loads(json.dumps(data)) == data
    assert data["state"] == "ready" and data["error"] is None
    assert data["card"]["birth_date"] == "1979"
    assert "national_number" not in data["card"]


def test_concurrent_inserts_keep_versions_increasing(service):
    # another thread's remove can make this one's a no-op (no new version), so each thread
    # sees versions that never go back; every insert is a change (reading, then read) of its own
    seen_by_thread = [[] for _ in range(4)]
    start = service.snapshot().version

    def insert_and_remove(seen):
        for _ in range(20):
            service.insert("adult-f-plus")
            seen.append(service.snapshot().version)
            service.remove()
            seen.append(service.snapshot().version)

    threads = [threading.Thread(target=insert_and_remove, args=(seen,)) for seen in seen_by_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    for seen in seen_by_thread:
        assert len(seen) == 40
        assert all(a <= b for a, b in itertools.pairwise(seen))
    assert service.snapshot().version >= start + 4 * 20 * 2
    assert service.snapshot().state == ReaderState.WAITING


def test_factory():
    assert isinstance(make_reader_service("simulated"), SimulatedReaderService)
    assert make_reader_service("pcsc") is make_reader_service("pcsc")
    other = make_reader_service("pcsc", reader_filter="another reader")
    assert other is not make_reader_service("pcsc") and other.reader_filter == "another reader"
    with pytest.raises(ValueError):
        make_reader_service("usb")


def test_simulated_service_works_without_pyscard():
    code = (
        "import sys; sys.modules['smartcard'] = None\n"  # any import of pyscard now fails
        "from hardware.card import make_reader_service\n"
        "s = make_reader_service('simulated'); s.start(); s.insert('adult-f-plus')\n"
        "assert s.snapshot().state == 'ready'\n"
        "real = make_reader_service('pcsc'); real.start()\n"  # says so instead of failing
        "assert (real.snapshot().state, real.snapshot().error) == ('error', 'pcsc_down')\n"
        "assert 'pyscard' in real.snapshot().message\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2], timeout=60)
