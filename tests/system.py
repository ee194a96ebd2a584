"""System packages and services that some tests need.

Tests install what they need with apt-get when they run as root; elsewhere they skip with
the reason. Under CI (CI=true) a missing part fails the run instead: CI must run them.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

KIOSK = [sys.executable, "-m", "kiosk.cli"]  # this checkout's `kiosk` command
_installed: set[str] = set()
_updated = False


def missing(reason: str):
    """Skip on a developer machine, fail under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def _is_installed(package: str) -> bool:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, timeout=60)
    return result.returncode == 0 and "install ok installed" in result.stdout


def require_debian_packages(*packages: str) -> None:
    """Install the Debian packages (as root) or skip/fail with the reason."""
    global _updated
    wanted = [p for p in packages if p not in _installed]
    if not wanted:
        return
    if not shutil.which("dpkg-query"):
        missing(f"needs the Debian packages {', '.join(wanted)} (not a Debian system)")
    absent = [p for p in wanted if not _is_installed(p)]
    if absent:
        if os.geteuid() != 0:
            missing(f"needs the Debian packages {', '.join(absent)}: install them as root")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if not _updated:
            subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True, timeout=600)
            _updated = True
        result = subprocess.run(
            ["apt-get", "install", "-y", "-qq", *absent], env=env, capture_output=True, text=True, timeout=600
        )
        if result.returncode != 0:
            missing(f"apt-get could not install {', '.join(absent)}: {result.stderr.strip()[-300:]}")
    _installed.update(wanted)


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def processes():
    """(pid, name, parent's pid) of every process on this machine, as /proc tells them."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
            name, fields = rest.rsplit(") ", 1)
        except (OSError, ValueError):
            continue  # ended meanwhile
        yield int(pid), name, int(fields.split()[1])


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(process: subprocess.Popen, timeout_s: float = 20) -> None:
    """End a process started with start_new_session=True, with its whole group: SIGTERM, then
    SIGKILL once `timeout_s` has passed."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def kiosk_env(**settings: str) -> dict[str, str]:
    """This process's environment without any KIOSK_ setting of this machine's, and `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(settings)
    return env


def office_ready(env: dict[str, str], role: str, name: str) -> str:
    """`kiosk init-db` and a token of `role` named `name`, as an office does before `kiosk
    serve`; the token."""
    subprocess.run([*KIOSK, "init-db"], env=env, check=True, capture_output=True, timeout=120)
    return subprocess.run(
        [*KIOSK, "token", "create", "--role", role, "--name", name],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.strip()
