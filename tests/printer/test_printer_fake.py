"""The fake network printer itself, in-process and as a command."""

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_queries_split_across_packets_are_answered_and_stripped(fake_printer):
    with socket.create_connection(("127.0.0.1", fake_printer.port), timeout=2) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"\x10")
        sock.sendall(b"\x04")
        sock.sendall(b"\x04hello")
        assert read_exactly(sock, 1) == b"\x12"
        fake_printer.mode = "paper_out"
        sock.sendall(b"\x10\x04\x04 world\x10\x04\x01")
        assert read_exactly(sock, 2) == b"\x72\x1a"
    job = fake_printer.wait_for_job(2.0)
    assert job.data == b"hello world"
    assert job.status_queries == 3
    assert fake_printer.status_queries == 3


def test_jobs_are_per_connection_and_waited_for_in_order(fake_printer):
    for payload in (b"first", b"second"):
        with socket.create_connection(("127.0.0.1", fake_printer.port), timeout=2) as sock:
            sock.sendall(payload)
    assert fake_printer.wait_for_job(2.0).data == b"first"
    assert fake_printer.wait_for_job(2.0).data == b"second"
    with pytest.raises(TimeoutError):
        fake_printer.wait_for_job(0.05)


def test_invalid_mode_is_rejected(fake_printer):
    with pytest.raises(ValueError):
        fake_printer.mode = "jammed"


def test_stopped_fake_refuses(fake_printer):
    port = fake_printer.port
    fake_printer.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def _read_line(stream, deadline: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(stream, selectors.EVENT_READ)
    try:
        line = b""
        while not line.endswith(b"\n"):
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                raise AssertionError(f"no output line before the deadline (got {line!r})")
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                raise AssertionError(f"output closed (got {line!r})")
            line += chunk
        return line.decode()
    finally:
        selector.close()


def test_command_line_fake_printer():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with subprocess.Popen(
        [sys.executable, "-m", "hardware.printer.fake_printer", "--port", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    ) as proc:
        try:
            deadline = time.monotonic() + 20
            banner = _read_line(proc.stdout, deadline)
            port = int(banner.split(":")[1].split(",")[0])

            proc.stdin.write(b"cover_open\n")
            proc.stdin.flush()
            assert _read_line(proc.stdout, deadline).strip() == "mode cover_open"
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"\x10\x04\x02ticket")
                assert read_exactly(sock, 1) == b"\x16"
            assert _read_line(proc.stdout, deadline).strip() == "job: 6 bytes"
            proc.stdin.close()  # the fake keeps serving without a terminal
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()  # leaving the with block waits for the process without a timeout
                raise
        stderr = proc.stderr.read()
    assert proc.returncode == 0, stderr
