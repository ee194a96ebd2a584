"""Printer drivers: how ticket bytes and status queries reach a printer.

A ticket is one connection: open, ask the status, send the job if the printer is ready,
close. Every step takes an absolute `deadline` (time.monotonic()) and gives up when it
passes, so a silent printer cannot hold the kiosk.

Network printers are spoken to over a plain socket (port 9100) so the timeouts are ours.
USB and serial printers go through python-escpos (imported lazily; pyusb and pyserial are
optional). A device file (kind "file", e.g. /dev/usb/lp0) is used without blocking, with
poll() under the deadline: usblp blocks a plain write for as long as the paper is out.
"""

from __future__ import annotations

import errno
import os
import re
import select
import socket
import stat
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from hardware.printer.escpos_lib import escpos_printers, module_available
from hardware.printer.raster import RasterText, RasterUnavailable
from hardware.printer.settings import (
    SIMULATED_MODES,
    PrinterConfigError,
    PrinterSettings,
    parse_settings,
)
from hardware.printer.status import (
    STATUS_ANSWER_LENGTH,
    STATUS_QUERY,
    PrinterStatus,
    parse_status,
)
from hardware.printer.ticket import TicketPrint


class PrinterError(Exception):
    """A printer could not be reached or did not do its part; `reason` is a stable code
    ("offline", "timeout" or "error")."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def classify(exc: BaseException) -> str:
    """Map a transport exception to "timeout", "offline" or "error"."""
    name = type(exc).__name__
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return "timeout"
    if isinstance(exc, (ConnectionError, EOFError)) or name in (
        "DeviceNotFoundError",
        "USBNotFoundError",
    ):
        return "offline"
    if isinstance(exc, OSError) and exc.errno in (
        errno.ENOENT,
        errno.ENODEV,
        errno.ENXIO,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
        errno.EIO,
    ):
        return "offline"
    return "error"


def time_left(deadline: float, limit: float) -> float:
    """Seconds for the next step: at most `limit`, never past the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise PrinterError("timeout", "the printing deadline passed")
    return min(limit, left)


class PrinterConnection(ABC):
    """One open channel to a printer, for one ticket or one status check."""

    @abstractmethod
    def status(self, deadline: float) -> PrinterStatus: ...

    @abstractmethod
    def send(self, job: bytes, ticket: TicketPrint | None, deadline: float) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> PrinterConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Printer(ABC):
    kind: str = ""
    # Whether a status check and a ticket may talk to the printer at the same time (each on
    # its own connection). A device (USB, serial, device file) serves one user at a time.
    parallel_connections: bool = False
    # How long a status check may answer from the last status seen: asking costs a round
    # trip, and up to the whole deadline when the printer is silent.
    status_max_age: float = 5.0

    def __init__(self, settings: PrinterSettings):
        self.settings = settings

    @abstractmethod
    def connect(self, deadline: float) -> PrinterConnection:
        """Open a connection; raises PrinterError."""

    def describe(self) -> str:
        return self.kind


# --- network (port 9100) ----------------------------------------------------------------


class NetworkPrinter(Printer):
    """`host` is an IP address (see settings): connecting never waits for a name lookup."""

    kind = "network"
    parallel_connections = True

    def describe(self) -> str:
        return f"network {self.settings.host}:{self.settings.port}"

    def connect(self, deadline: float) -> PrinterConnection:
        host, port = self.settings.host, self.settings.port
        timeout = time_left(deadline, self.settings.timeout)
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except ConnectionRefusedError:
            raise PrinterError("offline", f"{host}:{port} refused the connection") from None
        except OSError as exc:
            reason = classify(exc)
            if reason == "timeout":
                message = f"no connection to {host}:{port} within {timeout:.1f} s"
            else:
                message = f"cannot connect to {host}:{port}: {exc}"
            raise PrinterError("offline" if reason == "error" else reason, message) from None
        # Status queries are tiny request/answer pairs: do not let Nagle hold them back.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _SocketConnection(sock, self.settings.timeout)


class _SocketConnection(PrinterConnection):
    def __init__(self, sock: socket.socket, timeout: float):
        self._sock = sock
        self._timeout = timeout

    def status(self, deadline: float) -> PrinterStatus:
        answer = b""
        try:
            self._sock.settimeout(time_left(deadline, self._timeout))
            self._sock.sendall(STATUS_QUERY)
            while len(answer) < STATUS_ANSWER_LENGTH:
                self._sock.settimeout(time_left(deadline, self._timeout))
                chunk = self._sock.recv(STATUS_ANSWER_LENGTH - len(answer))
                if not chunk:
                    raise PrinterError("offline", "the printer closed the connection")
                answer += chunk
        except OSError as exc:
            if classify(exc) == "timeout":
                raise PrinterError("timeout", "no answer to the status query in time") from None
            raise PrinterError("offline", f"status query failed: {exc}") from None
        return parse_status(answer)

    def send(self, job: bytes, ticket: TicketPrint | None, deadline: float) -> None:
        try:
            self._sock.settimeout(time_left(deadline, self._timeout))
            self._sock.sendall(job)
            # FIN after the data: the printer sees the job is complete.
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            reason = classify(exc)
            raise PrinterError(
                "timeout" if reason == "timeout" else "offline", f"sending the ticket failed: {exc}"
            ) from None

    def close(self) -> None:
        self._sock.close()


# --- USB and serial, through python-escpos -----------------------------------------------


class EscposDevicePrinter(Printer):
    """A printer driven by a python-escpos object (Usb, Serial, or any other class).

    `open_device` builds the (unopened) escpos object; `read` reads up to n status bytes from
    it within a timeout in seconds (python-escpos's own `_read` waits for 16 bytes on serial).
    """

    def __init__(
        self,
        settings: PrinterSettings,
        open_device: Callable[[PrinterSettings], Any],
        read: Callable[[Any, int, float], bytes],
        kind: str,
    ):
        super().__init__(settings)
        self._open_device = open_device
        self._read = read
        self.kind = kind

    def describe(self) -> str:
        s = self.settings
        if self.kind == "usb":
            return f"usb {s.vendor_id or 0:04x}:{s.product_id or 0:04x}"
        if self.kind == "serial":
            return f"serial {s.device}"
        return self.kind

    def connect(self, deadline: float) -> PrinterConnection:
        time_left(deadline, self.settings.timeout)
        try:
            device = self._open_device(self.settings)
            device.open()
        except Exception as exc:  # noqa: BLE001 - python-escpos, pyusb and pyserial raise many types
            reason = classify(exc)
            raise PrinterError(
                "offline" if reason == "error" else reason, f"cannot open {self.describe()}: {exc}"
            ) from None
        return _EscposConnection(device, self._read, self.settings.timeout)


class _EscposConnection(PrinterConnection):
    def __init__(self, device: Any, read: Callable[[Any, int, float], bytes], timeout: float):
        self._device = device
        self._read = read
        self._timeout = timeout

    def status(self, deadline: float) -> PrinterStatus:
        answer = b""
        try:
            self._device._raw(STATUS_QUERY)
            while len(answer) < STATUS_ANSWER_LENGTH:
                wanted = STATUS_ANSWER_LENGTH - len(answer)
                chunk = self._read(self._device, wanted, time_left(deadline, self._timeout))
                if not chunk:
                    raise PrinterError("timeout", "no answer to the status query in time")
                answer += bytes(chunk)
        except PrinterError:
            raise
        except Exception as exc:  # noqa: BLE001 - any transport failure is a PrinterError
            raise PrinterError(classify(exc), f"status query failed: {exc}") from None
        return parse_status(answer[:STATUS_ANSWER_LENGTH])

    def send(self, job: bytes, ticket: TicketPrint | None, deadline: float) -> None:
        time_left(deadline, self._timeout)
        try:
            # python-escpos has no public call for raw bytes; _raw is its transport hook.
            self._device._raw(job)
        except Exception as exc:  # noqa: BLE001 - any transport failure is a PrinterError
            raise PrinterError(classify(exc), f"sending the ticket failed: {exc}") from None

    def close(self) -> None:
        try:
            self._device.close()
        except Exception:  # noqa: BLE001 - closing a device that vanished must not hide the outcome
            pass


def _usb_device(settings: PrinterSettings) -> Any:
    return escpos_printers().Usb(
        settings.vendor_id,
        settings.product_id,
        timeout=int(settings.timeout * 1000),
        in_ep=settings.in_ep,
        out_ep=settings.out_ep,
    )


def _usb_read(device: Any, n: int, timeout: float) -> bytes:
    try:
        return bytes(device.device.read(device.in_ep, 16, int(timeout * 1000)))[:n]
    except Exception as exc:
        if classify(exc) == "timeout":
            return b""
        raise


def _serial_device(settings: PrinterSettings) -> Any:
    return escpos_printers().Serial(settings.device, baudrate=settings.baudrate, timeout=settings.timeout)


def _serial_read(device: Any, n: int, timeout: float) -> bytes:
    port = device.device
    port.timeout = timeout
    return port.read(n)


# --- device file ---------------------------------------------------------------------


class FilePrinter(Printer):
    """A device node (e.g. /dev/usb/lp0), opened non-blocking: every write and the status
    answer are waited for with poll() under the deadline. A printer that cannot answer
    (usblp refuses reads from a unidirectional printer, a device opened write-only, a
    plain file) reports "not reported" (online, paper unknown); a missing device is offline."""

    kind = "file"

    def describe(self) -> str:
        return f"file {self.settings.path}"

    def connect(self, deadline: float) -> PrinterConnection:
        time_left(deadline, self.settings.timeout)
        path = str(self.settings.path)
        # Never O_CREAT: a missing device node means the printer is unplugged, and
        # creating a plain file in its place would swallow every later ticket.
        flags = os.O_NONBLOCK | os.O_APPEND | os.O_NOCTTY
        try:
            try:
                fd, readable = os.open(path, os.O_RDWR | flags), True
            except PermissionError:
                fd, readable = os.open(path, os.O_WRONLY | flags), False
        except OSError as exc:
            raise PrinterError(
                "offline" if classify(exc) != "timeout" else "timeout", f"cannot open {path}: {exc}"
            ) from None
        if stat.S_ISREG(os.fstat(fd).st_mode):
            readable = False  # a plain file would read back our own query
        return _FileConnection(fd, readable, self.settings.timeout)


class _FileConnection(PrinterConnection):
    def __init__(self, fd: int, readable: bool, timeout: float):
        self._fd = fd
        self._readable = readable
        self._timeout = timeout

    def _wait(self, events: int, deadline: float, what: str) -> None:
        poller = select.poll()
        poller.register(self._fd, events)
        ready = poller.poll(time_left(deadline, self._timeout) * 1000)
        if not ready:
            raise PrinterError("timeout", f"the printer did not {what} in time")
        if ready[0][1] & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
            raise PrinterError("offline", "the printer device went away")

    def _write(self, data: bytes, deadline: float, what: str) -> None:
        view = memoryview(data)
        try:
            while view:
                self._wait(select.POLLOUT, deadline, what)
                try:
                    view = view[os.write(self._fd, view) :]
                except BlockingIOError:
                    continue
            # usblp accepts a non-blocking write at once and drops it if the device is
            # closed before the transfer ends: wait until the device can take more.
            self._wait(select.POLLOUT, deadline, what)
        except OSError as exc:
            raise PrinterError(classify(exc), f"{what} failed: {exc}") from None

    def status(self, deadline: float) -> PrinterStatus:
        if not self._readable:
            return PrinterStatus.not_reported()
        self._write(STATUS_QUERY, deadline, "take the status query")
        answer = b""
        while len(answer) < STATUS_ANSWER_LENGTH:
            self._wait(select.POLLIN, deadline, "answer the status query")
            try:
                answer += os.read(self._fd, STATUS_ANSWER_LENGTH - len(answer))
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EINVAL:  # usblp: a unidirectional printer
                    return PrinterStatus.not_reported()
                raise PrinterError(classify(exc), f"status query failed: {exc}") from None
        return parse_status(answer)

    def send(self, job: bytes, ticket: TicketPrint | None, deadline: float) -> None:
        self._write(job, deadline, "take the ticket")

    def close(self) -> None:
        os.close(self._fd)


# --- simulated --------------------------------------------------------------------------


class SimulatedPrinter(Printer):
    """Writes each ticket to `folder`: the raw ESC/POS bytes (.escpos), the HTML preview
    (.html) and a picture of the paper ticket (.png). `mode` can be changed at run time
    (demo, facility dashboard tests): ok, paper_near_end, paper_out, cover_open, offline."""

    kind = "simulated"
    parallel_connections = True
    status_max_age = 0.0  # answered from memory, and the demo switches modes at run time

    def __init__(self, settings: PrinterSettings):
        super().__init__(settings)
        self.folder = Path(settings.folder)
        self._mode = settings.mode
        self._lock = threading.Lock()
        try:  # the picture shows the paper: the same pictures of text, or none (see TicketPrinter)
            self._raster: RasterText | None = RasterText.open(settings.raster_font, settings.dot_width)
        except RasterUnavailable:
            self._raster = None

    def describe(self) -> str:
        return f"simulated {self.folder}"

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in SIMULATED_MODES:
            raise ValueError(f"mode must be one of {', '.join(SIMULATED_MODES)}")
        self._mode = mode

    def connect(self, deadline: float) -> PrinterConnection:
        if self._mode == "offline":
            raise PrinterError("offline", "the simulated printer is offline")
        return _SimulatedConnection(self, self._mode)

    def write_ticket(self, job: bytes, ticket: TicketPrint | None) -> Path:
        from hardware.printer.preview import render_html, render_png  # Pillow only when used

        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            number = re.sub(r"[^A-Za-z0-9-]", "_", ticket.number) if ticket else "job"
            stem = self.folder / f"{datetime.now():%Y%m%d-%H%M%S-%f}-{number}"
            stem.with_suffix(".escpos").write_bytes(job)
            if ticket is not None:
                stem.with_suffix(".html").write_text(render_html(ticket), encoding="utf-8")
                stem.with_suffix(".png").write_bytes(
                    render_png(
                        ticket,
                        paper_width_mm=self.settings.paper_width_mm,
                        code_page=self.settings.code_page,
                        raster=self._raster,
                    )
                )
            return stem


class _SimulatedConnection(PrinterConnection):
    # mode → (online, paper, cover_open)
    _STATUS: dict[str, tuple[bool, str, bool]] = {
        "ok": (True, "ok", False),
        "paper_near_end": (True, "near_end", False),
        "paper_out": (False, "out", False),
        "cover_open": (False, "ok", True),
    }

    def __init__(self, printer: SimulatedPrinter, mode: str):
        self._printer = printer
        self._mode = mode

    def status(self, deadline: float) -> PrinterStatus:
        online, paper, cover_open = self._STATUS[self._mode]
        return PrinterStatus(online=online, paper=paper, cover_open=cover_open, error=None)

    def send(self, job: bytes, ticket: TicketPrint | None, deadline: float) -> None:
        try:
            self._printer.write_ticket(job, ticket)
        except OSError as exc:
            raise PrinterError("error", f"cannot write to {self._printer.folder}: {exc}") from None

    def close(self) -> None:
        pass


# --- factory ----------------------------------------------------------------------------


# Python modules each kind needs beyond the standard library: (module, package, install).
_DRIVER_MODULES = {
    "usb": [
        ("escpos", "python-escpos", "pip install 'python-escpos[usb]'"),
        (
            "usb",
            "pyusb",
            "pip install 'python-escpos[usb]' and apt-get install libusb-1.0-0 (see deploy/udev for permissions)",
        ),
    ],
    "serial": [
        ("escpos", "python-escpos", "pip install 'python-escpos[serial]'"),
        ("serial", "pyserial", "pip install 'python-escpos[serial]'"),
    ],
}


def check_settings(settings: Mapping[str, Any] | PrinterSettings | None) -> PrinterSettings:
    """The settings, checked as far as possible before the first ticket: every key, and
    the packages the driver imports when it prints. Raises PrinterConfigError."""
    settings = parse_settings(settings)
    for module, package, install in _DRIVER_MODULES.get(settings.kind, ()):
        if not module_available(module):
            raise PrinterConfigError(
                f"[printer] kind {settings.kind!r} needs the package {package}, which is not installed: {install}"
            )
    return settings


def make_printer(settings: Mapping[str, Any] | PrinterSettings | None) -> Printer:
    """A printer from the site profile's [printer] table; raises PrinterConfigError when the
    settings cannot work (unknown kind, missing key, missing pyusb/pyserial)."""
    settings = check_settings(settings)
    if settings.kind == "network":
        return NetworkPrinter(settings)
    if settings.kind == "usb":
        return EscposDevicePrinter(settings, _usb_device, _usb_read, "usb")
    if settings.kind == "serial":
        return EscposDevicePrinter(settings, _serial_device, _serial_read, "serial")
    if settings.kind == "file":
        return FilePrinter(settings)
    return SimulatedPrinter(settings)


__all__ = [
    "EscposDevicePrinter",
    "FilePrinter",
    "NetworkPrinter",
    "Printer",
    "PrinterConnection",
    "PrinterError",
    "SimulatedPrinter",
    "check_settings",
    "make_printer",
]
