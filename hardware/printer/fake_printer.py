"""A fake ESC/POS network printer (port 9100) for development and tests.

It answers real-time status queries (DLE EOT 1-4) according to its mode and records jobs.
A job is every other byte received on one connection, recorded when the client closes that
connection (connections that carry only status queries record no job).

Modes:
  ok              online, paper ok
  paper_near_end  online, roll paper near end
  paper_out       offline, stopped at paper end
  cover_open      offline, cover open
  offline         accepts each connection and closes it at once
  silent          accepts, reads and records, never answers
A refused connection is what a stopped FakeNetworkPrinter gives.

In tests:  with FakeNetworkPrinter() as fake: ... fake.port ... fake.wait_for_job(2.0)
Developers: python -m hardware.printer.fake_printer --port 9100
            (then type a mode name and Enter to switch modes)
"""

from __future__ import annotations

import argparse
import selectors
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("ok", "paper_near_end", "paper_out", "cover_open", "offline", "silent")

# Answer bytes to DLE EOT n for n = 1 (printer), 2 (offline cause), 3 (error cause), 4 (paper).
_ANSWERS = {
    "ok": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_near_end": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},
}
_DLE, _EOT = 0x10, 0x04
STOP_TIMEOUT = 5.0  # stop() wakes the server thread's select(); only a slow on_job delays it


@dataclass(frozen=True)
class FakeJob:
    data: bytes
    received_at: float  # time.perf_counter() when its last byte arrived
    status_queries: int  # DLE EOT queries on the same connection


@dataclass
class _Client:
    sock: socket.socket
    pending: bytearray = field(default_factory=bytearray)
    job: bytearray = field(default_factory=bytearray)
    queries: int = 0
    last_byte_at: float = 0.0


class FakeNetworkPrinter:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: str = "ok",
        on_job: Callable[[FakeJob], None] | None = None,
    ):
        self.host = host
        self.port = port
        self._check_mode(mode)
        self._mode = mode
        self._on_job = on_job
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._jobs: list[FakeJob] = []
        self._taken = 0
        self._connections = 0
        self._active = 0
        self._queries = 0
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- state ------------------------------------------------------------------------

    @staticmethod
    def _check_mode(mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        self._check_mode(mode)
        self._mode = mode

    @property
    def jobs(self) -> list[FakeJob]:
        with self._lock:
            return list(self._jobs)

    @property
    def connections(self) -> int:
        """Connections accepted so far (also in modes offline and silent)."""
        with self._lock:
            return self._connections

    @property
    def active_connections(self) -> int:
        """Connections open right now (a job is recorded when its connection closes)."""
        with self._lock:
            return self._active

    @property
    def status_queries(self) -> int:
        """Status queries received so far, on any connection (answered or not)."""
        with self._lock:
            return self._queries

    @property
    def running(self) -> bool:
        return self._thread is not None

    def settings(self, **overrides) -> dict:
        """[printer] settings that point at this fake printer."""
        return {"kind": "network", "host": self.host, "port": self.port, **overrides}

    def wait_for_job(self, timeout: float = 5.0) -> FakeJob:
        """The next job not returned before, waiting up to `timeout` seconds for it."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._jobs) > self._taken, timeout):
                raise TimeoutError(f"no print job within {timeout} s")
            job = self._jobs[self._taken]
            self._taken += 1
            return job

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._connections >= count, timeout):
                raise TimeoutError(f"fewer than {count} connections within {timeout} s")

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> FakeNetworkPrinter:
        if self._thread is not None:
            raise RuntimeError("already running")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(16)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        wake_reader, self._wake = socket.socketpair()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._serve, args=(listener, wake_reader), name="fake-printer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every connection; later connections are refused."""
        if self._thread is None:
            return
        self._stopping = True
        try:
            self._wake.send(b"x")
        except OSError:
            pass  # the server thread already ended
        thread, self._thread = self._thread, None
        thread.join(STOP_TIMEOUT)
        self._wake.close()
        if thread.is_alive():
            raise RuntimeError(f"the fake printer's thread did not stop within {STOP_TIMEOUT} s")

    def __enter__(self) -> FakeNetworkPrinter:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- server thread ----------------------------------------------------------------

    def _serve(self, listener: socket.socket, wake_reader: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, "listen")
        selector.register(wake_reader, selectors.EVENT_READ, "wake")
        clients: dict[socket.socket, _Client] = {}
        try:
            while not self._stopping:
                for key, _ in selector.select():
                    if key.data == "wake":
                        wake_reader.recv(64)
                    elif key.data == "listen":
                        self._accept(listener, selector, clients)
                    else:
                        self._receive(key.data, selector, clients)
        finally:
            for client in list(clients.values()):
                self._finish(client, selector, clients)
            selector.close()
            listener.close()
            wake_reader.close()

    def _accept(self, listener, selector, clients) -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        with self._changed:
            self._connections += 1
            self._changed.notify_all()
        if self._mode == "offline":
            sock.close()
            return
        with self._changed:
            self._active += 1
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = _Client(sock)
        clients[sock] = client
        selector.register(sock, selectors.EVENT_READ, client)

    def _receive(self, client: _Client, selector, clients) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._finish(client, selector, clients)
            return
        now = time.perf_counter()
        answers = bytearray()
        buffer = client.pending + data
        i = 0
        while i < len(buffer):
            if buffer[i] == _DLE:
                if len(buffer) - i < 3:
                    break  # a query may be split across reads: wait for the rest
                if buffer[i + 1] == _EOT and buffer[i + 2] in (1, 2, 3, 4):
                    client.queries += 1
                    with self._changed:
                        self._queries += 1
                    answer = _ANSWERS.get(self._mode)
                    if answer is not None:
                        answers.append(answer[buffer[i + 2]])
                    i += 3
                    continue
            client.job.append(buffer[i])
            client.last_byte_at = now
            i += 1
        client.pending = bytearray(buffer[i:])
        if answers:
            try:
                client.sock.sendall(answers)
            except OSError:
                pass

    def _finish(self, client: _Client, selector, clients) -> None:
        selector.unregister(client.sock)
        clients.pop(client.sock, None)
        client.sock.close()
        if client.pending:
            client.job += client.pending
            client.last_byte_at = time.perf_counter()
        job = None
        with self._changed:
            self._active -= 1
            if client.job:
                job = FakeJob(bytes(client.job), client.last_byte_at, client.queries)
                self._jobs.append(job)
            self._changed.notify_all()
        if job is not None and self._on_job is not None:
            self._on_job(job)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake ESC/POS network printer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--save", type=Path, help="folder to write each job's bytes to")
    args = parser.parse_args(argv)

    def on_job(job: FakeJob) -> None:
        line = f"job: {len(job.data)} bytes"
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            name = f"job-{time.strftime('%Y%m%d-%H%M%S')}-{time.perf_counter_ns()}.escpos"
            path = args.save / name
            path.write_bytes(job.data)
            line += f" -> {path}"
        print(line, flush=True)

    # SIGTERM (and SIGINT, also when started in the background) stops it cleanly.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    fake = FakeNetworkPrinter(args.host, args.port, args.mode, on_job=on_job)
    fake.start()
    print(
        f"fake printer on {fake.host}:{fake.port}, mode {fake.mode}; "
        f"type a mode and Enter to switch ({', '.join(MODES)}); Ctrl-C or SIGTERM stops",
        flush=True,
    )
    try:
        for line in sys.stdin:
            mode = line.strip()
            if mode in MODES:
                fake.mode = mode
                print(f"mode {mode}", flush=True)
            elif mode:
                print(f"unknown mode {mode!r}", flush=True)
        threading.Event().wait()  # stdin closed (e.g. started in the background): keep serving
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
