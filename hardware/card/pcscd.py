"""A pcscd of our own, for tests and the benchmark: started in the foreground so it can
be stopped and started again (the "pcscd restarts" case), and never left behind.

It loads only vsmartcard's vpcd driver, listening on a port below Linux's ephemeral range
(32768-60999). vpcd's default 35963 is inside that range: any client connection on the
machine may get it as its local port, and while that socket lingers in TIME_WAIT vpcd
cannot listen and pcscd drops both virtual readers.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PID_FILE = Path(tempfile.gettempdir()) / "snelbalie-kiosk-pcscd.pid"
PRIVATE_VPCD_PORT = 29963  # readers "Virtual PCD 00 00" on this port, "00 01" on the next
_VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"  # Debian's vsmartcard-vpcd


class PcscdError(Exception):
    pass


def pcscd_pids() -> list[int]:
    """Every running pcscd that shares our /run/pcscd: one in another mount namespace (a
    container's) has a socket of its own and is no rival."""
    ours = os.readlink("/proc/self/ns/mnt")
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "pcscd" and os.readlink(entry / "ns/mnt") == ours:
                    pids.append(int(entry.name))
            except OSError:
                pass  # the process ended meanwhile, or is another user's we may not look into
    return pids


def _poll(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise PcscdError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)
    return value


def wait_for_reader(reader: str, present: bool, timeout: float = 10.0) -> None:
    """Until `reader` has a card (or none). pcscd tells when the state changes, so
    nothing polls; vpcd notices a card leaving within 0.4 s."""
    from smartcard import scard

    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        raise PcscdError("pcscd does not answer")
    try:
        wanted = scard.SCARD_STATE_PRESENT if present else scard.SCARD_STATE_EMPTY
        state = scard.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout
        while (left_ms := int((deadline - time.monotonic()) * 1000)) > 0:
            result, states = scard.SCardGetStatusChange(context, left_ms, [(reader, state)])
            if result not in (scard.SCARD_S_SUCCESS, scard.SCARD_E_TIMEOUT):
                raise PcscdError(f"cannot watch {reader}: {scard.SCardGetErrorMessage(result)}")
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if state & wanted:
                return
        raise PcscdError(f"{reader} still {'without' if present else 'with'} a card after {timeout} s")
    finally:
        scard.SCardReleaseContext(context)


def _pcsc_answers(reader_prefix: str) -> bool:
    from smartcard import scard

    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        return False
    try:
        result, readers = scard.SCardListReaders(context, [])
        return result == scard.SCARD_S_SUCCESS and any(r.startswith(reader_prefix) for r in readers)
    finally:
        scard.SCardReleaseContext(context)


def _check_port_free(port: int) -> None:
    """Bind as vpcd does (SO_REUSEADDR, so our own lingering connections do not count)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise PcscdError(f"vpcd cannot listen on port {port}: {error.strerror}") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    return True


class Pcscd:
    """`start()` waits until pcscd answers and lists vpcd's readers."""

    def __init__(self, vpcd_port: int = PRIVATE_VPCD_PORT, executable: str = "pcscd"):
        self.vpcd_port = vpcd_port
        self.executable = executable
        self.reader_prefix = "Virtual PCD"
        self._process: subprocess.Popen | None = None
        self._config: Path | None = None

    def _write_config(self) -> Path:
        """A reader.conf.d of its own: only vpcd, on our port."""
        config = Path(tempfile.mkdtemp(prefix="kiosk-pcscd-"))
        (config / "vpcd").write_text(
            'FRIENDLYNAME "Virtual PCD"\n'
            f"DEVICENAME /dev/null:0x{self.vpcd_port:04X}\n"
            f"LIBPATH {_VPCD_DRIVER}\n"
            f"CHANNELID 0x{self.vpcd_port:04X}\n"
        )
        return config

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        _stop_stale()
        others = pcscd_pids()
        if others:
            raise PcscdError(f"another pcscd is running (pid {others[0]})")
        if not Path(_VPCD_DRIVER).exists():
            raise PcscdError(f"no vpcd driver at {_VPCD_DRIVER} (Debian package vsmartcard-vpcd)")
        for port in (self.vpcd_port, self.vpcd_port + 1):
            _check_port_free(port)
        self._config = self._write_config()
        process = self._process = subprocess.Popen(
            [self.executable, "--foreground", "--config", str(self._config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        PID_FILE.write_text(f"{process.pid} {os.getpid()}")

        def ready() -> bool:
            if process.poll() is not None:
                raise PcscdError(f"pcscd exited with status {process.returncode}")
            return _pcsc_answers(self.reader_prefix)

        try:
            _poll(ready, timeout, "pcscd to list its readers")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)  # SIGKILL cannot be ignored: a hang here is a kernel problem
            PID_FILE.unlink(missing_ok=True)
        if self._config is not None:
            shutil.rmtree(self._config, ignore_errors=True)
            self._config = None

    def __enter__(self) -> "Pcscd":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _stop_stale() -> None:
    """A pcscd that an earlier run of ours started and could not stop (killed run). One
    whose starter still runs is not stale: it belongs to another test run on this machine."""
    try:
        pid, owner = (int(field) for field in PID_FILE.read_text().split())
    except (OSError, ValueError):
        return
    if _alive(owner):
        return
    if pid in pcscd_pids():
        os.kill(pid, signal.SIGTERM)
        _poll(lambda: pid not in pcscd_pids(), 5, "the stale pcscd to stop")
    PID_FILE.unlink(missing_ok=True)
