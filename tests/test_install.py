"""deploy/install.sh on a clean Debian 12: a root made by debootstrap, booted with systemd in a
systemd-nspawn container (so `systemctl` in install.sh really enables and starts the units),
installed from this checkout (bound read-only), upgraded twice, taken back a release with
--back and forward again: the app answers through its unit, the units pass `systemd-analyze
verify`, local drop-ins stay in effect, `current` always names a whole release, and a release
is removed only once `current` has left it. A last upgrade that cannot start with the PC's
site profile leaves the running release alone. On a second clean root, `--server` installs the
app alone: no screen, no kiosk listener, on the office port a drop-in names.

The root is cached as a tarball in /var/cache/snelbalie-tests/, keyed by suite, mirror and
packages, with apt's and pip's downloads beside it, so a second run downloads little.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.system import free_port, missing, processes, require_debian_packages, wait_until

pytestmark = [pytest.mark.install, pytest.mark.timeout(1800)]

CHECKOUT = Path(__file__).resolve().parent.parent
CACHE = Path("/var/cache/snelbalie-tests")
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# debootstrap's default variant (required and important packages: Debian's base system) boots
# with systemd; everything else is install.sh's to bring
INCLUDE = ("dbus",)
SOURCES = f"""deb {MIRROR} {SUITE} main
deb {MIRROR} {SUITE}-updates main
deb http://deb.debian.org/debian-security {SUITE}-security main
"""
SOURCE_IN_ROOT = "/usr/src/snelbalie"
UNITS = ("snelbalie.service", "snelbalie-screen.service")
PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@contextmanager
def this_machine_only() -> Iterator[None]:
    """One run at a time on this machine: runs share the cache, and apt its archives' lock."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "lock", "w") as lock:

        def taken() -> bool:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        wait_until(taken, timeout=900, interval=1, what="another run of this test on this machine to end")
        yield


def clean_root(root: Path) -> None:
    """A fresh Debian root at `root`, from the cached tarball (made on the first run)."""
    key = hashlib.sha256(json.dumps([SUITE, MIRROR, INCLUDE, SOURCES]).encode()).hexdigest()[:16]
    tarball = CACHE / f"debian-{SUITE}-{key}.tar"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        build = CACHE / f"build-{key}-{os.getpid()}"
        shutil.rmtree(build, ignore_errors=True)
        try:
            made = subprocess.run(
                ["debootstrap", f"--include={','.join(INCLUDE)}", SUITE, str(build), MIRROR],
                capture_output=True,
                text=True,
                timeout=1200,
            )
            if made.returncode != 0:
                missing(f"debootstrap could not make a {SUITE} root from {MIRROR}: {made.stdout[-500:]}")
            (build / "etc/apt/sources.list").write_text(SOURCES)  # as Debian's installer sets it up
            shutil.rmtree(build / "var/cache/apt/archives", ignore_errors=True)
            partial = tarball.with_suffix(f".{os.getpid()}.part")
            tar = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", str(build), "-cf", str(partial)]
            subprocess.run([*tar, "."], check=True, timeout=600)
            partial.replace(tarball)  # whole or not there, for a run that comes after
        finally:
            shutil.rmtree(build, ignore_errors=True)
    root.mkdir()
    untar = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", str(tarball), "-C", str(root)]
    subprocess.run(untar, check=True, timeout=600)
    # This machine's network may look into TLS with an authority of its own: the root trusts
    # what the machine trusts (install.sh's ca-certificates then takes these in too).
    local = Path("/usr/local/share/ca-certificates")
    if local.is_dir():
        shutil.copytree(local, root / local.relative_to("/"), dirs_exist_ok=True)


class Container:
    """The root booted with systemd as its init, sharing this machine's network (apt and pip
    reach their mirrors, and the test reaches the app). Without a system bus or machined here,
    nspawn registers nothing (--register=no) and stays in this process's cgroup (--keep-unit);
    commands run in it through nsenter."""

    def __init__(self, root: Path, console: Path):
        apt, pip = CACHE / "apt-archives", CACHE / "pip"
        apt.mkdir(parents=True, exist_ok=True)
        pip.mkdir(parents=True, exist_ok=True)
        self.name = f"snelbalie-test-{os.getpid()}"
        with open(console, "w") as out:
            self.process = subprocess.Popen(
                [
                    "systemd-nspawn",
                    "--boot",
                    "--quiet",
                    f"--directory={root}",
                    f"--machine={self.name}",
                    "--register=no",
                    "--keep-unit",
                    f"--bind-ro={CHECKOUT}:{SOURCE_IN_ROOT}",
                    f"--bind={apt}:/var/cache/apt/archives",
                    f"--bind={pip}:/root/.cache/pip",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.console = console
        try:
            self.leader = wait_until(self._init_pid, timeout=60, interval=0.05, what="the container's init")
            wait_until(self._booted, timeout=120, interval=0.2, what="the container's boot")
        except BaseException:
            self.stop()
            raise

    def _init_pid(self) -> int | None:
        if self.process.poll() is not None:
            raise AssertionError(f"systemd-nspawn ended: {self.console.read_text()[-2000:]}")
        return next(
            (pid for pid, name, parent in processes() if parent == self.process.pid and name == "systemd"), None
        )

    def _booted(self) -> bool:
        state = self.run("systemctl is-system-running", timeout=30).stdout.strip()
        return state in ("running", "degraded")

    def run(self, script: str, timeout: float) -> subprocess.CompletedProcess:
        """`script` by bash inside the container, as root, with a clean environment."""
        return subprocess.run(
            ["nsenter", f"--target={self.leader}", "--all", "--", "env", "-i", PATH, "HOME=/root", "LANG=C.UTF-8"]
            + ["bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def check(self, script: str, timeout: float = 60) -> str:
        done = self.run(script, timeout)
        assert done.returncode == 0, f"{script}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def stop(self) -> None:
        """Halt it as `machinectl poweroff` would: nspawn turns SIGTERM into a clean shutdown."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        # nspawn leaves this behind when /run is not a tmpfs
        shutil.rmtree(f"/run/systemd/nspawn/propagate/{self.name}", ignore_errors=True)


def get(url: str) -> tuple[int, bytes] | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:  # the health is 503 while the kiosk is out of service
        return error.code, error.read()
    except OSError:
        return None


class Watch:
    """Looks at /opt/snelbalie and at the app from this side, many times a second, while an
    install runs: what `current` names, which releases exist, whether the app answers."""

    def __init__(self, root: Path, office: str):
        self.root, self.office = root, office
        self.seen: list[tuple[float, str | None, frozenset[str], bool]] = []
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._look, daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._halt.set()
        self._thread.join(timeout=30)
        self._sample()  # as the install left it

    def _look(self) -> None:
        while not self._halt.wait(0.05):
            self._sample()

    def _sample(self) -> None:
        releases = self.root / "opt/snelbalie/releases"
        try:
            current: str | None = os.readlink(self.root / "opt/snelbalie/current")
        except OSError:
            current = None
        names = frozenset(p.name for p in releases.iterdir()) if releases.is_dir() else frozenset()
        answered = get(self.office + "/") is not None
        self.seen.append((time.monotonic(), current, names, answered))

    def longest_outage_s(self) -> float:
        longest, since = 0.0, None
        for at, _, _, answered in self.seen:
            if answered:
                since = None
            else:
                since = at if since is None else since
                longest = max(longest, at - since)
        return longest


def release_of(current: str) -> str:
    return Path(current).name


def prerequisites() -> None:
    if "FAKETIME" in os.environ:
        pytest.skip("the install is tested in the real-time run; nothing in it depends on the date")
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        missing("debootstrap and systemd-nspawn need root")
    require_debian_packages("debootstrap", "systemd-container")


def verify(box: Container, units: tuple[str, ...]) -> None:
    """`systemd-analyze verify` finds nothing to say about our units."""
    verified = box.run(f"cd /etc/systemd/system && systemd-analyze verify {' '.join(units)}", timeout=120)
    said = verified.stdout + verified.stderr
    assert verified.returncode == 0 and "snelbalie" not in said, said


def test_install_as_an_office_server_on_clean_debian(tmp_path):
    prerequisites()
    with this_machine_only():
        root = tmp_path / "root"
        clean_root(root)
        port = free_port()  # the container shares this machine's network, where 8080 may be taken
        drop_ins = root / "etc/systemd/system/snelbalie.service.d"
        drop_ins.mkdir(parents=True)
        (drop_ins / "10-port.conf").write_text(f"[Service]\nEnvironment=SNELBALIE_PORT={port}\n")
        box = Container(root, tmp_path / "console.log")
        try:
            box.check(f"{SOURCE_IN_ROOT}/deploy/install.sh --server", timeout=1200)
            verify(box, ("snelbalie.service",))

            def answers() -> bool:
                landing = get(f"http://127.0.0.1:{port}/")
                return landing is not None and landing[0] == 200

            journal = box.run("journalctl -u snelbalie --no-pager -n 60", timeout=60).stdout
            wait_until(answers, timeout=120, interval=0.2, what=f"the installed server to answer\n{journal}")
            pid = box.check("systemctl show -p MainPID --value snelbalie.service").strip()
            command = box.check(f"tr '\\0' ' ' < /proc/{pid}/cmdline")
            assert f"--port {port} --no-kiosk " in command and "--kiosk-port" not in command, command
            assert not (root / "etc/systemd/system/snelbalie-screen.service").exists()
            assert box.run("dpkg -s cage", timeout=60).returncode != 0  # nor Chromium, nor its user
            assert box.run("dpkg -s chromium", timeout=60).returncode != 0
            assert box.run("id kiosk", timeout=60).returncode != 0
        finally:
            box.stop()
            shutil.rmtree(root, ignore_errors=True)


def test_install_on_clean_debian_then_upgrades_keep_the_app_up_and_local_drop_ins(tmp_path):
    prerequisites()
    with this_machine_only():
        install_and_upgrade(tmp_path)


def install_and_upgrade(tmp_path: Path) -> None:
    root = tmp_path / "root"
    started = time.monotonic()
    clean_root(root)
    office_port, kiosk_port = free_port(), free_port()
    office, kiosk = f"http://127.0.0.1:{office_port}", f"http://127.0.0.1:{kiosk_port}"
    # A drop-in from before the first install (as a provisioned PC may have): the container
    # shares this machine's network, where 8080 may be taken.
    drop_ins = root / "etc/systemd/system/snelbalie.service.d"
    drop_ins.mkdir(parents=True)
    (drop_ins / "10-ports.conf").write_text(
        "[Service]\nExecStart=\nExecStart=/opt/snelbalie/current/bin/kiosk serve --host 127.0.0.1 "
        f"--port {office_port} --kiosk-port {kiosk_port} --threads 8\n"
    )
    box = Container(root, tmp_path / "console.log")
    install = f"{SOURCE_IN_ROOT}/deploy/install.sh"

    def journal() -> str:
        return box.run("journalctl -u snelbalie --no-pager -n 60", timeout=60).stdout

    def app_answers(name: str | None = None) -> bool:
        health, landing = get(kiosk + "/kiosk/health"), get(office + "/")
        if health is None or landing is None or landing[0] != 200:
            return False
        return name is None or json.loads(health[1])["kiosk"] == name

    try:
        box.check(install, timeout=1200)
        print(f"clean root and first install: {time.monotonic() - started:.0f} s")
        verify(box, UNITS)
        wait_until(app_answers, timeout=120, interval=0.2, what=f"the installed app to answer\n{journal()}")
        first = release_of(os.readlink(root / "opt/snelbalie/current"))
        # what runs is this checkout, as it is now
        (installed,) = (root / "opt/snelbalie/releases" / first).glob("lib/python3*/site-packages/kiosk/screen.py")
        assert installed.read_bytes() == (CHECKOUT / "kiosk/screen.py").read_bytes()
        assert box.check("systemctl is-enabled snelbalie.service snelbalie-screen.service").split() == ["enabled"] * 2
        # the screen's output goes to the journal, not over its console
        shown = box.check("systemctl show -p StandardOutput -p StandardError -p SyslogIdentifier snelbalie-screen")
        assert set(shown.split()) == {
            "StandardOutput=journal",
            "StandardError=journal",
            "SyslogIdentifier=snelbalie-screen",
        }

        # a local change after the install, then an upgrade
        (drop_ins / "20-local.conf").write_text("[Service]\nEnvironment=KIOSK_NAME=hall-left\n")
        portrait = root / "etc/systemd/system/snelbalie-screen.service.d/portrait.conf"
        portrait.parent.mkdir()
        portrait.write_text("[Service]\nEnvironment=KIOSK_SCREEN_ROTATION=90\n")
        with Watch(root, office) as upgrade:
            box.check(install, timeout=1200)
        second = release_of(os.readlink(root / "opt/snelbalie/current"))
        assert second != first
        assert {p.name for p in (root / "opt/snelbalie/releases").iterdir()} == {first, second}
        assert sorted(p.name for p in drop_ins.iterdir()) == ["10-ports.conf", "20-local.conf"]
        shown = box.check("systemctl show -p Environment -p DropInPaths snelbalie.service")
        assert "KIOSK_NAME=hall-left" in shown and "20-local.conf" in shown and "10-ports.conf" in shown
        shown = box.check("systemctl show -p Environment snelbalie-screen.service")
        assert "KIOSK_SCREEN_ROTATION=90" in shown and "KIOSK_SCREEN_ROTATION=0" not in shown  # the unit's own 0
        wait_until(lambda: app_answers("hall-left"), timeout=120, interval=0.2, what=f"the upgraded app\n{journal()}")
        # the old release answered while the new one was built: down only for the restart
        building = [s for s in upgrade.seen if s[1] and release_of(s[1]) == first and len(s[2]) == 2]
        assert any(answered for *_, answered in building), "the app was down while the new release was built"
        assert upgrade.longest_outage_s() < 20, upgrade.longest_outage_s()
        print(f"upgrade: down for {upgrade.longest_outage_s():.1f} s")

        with Watch(root, office) as again:
            box.check(install, timeout=1200)
        third = release_of(os.readlink(root / "opt/snelbalie/current"))
        assert {p.name for p in (root / "opt/snelbalie/releases").iterdir()} == {second, third}
        for _, current, names, _ in [*upgrade.seen, *again.seen]:
            assert current is not None and release_of(current) in names  # never dangling, never absent
            if first not in names:
                assert release_of(current) == third  # removed only once `current` had left it
        assert any(first not in names for _, _, names, _ in again.seen)
        wait_until(lambda: app_answers("hall-left"), timeout=120, interval=0.2, what=f"the app\n{journal()}")

        # back to the release before, and forward again
        back = box.check(f"{install} --back")
        assert release_of(os.readlink(root / "opt/snelbalie/current")) == second, back
        wait_until(lambda: app_answers("hall-left"), timeout=120, interval=0.2, what=f"the app gone back\n{journal()}")
        assert {p.name for p in (root / "opt/snelbalie/releases").iterdir()} == {second, third}
        box.check(f"{install} --back")
        assert release_of(os.readlink(root / "opt/snelbalie/current")) == third
        wait_until(lambda: app_answers("hall-left"), timeout=120, interval=0.2, what=f"the app\n{journal()}")

        # a release that cannot start with this PC's profile does not replace the running one
        profile = root / "etc/snelbalie/site.toml"
        kept = profile.read_text()
        profile.write_text(kept + "\n[no_such_table]\nkey = 1\n")
        refused = box.run(install, timeout=1200)
        profile.write_text(kept)
        assert refused.returncode != 0 and "no_such_table" in refused.stderr, refused.stderr[-3000:]
        assert release_of(os.readlink(root / "opt/snelbalie/current")) == third
        assert {p.name for p in (root / "opt/snelbalie/releases").iterdir()} == {second, third}
        assert app_answers("hall-left")
        print(f"whole run: {time.monotonic() - started:.0f} s")
    finally:
        box.stop()
        shutil.rmtree(root, ignore_errors=True)
