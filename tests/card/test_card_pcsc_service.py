"""The PC/SC service's state machine against an in-memory pcscd, for what vpcd cannot
do: readers plugged and unplugged, several readers, an unreadable card."""

import itertools
import threading
import time
from dataclasses import replace

import pytest

from hardware.card.eid_applet import EidApplet
from hardware.card.fake_cards import FakeCard
from hardware.card.pcsc_service import (
    MAX_FAULT_DELAY,
    PNP_NOTIFICATION,
    PcscReaderService,
    retry_delay,
)
from hardware.card.reader_service import ReaderError, ReaderState
from tests.system import wait_until

TIMEOUT = 5
HANG_LIMIT = 30  # a hung command still returns after this: no test leaves its thread behind


class FakePcsc:
    """The part of smartcard.scard the service uses, over readers held in memory."""

    SCARD_S_SUCCESS = 0
    SCARD_SCOPE_USER = 0
    SCARD_E_CANCELLED = 0x80100002
    SCARD_E_INVALID_HANDLE = 0x80100003
    SCARD_E_UNKNOWN_READER = 0x80100009
    SCARD_E_TIMEOUT = 0x8010000A
    SCARD_E_NO_SMARTCARD = 0x8010000C
    SCARD_F_COMM_ERROR = 0x80100013
    SCARD_E_NOT_TRANSACTED = 0x80100016
    SCARD_E_READER_UNAVAILABLE = 0x80100017
    SCARD_E_NO_SERVICE = 0x8010001D
    SCARD_E_SERVICE_STOPPED = 0x8010001E
    SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
    SCARD_W_REMOVED_CARD = 0x80100069
    SCARD_STATE_UNAWARE, SCARD_STATE_CHANGED, SCARD_STATE_UNKNOWN = 0x00, 0x02, 0x04
    SCARD_STATE_UNAVAILABLE, SCARD_STATE_EMPTY, SCARD_STATE_PRESENT = 0x08, 0x10, 0x20
    SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1, SCARD_LEAVE_CARD = 2, 1, 2, 0

    def __init__(self):
        self._changed = threading.Condition()
        self.running = True
        self.readers: dict[str, EidApplet | None] = {}
        self._counters: dict[str, int] = {}
        self._contexts = itertools.count(1)
        self._live: set[int] = set()
        self._cancelled: set[int] = set()
        self._handles: dict[int, tuple[str, EidApplet]] = {}
        self.pull_after: int | None = None  # the card leaves after this many commands
        self.swap_after: tuple[int, FakeCard] | None = None  # then another card is in
        self.hang_after: int | None = None  # later commands block until `unhang` is set
        self.unhang = threading.Event()
        self.connect_fault: Exception | None = None  # raised by SCardConnect (a driver bug)
        self.faults_at: list[float] = []  # when it was raised
        self._sent = 0

    # What a test does to the "hardware"

    def _change(self, reader: str | None = None, events: int = 1, **changes):
        with self._changed:
            for name, value in changes.items():
                setattr(self, name, value)
            if reader is not None:
                self._counters[reader] = self._counters.get(reader, 0) + events
            self._changed.notify_all()

    def plug(self, reader):
        self.readers[reader] = None
        self._change(reader)

    def unplug(self, reader):
        del self.readers[reader]
        self._change(reader)

    def insert(self, reader, card):
        self.readers[reader] = EidApplet(card)
        self._sent = 0
        self._change(reader)

    def remove(self, reader):
        self.readers[reader] = None
        self._change(reader)

    def swap(self, reader, card):
        """Pull the card and insert another between two status waits: a watcher sees
        present, then present again, with the counter two events further."""
        self.readers[reader] = EidApplet(card)
        self._sent = 0
        self._change(reader, events=2)

    def stop_daemon(self):
        self._live.clear()
        self._change(running=False)

    def start_daemon(self):
        self._change(running=True)

    # The scard API

    def SCardEstablishContext(self, scope):
        with self._changed:
            if not self.running:
                return self.SCARD_E_NO_SERVICE, 0
            context = next(self._contexts)
            self._live.add(context)
            return self.SCARD_S_SUCCESS, context

    def SCardReleaseContext(self, context):
        self._live.discard(context)
        return self.SCARD_S_SUCCESS

    def SCardCancel(self, context):
        with self._changed:
            self._cancelled.add(context)
            self._changed.notify_all()
        return self.SCARD_S_SUCCESS

    def SCardListReaders(self, context, groups):
        with self._changed:
            if context not in self._live:
                return self.SCARD_E_NO_SERVICE, []
            if not self.readers:
                return self.SCARD_E_NO_READERS_AVAILABLE, []
            return self.SCARD_S_SUCCESS, list(self.readers)

    def _event(self, reader: str) -> int:
        if reader == PNP_NOTIFICATION:
            return len(self.readers) << 16
        if reader not in self.readers:
            return self.SCARD_STATE_UNKNOWN
        present = self.SCARD_STATE_PRESENT if self.readers[reader] else self.SCARD_STATE_EMPTY
        return self._counters.get(reader, 0) << 16 | present

    def SCardGetStatusChange(self, context, timeout_ms, states):
        deadline = time.monotonic() + timeout_ms / 1000
        with self._changed:
            while True:
                if context in self._cancelled:
                    self._cancelled.discard(context)
                    return self.SCARD_E_CANCELLED, []
                if context not in self._live:
                    return self.SCARD_E_NO_SERVICE, []
                answer, changed = [], False
                for name, current, *_ in states:
                    event = self._event(name)
                    if event != current & ~self.SCARD_STATE_CHANGED:
                        changed, event = True, event | self.SCARD_STATE_CHANGED
                    answer.append((name, event, []))
                left = deadline - time.monotonic()
                if changed or left <= 0:
                    return (self.SCARD_S_SUCCESS if changed else self.SCARD_E_TIMEOUT), answer
                self._changed.wait(left)  # a blocking call, like pcscd's

    def SCardConnect(self, context, reader, share, protocols):
        if self.connect_fault is not None:
            self.faults_at.append(time.monotonic())
            raise self.connect_fault
        with self._changed:
            if reader not in self.readers:
                return self.SCARD_E_UNKNOWN_READER, 0, 0
            if self.readers[reader] is None:
                return self.SCARD_E_NO_SMARTCARD, 0, 0
            handle = len(self._handles) + 1
            self._handles[handle] = (reader, self.readers[reader])
            return self.SCARD_S_SUCCESS, handle, self.SCARD_PROTOCOL_T0

    def SCardBeginTransaction(self, handle):
        return self.SCARD_S_SUCCESS

    def SCardEndTransaction(self, handle, disposition):
        return self.SCARD_S_SUCCESS

    def SCardDisconnect(self, handle, disposition):
        return self.SCARD_S_SUCCESS

    def SCardTransmit(self, handle, protocol, apdu):
        reader, applet = self._handles[handle]
        if self.readers.get(reader) is not applet:
            return self.SCARD_W_REMOVED_CARD, []
        self._sent += 1
        if self.pull_after is not None and self._sent > self.pull_after:
            self.remove(reader)
            return self.SCARD_E_NOT_TRANSACTED, []
        if self.swap_after is not None and self._sent > self.swap_after[0]:
            _, card = self.swap_after
            self.swap_after = None
            self.swap(reader, card)
            return self.SCARD_W_REMOVED_CARD, []
        if self.hang_after is not None and self._sent > self.hang_after:
            self.unhang.wait(HANG_LIMIT)  # a driver call that SCardCancel cannot interrupt
        return self.SCARD_S_SUCCESS, list(applet.respond(bytes(apdu)))


@pytest.fixture
def pcsc():
    return FakePcsc()


@pytest.fixture
def start_service(pcsc):
    services = []
    before = _watcher_threads()

    def start(reader_filter=None):
        service = PcscReaderService(reader_filter, scard=pcsc)
        service.start()
        services.append(service)
        return service

    yield start
    for service in services:
        service.stop()
    pcsc.unhang.set()  # a command a test left hanging returns, so its thread can end
    wait_until(lambda: not _watcher_threads() - before, timeout=TIMEOUT, what="the reader threads to end")


def wait_state(service, state, error=None):
    return service.wait_for(lambda s: s.state == state and s.error == error, TIMEOUT)


def test_no_reader_until_one_is_plugged_in(pcsc, start_service):
    service = start_service()
    wait_state(service, ReaderState.NO_READER)
    pcsc.plug("ACME Reader 0")
    assert wait_state(service, ReaderState.WAITING).reader == "ACME Reader 0"


def test_reader_unplugged_with_a_card_in_it(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    service = start_service()
    wait_state(service, ReaderState.READY)
    pcsc.unplug("ACME Reader 0")
    gone = wait_state(service, ReaderState.ERROR, ReaderError.READER_GONE)
    assert gone.card is None
    pcsc.plug("ACME Reader 0")
    wait_state(service, ReaderState.WAITING)


def test_reader_unplugged_while_waiting(pcsc, start_service):
    pcsc.plug("ACME Reader 0")
    service = start_service()
    wait_state(service, ReaderState.WAITING)
    pcsc.unplug("ACME Reader 0")
    wait_state(service, ReaderState.NO_READER)


def test_the_filter_picks_the_reader(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    pcsc.plug("Kiosk Reader 1")
    pcsc.insert("ACME Reader 0", cards["type-h"])
    service = start_service(reader_filter="Kiosk")
    assert wait_state(service, ReaderState.WAITING).reader == "Kiosk Reader 1"
    pcsc.insert("Kiosk Reader 1", cards["type-m"])
    assert wait_state(service, ReaderState.READY).card.card_type == "M"


def test_each_card_is_read_once(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    service = start_service()
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    ready = service.wait_for(lambda s: s.state == ReaderState.READY and s.checks is not None, TIMEOUT)
    # nothing changes while the card stays (its checks came): no new version, no second read
    assert service.wait_for_change(ready.version, timeout=0.3) == ready
    pcsc.remove("ACME Reader 0")
    wait_state(service, ReaderState.WAITING)
    pcsc.insert("ACME Reader 0", cards["type-l"])
    assert wait_state(service, ReaderState.READY).card.card_type == "L"


def test_pcscd_stops_and_comes_back(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    service = start_service()
    wait_state(service, ReaderState.READY)
    pcsc.stop_daemon()
    assert wait_state(service, ReaderState.ERROR, ReaderError.PCSC_DOWN).card is None
    pcsc.start_daemon()
    wait_state(service, ReaderState.READY)


def test_card_pulled_mid_read_then_inserted_again(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    service = start_service()
    wait_state(service, ReaderState.WAITING)
    pcsc.pull_after = 2
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    wait_state(service, ReaderState.ERROR, ReaderError.REMOVED_DURING_READ)
    pcsc.pull_after = None
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    wait_state(service, ReaderState.READY)


def test_a_card_with_broken_files_is_unreadable(pcsc, start_service, cards):
    broken = replace(cards["adult-f-plus"], identity=cards["adult-f-plus"].identity[:40])
    pcsc.plug("ACME Reader 0")
    pcsc.insert("ACME Reader 0", broken)
    service = start_service()
    snapshot = wait_state(service, ReaderState.ERROR, ReaderError.UNREADABLE)
    assert snapshot.message == "The card could not be read."
    pcsc.remove("ACME Reader 0")
    wait_state(service, ReaderState.WAITING)


def test_stop_forgets_the_card(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    service = start_service()
    wait_state(service, ReaderState.READY)
    service.stop()
    snapshot = service.snapshot()
    assert (snapshot.state, snapshot.card) == (ReaderState.NO_READER, None)
    service.start()  # and it can start again
    wait_state(service, ReaderState.READY)


def test_a_card_swapped_between_two_waits_is_read(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    service = start_service()
    assert wait_state(service, ReaderState.READY).card.card_type == "F+"
    pcsc.swap("ACME Reader 0", cards["type-l"])  # the reader never reported "empty"
    service.wait_for(lambda s: s.state == ReaderState.READY and s.card.card_type == "L", TIMEOUT)


def test_a_card_swapped_during_a_read_is_read(pcsc, start_service, cards, caplog):
    pcsc.plug("ACME Reader 0")
    service = start_service()
    wait_state(service, ReaderState.WAITING)
    pcsc.swap_after = (3, cards["type-l"])
    with caplog.at_level("INFO", logger="hardware.card.reader_service"):  # every state published
        pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
        assert wait_state(service, ReaderState.READY).card.card_type == "L"
    assert "error" not in caplog.text  # not "could not be read" for the first card meanwhile


def _watcher_threads():
    return {thread for thread in threading.enumerate() if thread.name == "card-reader"}


def test_a_watcher_that_outlives_stop_changes_nothing(pcsc, start_service, cards):
    pcsc.plug("ACME Reader 0")
    before = _watcher_threads()
    service = start_service()
    service.STOP_TIMEOUT = 0.2
    wait_state(service, ReaderState.WAITING)
    pcsc.hang_after = 6  # the last command of the read never comes back
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    wait_until(lambda: pcsc._sent == 7, what="the read to hang")
    [stuck] = _watcher_threads() - before
    service.stop()  # gives up on the stuck thread
    assert stuck.is_alive()
    pcsc.remove("ACME Reader 0")
    service.start()
    wait_state(service, ReaderState.WAITING)
    pcsc.unhang.set()  # the old read completes, for a card that has left
    wait_until(lambda: not stuck.is_alive(), what="the old watcher to end")
    assert len(_watcher_threads() - before) == 1
    snapshot = service.snapshot()
    assert (snapshot.state, snapshot.card) == (ReaderState.WAITING, None)


def test_retry_delay_doubles_up_to_a_cap():
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[:3] == [0.2, 0.4, 0.8]
    assert all(later >= earlier for earlier, later in itertools.pairwise(delays))
    assert delays[-1] == MAX_FAULT_DELAY == 30.0


def test_a_persistent_fault_backs_off_and_logs_one_traceback(pcsc, start_service, cards, caplog):
    pcsc.plug("ACME Reader 0")
    pcsc.insert("ACME Reader 0", cards["adult-f-plus"])
    pcsc.connect_fault = RuntimeError("driver bug 1985-03-04")
    with caplog.at_level("ERROR", logger="hardware.card.pcsc_service"):
        service = start_service()
        wait_until(lambda: len(pcsc.faults_at) >= 4, timeout=5, what="four faults")
        service.stop()
    faults = pcsc.faults_at
    gaps = [later - earlier for earlier, later in itertools.pairwise(faults)]
    assert gaps[1] >= 0.4 * 0.95 and gaps[2] >= 0.8 * 0.95, gaps
    failures = [m for m in caplog.messages if "card reader thread failed" in m]
    assert len(failures) >= 3
    assert "pcsc_service.py" in failures[0] and "\n" in failures[0]  # where it failed, once
    assert all("\n" not in message for message in failures[1:])
    assert "1985" not in caplog.text  # the exception's text may hold card data
