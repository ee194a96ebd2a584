"""Taps and response time of the citizen's visits, in Chromium against `kiosk demo`.

    .venv/bin/python bench/flows.py [--rounds 5] [--screenshots docs/screens]

After one uncounted warm-up round, each round walks the four visits from the start screen to the ticket, by touch, with the
simulated reader. Prints, per visit, the taps from home to ticket and the time from each
tap until the next screen is ready (p50/p95 over all rounds), and the time from inserting
the card to the check screen. With --screenshots, also saves a picture of every screen
(portrait 1080x1920) into that folder.
"""

from __future__ import annotations

import sys

# bench/queue.py would hide the standard library's `queue` module from this folder.
sys.path[:] = [p for p in sys.path if p != __import__("os").path.dirname(__file__)]

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.live import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

NAVIGATION_MS = (
    "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"
)
VISITS = {  # visit -> fake card
    "pickup": "adult-f-plus",
    "activation": "minor-17",
    "pin_reset": "pin-blocked",
    "new_codes": "type-h",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Demo:
    def __init__(self, directory: str):
        self.port, kiosk_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{kiosk_port}"  # the kiosk's own listener: these are its screens
        env = dict(os.environ, KIOSK_DATA_DIR=directory)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "demo", "--port", str(self.port), "--kiosk-port", str(kiosk_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/kiosk/health", timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("kiosk demo did not start") from None
                time.sleep(0.05)

    def card(self, action: str, card: str | None = None) -> None:
        request = urllib.request.Request(
            f"{self.url}/kiosk/dev/cards/{action}",
            data=json.dumps({"card": card}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).close()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Walk:
    def __init__(self, page, shots: Path | None):
        self.page, self.shots = page, shots
        self.taps, self.times, self.system = 0, [], []

    def tap(self, locator, navigates: bool = True):
        """Tap and, for a tap that opens a screen, wait for its load event: the time a
        citizen waits for the screen (Playwright's own tap overhead included)."""
        locator.wait_for()
        start = time.perf_counter()
        if navigates:
            with self.page.expect_navigation(wait_until="load"):
                locator.tap()
        else:
            locator.tap()
        self.times.append(time.perf_counter() - start)
        if navigates:  # what the browser measured: request, redirects, server, parse, load
            self.system.append(self.page.evaluate(NAVIGATION_MS) / 1000)
        self.taps += 1

    def shot(self, name: str):
        if self.shots:
            self.page.screenshot(path=str(self.shots / f"{name}.png"))


def walk(demo: Demo, page, visit: str, card: str, shots: Path | None, language: str) -> tuple[Walk, float]:
    w = Walk(page, shots)
    page.goto(demo.url + "/kiosk/")
    w.shot("01-home")
    w.tap(page.locator(f".language-choices a[lang={language}]"))
    w.shot("02-visit")
    w.tap(page.locator(f".visit-{visit}"))
    w.shot("03-identify")
    start = time.perf_counter()
    with page.expect_navigation(url=re.compile("/check$"), wait_until="load"):
        demo.card("insert", card)
    card_to_check = time.perf_counter() - start
    w.shot(f"04-check-{visit}")
    for item in page.locator(".check-item").all():
        w.tap(item, navigates=False)
    w.tap(page.locator(".take-ticket"))
    w.shot("05-ticket")
    demo.card("remove")
    return w, card_to_check


def other_screens(demo: Demo, page, shots: Path):
    page.goto(demo.url + "/kiosk/lost?lang=en")
    page.screenshot(path=str(shots / "06-lost-card.png"))
    page.goto(demo.url + "/kiosk/identify/number?visit=pickup")
    for key in "85073099238":
        page.locator(f'.key[data-key="{key}"]').tap()
    page.get_by_role("button", name="Continue").tap()
    expect(page.locator("#number-error")).to_be_visible()
    page.screenshot(path=str(shots / "07-keypad-wrong-number.png"))
    page.goto(demo.url + "/kiosk/identify?visit=pickup")
    demo.card("insert", "type-m")
    expect(page).to_have_url(re.compile("/check$"))
    page.screenshot(path=str(shots / "08-pickup-not-ready.png"))
    demo.card("remove")
    expect(page).to_have_url(re.compile("/kiosk/$"))
    page.goto(demo.url + "/kiosk/visit?lang=ar")
    page.screenshot(path=str(shots / "09-visit-arabic.png"))
    page.clock.install()
    page.goto(demo.url + "/kiosk/identify?visit=activation")
    demo.card("insert", "adult-f-plus")
    expect(page).to_have_url(re.compile("/check$"))
    page.clock.fast_forward(50_000)
    expect(page.get_by_role("alertdialog")).to_be_visible()
    page.screenshot(path=str(shots / "10-idle-warning.png"))
    demo.card("remove")


def ms(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        demo = Demo(tmp)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True)
            page = context.new_page()
            print(f"bench/flows.py: {args.rounds} rounds of the four visits, Chromium, simulated reader")
            for visit, card in VISITS.items():  # warm up: first loads, caches, compiled templates
                walk(demo, page, visit, card, None, "en")
            all_times, all_system, card_times = [], [], []
            for visit, card in VISITS.items():
                taps, times, system = set(), [], []
                for n in range(args.rounds):
                    shots = args.screenshots if n == 0 and visit == "pickup" else None
                    w, card_to_check = walk(demo, page, visit, card, shots, "en")
                    if n == 0 and args.screenshots:
                        page.goto(demo.url + "/kiosk/")  # each visit's check screen
                    taps.add(w.taps)
                    times += w.times
                    system += w.system
                    card_times.append(card_to_check)
                all_times += times
                all_system += system
                print(
                    f"{visit:11s} taps home->ticket: {'/'.join(map(str, sorted(taps)))}; "
                    f"tap to next screen loaded p50 {ms(system, 50):.0f} ms, p95 {ms(system, 95):.0f} ms "
                    f"(with the test driver's own overhead p50 {ms(times, 50):.0f}, p95 {ms(times, 95):.0f})"
                )
            print(
                f"all visits   tap to next screen loaded p50 {ms(all_system, 50):.0f} ms, "
                f"p95 {ms(all_system, 95):.0f} ms ({len(all_system)} screen changes, {len(all_times)} taps); "
                f"card inserted -> check screen p50 {ms(card_times, 50):.0f} ms, p95 {ms(card_times, 95):.0f} ms"
            )
            if args.screenshots:
                for visit, card in VISITS.items():
                    page.goto(demo.url + f"/kiosk/identify?visit={visit}&lang=en")
                    demo.card("insert", card)
                    expect(page).to_have_url(re.compile("/check$"))
                    page.screenshot(path=str(args.screenshots / f"04-check-{visit}.png"))
                    demo.card("remove")
                    expect(page).to_have_url(re.compile("/kiosk/$"))  # the card left: back home
                other_screens(demo, context.new_page(), args.screenshots)
                print(f"screenshots in {args.screenshots}")
        finally:
            browser.close()
            demo.stop()


if __name__ == "__main__":
    main()
