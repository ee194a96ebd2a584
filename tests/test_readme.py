"""The commands README.md shows work as written, after the set-up step it puts before them.

A command is a line of a ```sh (or sh-like) fenced block, or of an indented code block; a
```csv block is data a command reads; an unlabelled fenced block is text (the layout). Every
command shown must be matched by CHECKS (run here, as written) or SKIPPED (with the reason),
so a new command in the README fails this module until it is checked.

The commands run from a fresh shell: without the virtual environment on PATH, with no
KIOSK_* settings but a temporary KIOSK_DATA_DIR, so nothing touches instance/. Commands of
the checkout (`./run ...`, `sed ... kiosk/profiles/...`) run in the checkout; the `.venv/bin/kiosk`
commands run in a scratch folder with `.venv` and `kiosk/` linked in, so the files they read
or write (`cards.csv`) stay out of the working tree. The README's commands use ports 8080
(the office's listener) and 8081 (the kiosk's); when something else listens there, the same
command is run on other ports (`--port` and `--kiosk-port`, or `--url` for `kiosk card`), and
only that is changed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.system import wait_until

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SHELL_LANGUAGES = {"sh", "shell", "bash", "console"}
START_S = 180  # `./run demo` installs first (pip, and apt-get as root); within the suite's 300 s per test
COMMAND_S = 120
STOP_S = 20

# command (its words, comments left out) -> the tests that run it as written
CHECKS = {
    r"\./run demo": ["test_run_demo_serves_every_screen_of_the_readme"],
    r"\.venv/bin/kiosk card (insert \S+|remove)": ["test_the_card_commands_work_against_the_demo"],
    r"\.venv/bin/kiosk pickups import cards\.csv": [
        "test_the_pickup_register_sample_imports_into_the_demo",
        "test_running_an_office_in_the_readme_order",
    ],
    r"sed .* kiosk/profiles/demo\.toml > /tmp/paper-out\.toml": ["test_the_demo_honours_kiosk_site"],
    r"KIOSK_SITE=/tmp/paper-out\.toml \./run demo": ["test_the_demo_honours_kiosk_site"],
    r"\.venv/bin/kiosk (init-db|token create .*|token revoke .*|serve .*|user create .*|queue close-day)": [
        "test_running_an_office_in_the_readme_order"
    ],
}
SKIPPED = {
    r"\./run test": "it is what runs this suite; running it again from inside would recurse",
}


# --- what the README shows ----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    section: str
    language: str  # "" for an indented block or an unlabelled fence
    fenced: bool
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Command:
    section: str
    text: str  # as written: what bash runs

    @property
    def words(self) -> str:
        """The command without its comment, words separated by one space."""
        return " ".join(shlex.split(self.text, comments=True))


def blocks(markdown: str) -> list[Block]:
    found, section = [], ""
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("#!"):
            section = line.lstrip("#").strip()
        if line.startswith("```"):
            language, body = line[3:].strip(), []
            i += 1
            while not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            found.append(Block(section, language, True, tuple(body)))
        elif line.startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            body = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                body.append(lines[i][4:])
                i += 1
            found.append(Block(section, "", False, tuple(b for b in body if b.strip())))
            continue
        i += 1
    return found


def commands(markdown: str) -> list[Command]:
    shown = []
    for block in blocks(markdown):
        if block.fenced and block.language not in SHELL_LANGUAGES:
            continue
        pending = ""
        for line in block.lines:
            if not pending and line.strip().startswith("#"):
                continue  # a comment continued on its own line
            if line.endswith("\\"):
                pending += line[:-1]
                continue
            shown.append(Command(block.section, (pending + line).strip()))
            pending = ""
    return shown


README_TEXT = README.read_text(encoding="utf-8")
SHOWN = commands(README_TEXT)


def shown(pattern: str, section: str | None = None) -> list[Command]:
    found = [c for c in SHOWN if re.fullmatch(pattern, c.words) and section in (None, c.section)]
    assert found, f"README.md shows no command matching {pattern!r}" + (f" in {section!r}" if section else "")
    return found


def only(pattern: str, section: str | None = None) -> Command:
    found = shown(pattern, section)
    assert len(found) == 1, found
    return found[0]


def csv_sample() -> str:
    (block,) = [b for b in blocks(README_TEXT) if b.language == "csv"]
    return "\n".join(block.lines) + "\n"


def screens_table() -> dict[str, str]:
    """README's Screens table: screen -> path."""
    section = README_TEXT.split("## Screens", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| `([^`]+)` \|", section, re.MULTILINE)
    assert rows, "no Screens table in README.md"
    return dict(rows)


def test_every_command_shown_is_run_here_or_skipped_with_a_reason():
    assert SHOWN, "README.md shows no commands"
    for command in SHOWN:
        checks = [p for p in CHECKS if re.fullmatch(p, command.words)]
        skips = [p for p in SKIPPED if re.fullmatch(p, command.words)]
        assert len(checks) + len(skips) == 1, (
            f"README.md ({command.section}) shows {command.text!r}: add it to CHECKS or SKIPPED"
        )
    assert len({c.words for c in SHOWN if "./run demo" in c.words}) == 2
    for names in CHECKS.values():
        for name in names:
            assert callable(globals().get(name)), f"CHECKS names {name}, which is not a test here"


def test_extraction_reads_both_kinds_of_code_block():
    text = (
        "# A\n\n    kiosk one   # note\n    kiosk two \\\n      --flag\n\n```sh\nkiosk three\n```\n\n"
        "```csv\na,b\n```\n\n```\nkiosk/   not a command\n```\n"
    )
    assert [c.words for c in commands(text)] == ["kiosk one", "kiosk two --flag", "kiosk three"]


# --- running them -------------------------------------------------------------------------


def fresh_shell_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a new shell in the checkout: no venv on PATH, no KIOSK_* settings."""
    venv_bin = (ROOT / ".venv" / "bin").resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_") and k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != venv_bin
    )
    env["KIOSK_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def scratch_checkout(tmp: Path) -> Path:
    """A folder to run `.venv/bin/kiosk ...` in: the venv and kiosk/ linked, the rest empty."""
    tmp.mkdir(parents=True, exist_ok=True)
    for name in (".venv", "kiosk"):
        (tmp / name).symlink_to(ROOT / name)
    return tmp


def _stop_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_S)
        except ProcessLookupError:
            pass
    # anything the command left running in its group (never a daemon of this test's)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def sh(text: str, cwd: Path, env: dict, stdin: str = "", timeout: float = COMMAND_S):
    """Run one command line as written, in bash, with no terminal; bounded by `timeout`."""
    process = subprocess.Popen(
        ["bash", "-c", text],
        cwd=cwd,
        env=env,
        text=True,
        start_new_session=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(process)
        out, err = process.communicate(timeout=STOP_S)
        pytest.fail(f"{text!r} did not finish within {timeout} s:\n{out}\n{err}")
    _stop_group(process)
    return subprocess.CompletedProcess(text, process.returncode, out, err)


class Started:
    """A long-running command (a server), its output in a file, stopped with a deadline."""

    def __init__(self, text: str, cwd: Path, env: dict, log: Path):
        self.text, self.log_path = text, log
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                ["bash", "-c", text],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_answering(self, url: str, timeout: float = START_S) -> None:
        def answers():
            if self.process.poll() is not None:
                pytest.fail(f"{self.text!r} stopped (exit {self.process.returncode}):\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status == 200
            except urllib.error.HTTPError as exc:
                return exc.code == 503  # it answers: out of service (the kiosk's health says why)
            except OSError:
                return False

        try:
            wait_until(answers, timeout=timeout, interval=0.1, what=f"{url} to answer")
        except AssertionError:
            pytest.fail(f"{self.text!r} did not answer at {url} within {timeout} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        _stop_group(self.process)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Ports:
    office: int = 8080
    kiosk: int = 8081

    @property
    def as_written(self) -> bool:
        return self == Ports()

    @property
    def office_url(self) -> str:
        return f"http://127.0.0.1:{self.office}"

    @property
    def kiosk_url(self) -> str:
        return f"http://127.0.0.1:{self.kiosk}"


def choose_ports() -> Ports:
    return Ports() if port_is_free(8080) and port_is_free(8081) else Ports(free_port(), free_port())


def on_port(command: Command, ports: Ports) -> str:
    """The command as written, or, when 8080 or 8081 is taken here, the same on `ports`."""
    if ports.as_written:
        return command.text
    code = command.text.split(" #", 1)[0].rstrip()
    if command.words.endswith("./run demo"):
        return f"{code} --port {ports.office} --kiosk-port {ports.kiosk}"
    if command.words.startswith(".venv/bin/kiosk card "):
        return f"{code} --url {ports.kiosk_url}"
    if " serve " in f" {command.words} ":
        assert "--port 8080" in code, code
        return code.replace("--port 8080", f"--port {ports.office} --kiosk-port {ports.kiosk}")
    return command.text


def get(url: str, headers: dict | None = None, data: bytes | None = None):
    request = urllib.request.Request(url, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class Links(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


# --- the demo, as set up by `./run demo` --------------------------------------------------


@dataclass
class Demo:
    url: str
    ports: Ports
    data_dir: Path
    scratch: Path
    env: dict
    server: Started


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`./run demo` as written in the set-up section, with its own data folder."""
    tmp = tmp_path_factory.mktemp("readme-demo")
    data_dir, ports = tmp / "data", choose_ports()
    env = fresh_shell_env(data_dir)
    command = only(r"\./run demo", "Set up on a fresh machine")
    server = Started(on_port(command, ports), ROOT, env, tmp / "demo.log")
    try:
        server.wait_answering(f"{ports.office_url}/")
        yield Demo(ports.office_url, ports, data_dir, scratch_checkout(tmp / "shell"), env, server)
    finally:
        server.stop()


def test_run_demo_serves_every_screen_of_the_readme(demo):
    log = demo.server.log()
    assert "Site profile: " in log and "kiosk/profiles/demo.toml (the demo profile" in log, log
    assert "Demo tickets waiting: A001, B001, A002, C001, D001, A003" in log
    status, html = get(demo.url + "/")
    assert status == 200
    hrefs = Links(html).hrefs
    for screen, path in screens_table().items():
        if path == "/":
            continue
        link = path.split("<", 1)[0]  # /t/<code>: the status page's own start
        if link.startswith("/kiosk/"):  # the kiosk's screens: on the kiosk's own listener
            assert get(demo.url + link)[0] == 404, f"{screen}: {link} answers on the office's listener"
            link = demo.ports.kiosk_url + link
        assert link in hrefs, f"the landing page does not link {screen} ({path}): {hrefs}"
        url = link if link.startswith("http") else demo.url + link
        assert get(url)[0] == 200, f"{screen}: {link} does not answer"
    # The board speaks with espeak-ng: `./run demo` installs it as root; else the demo says why not.
    if os.geteuid() == 0 and shutil.which("apt-get"):
        assert shutil.which("espeak-ng"), log
    elif not shutil.which("espeak-ng"):
        assert "espeak-ng is not installed: the board chimes but does not speak" in log


def test_the_card_commands_work_against_the_demo(demo):
    insert = only(r"\.venv/bin/kiosk card insert \S+")
    remove = only(r"\.venv/bin/kiosk card remove")

    def in_reader() -> str:
        html = get(demo.ports.kiosk_url + "/kiosk/dev/cards")[1]
        return re.search(r"In the reader: <strong>([^<]*)</strong>", html).group(1)

    result = sh(on_port(insert, demo.ports), demo.scratch, demo.env)
    assert result.returncode == 0 and result.stdout.strip() == "Inserted adult-f-plus.", result
    assert in_reader() == "adult-f-plus"
    wait_until(
        lambda: json.loads(get(demo.ports.kiosk_url + "/kiosk/card")[1])["state"] == "ready",
        timeout=10,
        interval=0.05,
        what="the inserted card to be read",
    )
    # the other cards the comment names are cards of the simulated reader too
    others = re.findall(r"[a-z0-9][a-z0-9-]+", insert.text.split("also:", 1)[1])
    assert len(others) >= 5, insert.text
    for card in others:
        other = Command(insert.section, insert.text.split(" #", 1)[0].replace("adult-f-plus", card))
        result = sh(on_port(other, demo.ports), demo.scratch, demo.env)
        assert result.returncode == 0, (card, result.stderr)
        assert in_reader() == card
    result = sh(on_port(remove, demo.ports), demo.scratch, demo.env)
    assert result.returncode == 0 and result.stdout.strip() == "Card removed.", result
    assert in_reader() == "no card"
    wrong = Command(insert.section, ".venv/bin/kiosk card insert no-such-card")
    result = sh(on_port(wrong, demo.ports), demo.scratch, demo.env)
    assert result.returncode != 0 and "no simulated card 'no-such-card'" in result.stderr


def test_the_pickup_register_sample_imports_into_the_demo(demo):
    from kiosk.pickups import ready_for
    from kiosk.storage import make_engine

    (demo.scratch / "cards.csv").write_text(csv_sample(), encoding="utf-8")
    command = only(r"\.venv/bin/kiosk pickups import cards\.csv", "The pickup register")
    result = sh(command.text, demo.scratch, demo.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 cards in the pickup register imported."
    engine = make_engine(f"sqlite:///{demo.data_dir / 'kiosk.sqlite3'}")
    try:
        card = ready_for(engine, "85073003328")
    finally:
        engine.dispose()
    assert (card.card_number, card.storage) == ("B123456789", "Kast A, lade 2")


# --- the demo with another site profile ---------------------------------------------------


def test_the_demo_honours_kiosk_site(tmp_path):
    """The README's printer fault: the kiosk goes out of service for the printer."""
    make = only(r"sed .* kiosk/profiles/demo\.toml > /tmp/paper-out\.toml")
    start = only(r"KIOSK_SITE=/tmp/paper-out\.toml \./run demo")
    profile = Path("/tmp/paper-out.toml")
    env = fresh_shell_env(tmp_path / "data")
    ports = choose_ports()
    try:
        result = sh(make.text, ROOT, env)
        assert result.returncode == 0, result.stderr
        server = Started(on_port(start, ports), ROOT, env, tmp_path / "demo.log")
        try:
            server.wait_answering(f"{ports.office_url}/kiosk/health")
            health = json.loads(get(f"{ports.office_url}/kiosk/health")[1])
            log = server.log()
        finally:
            server.stop()
    finally:
        profile.unlink(missing_ok=True)
    assert "Site profile: /tmp/paper-out.toml (from KIOSK_SITE)" in log, log
    assert "ticket printer: simulated, mode paper_out" in log
    assert "Demo tickets waiting: A001" in log  # the demo's data still loaded
    assert health["in_service"] is False and health["reasons"] == ["printer"], health
    assert health["printer"]["paper"] == "out"


# --- running an office ------------------------------------------------------------------


def test_running_an_office_in_the_readme_order(tmp_path):
    from kiosk.accounts.users import authenticate
    from kiosk.pickups import ready_for
    from kiosk.storage import make_engine

    section = "Running an office"
    office = shown(r"\.venv/bin/kiosk .*", section)
    assert [c.words.split()[1] for c in office] == ["init-db", "token", "token", "serve", "user", "pickups", "queue"]
    data_dir = tmp_path / "data"
    env = fresh_shell_env(data_dir)
    scratch = scratch_checkout(tmp_path / "shell")
    (scratch / "cards.csv").write_text(csv_sample(), encoding="utf-8")
    password = "a-long-enough-password"
    token = None
    for command in office:
        verb = command.words.split()[1:3]
        if verb[0] == "serve":
            ports = choose_ports()
            server = Started(on_port(command, ports), scratch, env, tmp_path / "serve.log")
            try:
                url = ports.office_url
                server.wait_answering(url + "/kiosk/health", timeout=60)
                assert get(url + "/")[0] == 200
                # the token just revoked is refused; without one, only this PC's kiosk may issue
                json_body = {"Content-Type": "application/json"}
                refused = get(
                    url + "/api/tickets", {"Authorization": f"Bearer {token}", **json_body}, b'{"service": "pickup"}'
                )
                assert refused[0] == 401, refused
                assert get(url + "/api/tickets", json_body, b'{"service": "pickup"}')[0] == 403
                issued = get(ports.kiosk_url + "/api/tickets", json_body, b'{"service": "pickup"}')
                assert issued[0] in (200, 201), issued
            finally:
                server.stop()
            continue
        stdin = f"{password}\n{password}\n" if verb[0] == "user" else ""
        result = sh(command.text, scratch, env, stdin=stdin)
        assert result.returncode == 0, (command.text, result.stdout, result.stderr)
        out = result.stdout.strip()
        if verb[0] == "init-db":
            assert out == "Database is up to date."
        elif verb == ["token", "create"]:
            token = out
            assert re.fullmatch(r"\S{40,}", token), out
        elif verb == ["token", "revoke"]:
            assert out == "Revoked 1 token(s) named 'hall left'."
        elif verb[0] == "user":
            assert out.endswith("Created clerk an."), out
        elif verb[0] == "pickups":
            assert out == "1 cards in the pickup register imported."
        elif verb[0] == "queue":
            assert out.startswith("1 tickets expired") or out.startswith("0 tickets expired"), out
    engine = make_engine(f"sqlite:///{data_dir / 'kiosk.sqlite3'}")
    try:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert authenticate(engine, "an", password, now).role == "clerk"
        assert ready_for(engine, "85073003328").storage == "Kast A, lade 2"
    finally:
        engine.dispose()
