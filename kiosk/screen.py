"""The kiosk screen's supervisor: runs the kiosk's browser, and starts it again when it ends,
when the kiosk's page stops reporting in (a crashed renderer, a page stuck on an error), or
when facility staff ask for it (kiosk.fleet). The browser starts on a local page that waits
for the app, so a browser started before the app never stays on "this site can't be reached".

    kiosk-screen [--url http://127.0.0.1:8081] [--rotation 90] -- cage -- chromium --kiosk ... {start}

`{start}` in the browser's command is the waiting page. `--rotation` (or KIOSK_SCREEN_ROTATION)
turns cage's output clockwise by 0, 90, 180 or 270 degrees, for a screen mounted in portrait.
Runs as the screen's own user: it reads nothing of the app's, it only asks the kiosk's listener
(/kiosk/supervisor).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

EVERY_S = 2.0
SILENT_S = 30.0  # the page has not reported in for this long (beyond the app's 10 s): restart
ROTATIONS = (0, 90, 180, 270)

WAITING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Snelbalie</title>
<style>html,body{{margin:0;height:100%;background:#0b4f8a;color:#fff;font:2rem sans-serif;
display:grid;place-items:center}}</style></head>
<body><p>…</p><script>
// Until the kiosk's app answers, stay here; then go to its screen.
const kiosk = {kiosk};
const ask = () => fetch(kiosk + "/kiosk/health", {{ mode: "no-cors", cache: "no-store" }})
  .then(() => location.replace(kiosk + "/kiosk/"), () => setTimeout(ask, 1000));
ask();
</script></body></html>
"""


def rotated(command: list[str], rotation: int) -> list[str]:
    """The command with cage's output turned `rotation` degrees clockwise: cage (0.1.x) takes one
    -r per quarter turn. cage may come after a wrapper (dbus-run-session -- cage ...)."""
    if rotation not in ROTATIONS:
        raise ValueError(f"rotation must be one of {', '.join(map(str, ROTATIONS))}, not {rotation}")
    if rotation == 0:
        return command
    at = next((i for i, part in enumerate(command) if Path(part).name == "cage"), None)
    if at is None:
        raise ValueError("a rotation turns cage's output: the command has no cage")
    return [*command[: at + 1], *["-r"] * (rotation // 90), *command[at + 1 :]]


class Screen:
    def __init__(self, command: list[str], url: str, every_s: float = EVERY_S, silent_s: float = SILENT_S):
        self.url, self.every_s, self.silent_s = url.rstrip("/"), every_s, silent_s
        self._folder = Path(tempfile.mkdtemp(prefix="kiosk-screen-"))  # 0700: this user's own
        start = self._folder / "waiting.html"
        start.write_text(WAITING_PAGE.format(kiosk=json.dumps(self.url)), encoding="utf-8")
        self.command = [part.replace("{start}", start.as_uri()) for part in command]
        self._browser: subprocess.Popen | None = None
        self._halt = threading.Event()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self._halt.set())
        restarts_seen: int | None = None
        silent_since: float | None = None
        self._start()
        while not self._halt.wait(self.every_s):
            state = self._ask()
            assert self._browser is not None
            if self._browser.poll() is not None:
                self._say(f"browser ended (exit {self._browser.returncode}); starting it again")
                self._start()
                continue
            if state is None:
                continue  # the app is away: the page waits for it, or is restarted once it is back
            restarts = state["browser_restarts"]
            if restarts_seen is not None and restarts != restarts_seen:
                self._say("facility staff asked for a restart")
                self._restart()
            restarts_seen = restarts
            if state["screen_alive"] is False:
                silent_since = silent_since or time.monotonic()
                if time.monotonic() - silent_since > self.silent_s:
                    self._say("the kiosk's page stopped reporting in")
                    self._restart()
                    silent_since = None
            else:
                silent_since = None
        self._stop()

    def _ask(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.url + "/kiosk/supervisor", timeout=5) as response:
                return json.loads(response.read())
        except (OSError, ValueError):
            return None

    def _start(self) -> None:
        self._browser = subprocess.Popen(self.command, start_new_session=True)
        self._say(f"browser started (pid {self._browser.pid})")

    def _restart(self) -> None:
        self._stop()
        self._start()

    def _stop(self) -> None:
        browser = self._browser
        if browser is None or browser.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(browser.pid, sig)  # the browser's whole group: its renderers too
            except ProcessLookupError:
                return
            try:
                browser.wait(timeout=wait_s)
                return
            except subprocess.TimeoutExpired:
                continue

    @staticmethod
    def _say(line: str) -> None:
        print(f"kiosk-screen: {line}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kiosk-screen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8081", help="the kiosk's own listener")
    parser.add_argument("--every", type=float, default=EVERY_S, help="seconds between looks")
    parser.add_argument("--silent", type=float, default=SILENT_S, help="seconds of a silent page before a restart")
    parser.add_argument(
        "--rotation",
        type=int,
        default=os.environ.get("KIOSK_SCREEN_ROTATION", "0"),
        help="degrees clockwise to turn cage's output: 0, 90, 180, 270 (default: KIOSK_SCREEN_ROTATION or 0)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the browser's command, with {start}")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the browser's command after --")
    try:
        command = rotated(command, args.rotation)
    except ValueError as error:
        parser.error(f"--rotation (KIOSK_SCREEN_ROTATION): {error}")
    Screen(command, args.url, args.every, args.silent).run()


if __name__ == "__main__":
    main(sys.argv[1:])
