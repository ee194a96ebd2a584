"""The real reader, through pcscd.

One thread watches the reader with SCardGetStatusChange rather than pyscard's
CardMonitor/ReaderMonitor: when pcscd goes away CardMonitor prints a traceback and ends
its thread for good, so it can neither report pcsc_down nor recover. Here the thread
establishes a new PC/SC context until pcscd answers again, and stop() interrupts the
blocking wait with SCardCancel. pyscard is imported when the service starts, so the
simulated reader works without it.
"""

import logging
import threading
import time
import traceback
from collections.abc import Sequence
from contextlib import contextmanager

from cryptography import x509

from .card_checks import NOT_CHECKED, CardChecks
from .reader_service import (
    STOPPED_MESSAGE,
    ReaderError,
    ReaderService,
    ReaderState,
    ReadOutcome,
    check_outcome,
    read_outcome,
)

log = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"  # pcsc-lite's pseudo reader: readers added/removed
WAIT_MS = 1000  # a blocking wait returns at least this often, whatever pcsc-lite does
RETRY_INTERVAL = 0.2  # between attempts to reach pcscd while it is down
MAX_FAULT_DELAY = 30.0  # longest pause after an unexpected fault before starting over
REMOVAL_WAIT_MS = 1500  # after a failed command, time for the reader to report the card gone
PYSCARD_MISSING_MESSAGE = "The PC/SC library (pyscard) is not installed."


class _PcscGone(Exception):
    """pcscd stopped or the context is no longer valid."""


class _Stopped(Exception):
    """stop() cancelled a blocking call."""


def retry_delay(failures: int) -> float:
    """Pause after the `failures`-th unexpected fault in a row: doubling, capped, so a
    persistent fault neither floods the log nor keeps re-reading the card."""
    return min(RETRY_INTERVAL * 2 ** (failures - 1), MAX_FAULT_DELAY)


def _counter(event: int) -> int:
    """pcsc-lite's event counter (bits 16+ of dwEventState): it grows at every insertion
    and removal, so a card swapped between two waits still changes it."""
    return (event >> 16) & 0xFFFF


class PcscError(Exception):
    def __init__(self, what: str, hresult: int):
        super().__init__(f"{what} failed: {hresult & 0xFFFFFFFF:08X}")
        self.hresult = hresult


class PcscConnection:
    """A connected card with the pyscard-like `transmit` the APDU layer expects."""

    def __init__(self, scard, handle, protocol):
        self._scard, self._handle, self._protocol = scard, handle, protocol

    def transmit(self, apdu: list[int]) -> tuple[list[int], int, int]:
        hresult, response = self._scard.SCardTransmit(self._handle, self._protocol, apdu)
        if hresult != self._scard.SCARD_S_SUCCESS:
            raise PcscError("SCardTransmit", hresult)
        if len(response) < 2:
            raise PcscError("SCardTransmit", self._scard.SCARD_F_COMM_ERROR)
        return response[:-2], response[-2], response[-1]


@contextmanager
def connect_card(scard, context, reader: str):
    """A shared connection to the card in `reader`, inside a transaction so no other
    program's commands land between ours."""
    hresult, handle, protocol = scard.SCardConnect(
        context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    if hresult != scard.SCARD_S_SUCCESS:
        raise PcscError("SCardConnect", hresult)
    try:
        hresult = scard.SCardBeginTransaction(handle)
        if hresult != scard.SCARD_S_SUCCESS:
            raise PcscError("SCardBeginTransaction", hresult)
        try:
            yield PcscConnection(scard, handle, protocol)
        finally:
            scard.SCardEndTransaction(handle, scard.SCARD_LEAVE_CARD)
    finally:
        scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)


class PcscReaderService(ReaderService):
    STOP_TIMEOUT = 10.0  # stop() waits this long; a driver call that hangs may outlast it

    def __init__(self, reader_filter: str | None = None, scard=None, trust_anchors: Sequence[x509.Certificate] = ()):
        """`scard`: pyscard's smartcard.scard (the default) or a stand-in for tests."""
        super().__init__(reader_filter, trust_anchors)
        self._lock = threading.Lock()
        self._watcher: _Watcher | None = None
        self._scard = scard

    def start(self) -> None:
        with self._lock:
            if self._watcher is not None:
                return
            if self._scard is None:
                try:
                    from smartcard import scard
                except ImportError:
                    # The kiosk shows "out of order" rather than failing to start.
                    log.error("pyscard is not installed: no card reader")
                    self._publish(ReaderState.ERROR, ReaderError.PCSC_DOWN, PYSCARD_MISSING_MESSAGE)
                    return
                self._scard = scard
            self._watcher = _Watcher(self, self._scard)

    def stop(self) -> None:
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(self.STOP_TIMEOUT)
        self._publish(ReaderState.NO_READER, message=STOPPED_MESSAGE)


class _Watcher:
    """One watching thread with its own stop event. Once stopped, nothing it publishes
    counts, even if it outlives stop() and a newer watcher has started."""

    def __init__(self, service: PcscReaderService, scard):
        self._service, self._scard = service, scard
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._context = None  # while established, so stop() can cancel its wait
        self._failures = 0  # unexpected faults in a row
        self._faults_logged: set[tuple[str, str, int]] = set()
        self._thread = threading.Thread(target=self._run, name="card-reader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            # SCardCancel only interrupts a wait already under way: repeat it until the
            # thread, which may have been just about to wait, has seen the stop.
            with self._lock:
                if self._context is not None:
                    self._scard.SCardCancel(self._context)
            self._thread.join(timeout=0.05)
        if self._thread.is_alive():
            log.warning("card reader thread still busy after %.0f s; its results are ignored", timeout)

    def _publish(self, state, error=None, message=None, reader=None, card=None):
        return self._service._publish(state, error, message, reader, card, unless=self._stop)

    def _publish_checks(self, read: int, checks: CardChecks) -> None:
        self._service._publish_checks(read, checks, unless=self._stop)

    def _run(self) -> None:
        scard = self._scard
        while not self._stop.is_set():
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult != scard.SCARD_S_SUCCESS:
                self._publish(ReaderState.ERROR, ReaderError.PCSC_DOWN)
                self._stop.wait(RETRY_INTERVAL)
                continue
            with self._lock:
                if self._stop.is_set():
                    scard.SCardReleaseContext(context)
                    return
                self._context = context
            try:
                self._watch(context)
            except _PcscGone:
                self._publish(ReaderState.ERROR, ReaderError.PCSC_DOWN)
                self._stop.wait(RETRY_INTERVAL)
            except _Stopped:
                pass
            except Exception as exc:  # noqa: BLE001 - the reader thread must outlive any fault
                # Never let the kiosk's reader die silently: start over with a new context.
                delay = self._log_fault(exc)
                self._publish(ReaderState.ERROR, ReaderError.UNREADABLE)
                self._stop.wait(delay)
            finally:
                with self._lock:
                    self._context = None
                scard.SCardReleaseContext(context)

    def _log_fault(self, exc: Exception) -> float:
        """Log a fault (its traceback the first time, one line after) and return the pause
        before starting over. The exception's text is left out: it may hold card data."""
        self._failures += 1
        delay = retry_delay(self._failures)
        frames = traceback.extract_tb(exc.__traceback__)
        where = frames[-1] if frames else None
        key = (type(exc).__name__, where.filename if where else "", (where.lineno or 0) if where else 0)
        if key in self._faults_logged:
            log.error(
                "card reader thread failed again (%s at %s:%d); starting over in %.1f s",
                key[0],
                key[1].rsplit("/", 1)[-1],
                key[2],
                delay,
            )
        else:
            self._faults_logged.add(key)
            log.error(
                "card reader thread failed (%s); starting over in %.1f s\n%s",
                key[0],
                delay,
                "".join(traceback.format_list(frames)).rstrip(),
            )
        return delay

    def _check(self, hresult: int) -> None:
        """Raise for the results that end the watch: pcscd gone, or stop() called."""
        scard = self._scard
        if hresult == scard.SCARD_E_CANCELLED or self._stop.is_set():
            raise _Stopped
        if hresult in (
            scard.SCARD_E_NO_SERVICE,
            scard.SCARD_E_SERVICE_STOPPED,
            scard.SCARD_E_INVALID_HANDLE,
            scard.SCARD_F_COMM_ERROR,
        ):
            raise _PcscGone

    def _readers(self, context) -> list[str]:
        scard = self._scard
        hresult, readers = scard.SCardListReaders(context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        self._check(hresult)
        if hresult != scard.SCARD_S_SUCCESS:
            raise _PcscGone
        return sorted(name for name in readers if self._service.accepts_reader(name))

    def _watch(self, context) -> None:
        """Follow one reader (the first whose name matches the filter) until pcscd goes."""
        scard, service = self._scard, self._service
        reader = None
        reader_state = pnp_state = scard.SCARD_STATE_UNAWARE
        reader_atr = b""
        card_read = None  # (event counter, ATR) of the card in the reader, once read
        while True:
            if self._stop.is_set():  # stop() may have cancelled before we got to wait
                raise _Stopped
            if reader is None:
                readers = self._readers(context)
                if readers:
                    reader, reader_state, card_read = readers[0], scard.SCARD_STATE_UNAWARE, None
                elif service.snapshot().error != ReaderError.READER_GONE:
                    self._publish(ReaderState.NO_READER)
            watched = [(reader, reader_state)] if reader else []
            hresult, states = scard.SCardGetStatusChange(context, WAIT_MS, [*watched, (PNP_NOTIFICATION, pnp_state)])
            self._check(hresult)
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            lost = hresult in (scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE)
            if hresult != scard.SCARD_S_SUCCESS and not lost:
                raise _PcscGone
            for name, event, atr in states:
                if name == PNP_NOTIFICATION:
                    pnp_state = event & ~scard.SCARD_STATE_CHANGED
                elif name == reader:
                    reader_state, reader_atr = event & ~scard.SCARD_STATE_CHANGED, bytes(atr)
                    lost = lost or bool(event & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE))
            if reader is None:
                continue
            if lost:
                log.info("card reader disconnected")
                if card_read is not None or service.snapshot().state == ReaderState.READING:
                    self._publish(ReaderState.ERROR, ReaderError.READER_GONE)
                reader = None
                continue
            if reader_state & scard.SCARD_STATE_PRESENT:
                card = (_counter(reader_state), reader_atr)
                # A changed counter while still present: the card was swapped between two
                # waits, and the data on screen belongs to the card that left.
                if card != card_read:
                    card_read = card
                    outcome = self._read(context, reader, reader_state)
                    if outcome is None or outcome.error == ReaderError.REMOVED_DURING_READ:
                        card_read, reader_state = None, scard.SCARD_STATE_UNAWARE
                    elif outcome.error == ReaderError.READER_GONE:
                        reader = None
                    else:
                        self._failures = 0
            else:
                card_read = None
                self._failures = 0
                if service.snapshot().error != ReaderError.REMOVED_DURING_READ:
                    self._publish(ReaderState.WAITING, reader=reader)

    def _read(self, context, reader: str, reader_state: int) -> ReadOutcome | None:
        """The outcome, published; None when another card took this one's place during
        the read (the caller reads again). A card is published as soon as the check screen
        has what it needs, and its checks follow on the same connection."""
        self._publish(ReaderState.READING, reader=reader)
        started = time.monotonic()
        outcome: ReadOutcome | None = None
        shown = None
        try:
            with connect_card(self._scard, context, reader) as connection:
                outcome = read_outcome(connection)
                log.info("card read in %.0f ms", (time.monotonic() - started) * 1000)
                shown = self._publish(outcome.state, outcome.error, outcome.message, reader, outcome.card)
                if shown is not None and shown.read is not None:
                    self._publish_checks(shown.read, self._checks(connection, outcome))
                    log.info("card checked in %.0f ms", (time.monotonic() - started) * 1000)
        except PcscError as error:
            if outcome is not None:
                # The card was shown; its checks were cut short (pulled, most likely: the
                # next status change says so). The screen stays as it is, unverified.
                log.info("card checks cut short: %s", error)
                if shown is not None and shown.read is not None:
                    self._publish_checks(shown.read, NOT_CHECKED)
                return outcome
            outcome = self._failed_read(context, reader, reader_state, error)
            if outcome is None:
                log.info("card swapped during the read")
                return None
            self._publish(outcome.state, outcome.error, outcome.message, reader, outcome.card)
        return outcome

    def _checks(self, connection, outcome: ReadOutcome) -> CardChecks:
        try:
            return check_outcome(connection, outcome, self._service.trust_anchors)
        except PcscError:
            raise
        except Exception as exc:  # noqa: BLE001 - a fault in the checks must not take the shown card away
            log.error("card checks failed (%s): not checked", type(exc).__name__)
            return NOT_CHECKED

    def _failed_read(self, context, reader: str, reader_state: int, error: PcscError) -> ReadOutcome | None:
        """Tell a pulled card or a vanished reader from an unreadable card. A reader may
        take a moment to notice that the card left (vpcd polls every 0.4 s)."""
        scard = self._scard
        counter = _counter(reader_state)
        deadline = time.monotonic() + REMOVAL_WAIT_MS / 1000
        while (left_ms := int((deadline - time.monotonic()) * 1000)) > 0:
            hresult, states = scard.SCardGetStatusChange(context, left_ms, [(reader, reader_state)])
            self._check(hresult)
            if hresult in (scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE):
                return ReadOutcome(ReaderState.ERROR, ReaderError.READER_GONE)
            if hresult != scard.SCARD_S_SUCCESS:
                break
            event = states[0][1]
            if event & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                return ReadOutcome(ReaderState.ERROR, ReaderError.READER_GONE)
            if event & scard.SCARD_STATE_EMPTY:
                return ReadOutcome(ReaderState.ERROR, ReaderError.REMOVED_DURING_READ)
            if event & scard.SCARD_STATE_PRESENT and _counter(event) != counter:
                return None
            reader_state = event & ~scard.SCARD_STATE_CHANGED
        log.warning("card unreadable: %s", error)
        return ReadOutcome(ReaderState.ERROR, ReaderError.UNREADABLE)
