"""Taps and response time of the citizen's visits, in Chromium against `kiosk demo`.

    .venv/bin/python bench/flows.py [--rounds 5] [--screenshots docs/screens]

After one uncounted warm-up round, each round walks the four visits from the start screen to the
ticket, by touch, with the simulated reader, and then the same visits card first (the card put
in on the start screen, nothing ticked). Prints, per visit, the taps from home to ticket and the
time from each tap until the next screen is ready (p50/p95 over all rounds), the time from
inserting the card to the check screen, and the time per tap over everything. Then one visit by
the keypad alone with the audio guidance (espeak-ng): the keys pressed and the seconds of speech
heard from the start screen to the ticket read aloud, listening to each screen to its end. With
--screenshots, also saves a picture of every screen in every language (portrait 1080x1920) into
that folder, one folder per language.
"""

from __future__ import annotations

import sys

# bench/queue.py would hide the standard library's `queue` module from this folder.
sys.path[:] = [p for p in sys.path if p != __import__("os").path.dirname(__file__)]

import argparse
import json
import os
import re
import shutil
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
LANGUAGES = ["nl", "fr", "de", "en", "ar", "uk"]  # the demo office's (kiosk/profiles/demo.toml)
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


def walk(demo: Demo, page, visit: str, card: str) -> tuple[Walk, float]:
    w = Walk(page, None)
    page.goto(demo.url + "/kiosk/")
    w.tap(page.locator(".language-choices a[lang=en]"))
    w.tap(page.locator(f".visit-{visit}"))
    start = time.perf_counter()
    with page.expect_navigation(url=re.compile("/check$"), wait_until="load"):
        demo.card("insert", card)
    card_to_check = time.perf_counter() - start
    for item in page.locator(".check-item").all():
        w.tap(item, navigates=False)
    w.tap(page.locator(".take-ticket"))
    demo.card("remove")
    return w, card_to_check


def card_first(demo: Demo, page, visit: str, card: str) -> Walk:
    """The card put in before anything is touched: language, visit, ticket (nothing ticked)."""
    w = Walk(page, None)
    page.goto(demo.url + "/kiosk/")
    demo.card("insert", card)
    expect(page.locator('[data-card-notice="own"]')).to_be_visible()
    w.tap(page.locator(".language-choices a[lang=en]"))
    with page.expect_navigation(url=re.compile("/check$"), wait_until="load"):
        w.tap(page.locator(f".visit-{visit}"), navigates=False)
    w.system.append(page.evaluate(NAVIGATION_MS) / 1000)
    w.tap(page.locator(".take-ticket"))
    demo.card("remove")
    return w


# Every sound the guidance plays, with its length once known and whether it played to its end
# (static/kiosk_speech.js plays one Audio element, one sound after the other).
HEAR = """
window.bench = { sounds: [] };
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  const sound = { src: this.src, seconds: null, ended: false, at: performance.now() };
  window.bench.sounds.push(sound);
  const done = (ended) => () => { if (this.src === sound.src) { sound.ended = ended; sound.seconds = this.duration; sound.done = true; } };
  // capturing: before the page's own listener moves on to the next sound (and its src)
  this.addEventListener("ended", done(true), { once: true, capture: true });
  this.addEventListener("error", done(false), { once: true, capture: true });
  return play.call(this);
};
"""
QUIET = "() => { const s = window.bench.sounds; return s.length > 0 && s[s.length - 1].done && performance.now() - s[s.length - 1].at > 50; }"


def by_keypad(demo: Demo, browser) -> tuple[int, float, float]:
    """A PIN reset card first, by the keypad alone with the guidance on, listening to each
    screen to its end: (keys pressed, seconds of speech heard, seconds from first key to the
    ticket read aloud)."""
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True)
    context.add_init_script(HEAR)
    page = context.new_page()
    keys, spoken = 0, 0.0
    heard_here = "window.bench.sounds.filter((s) => s.ended).reduce((sum, s) => sum + s.seconds, 0)"

    def press(key: str, opens: str | None = None) -> None:
        """A key, then listening until the guidance is quiet (on the next screen, if it opens one)."""
        nonlocal keys, spoken
        keys += 1
        heard = page.evaluate("window.bench.sounds.length")
        if opens:
            spoken += page.evaluate(heard_here)  # each screen counts its own
            with page.expect_navigation(url=re.compile(opens), wait_until="load"):
                page.keyboard.press(key)
            heard = 0  # a new page counts its own sounds
        else:
            page.keyboard.press(key)
        page.wait_for_function(f"() => window.bench.sounds.length > {heard}", timeout=60_000)
        page.wait_for_function(QUIET, timeout=120_000)

    def down_to(selector: str) -> None:
        while not page.evaluate(f"document.activeElement.matches({selector!r})"):
            press("ArrowDown")
            if keys > 60:
                raise SystemExit(f"the keypad never reached {selector} on {page.url}")

    page.goto(demo.url + "/kiosk/")
    demo.card("insert", "pin-blocked")
    expect(page.locator('[data-card-notice="own"]')).to_be_visible()
    start = time.perf_counter()
    press("Numpad5")  # the guidance starts, in every language
    down_to(".language-choices a[lang=en]")
    press("Enter", opens=r"/kiosk/visit\?lang=en$")
    down_to(".visit-pin_reset")
    press("Enter", opens=r"/kiosk/check$")  # card first: no card to insert
    down_to(".take-ticket")
    press("Enter", opens=r"/kiosk/ticket$")  # and listening to the number and the place in line
    elapsed = time.perf_counter() - start
    spoken += page.evaluate(heard_here)
    demo.card("remove")
    context.close()
    return keys, spoken, elapsed


def every_language(demo: Demo, browser, shots: Path, languages: list[str]) -> None:
    """A picture of every screen in every language, into shots/<language>/."""
    context = browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True)
    page = context.new_page()
    page.goto(demo.url + "/kiosk/")
    page.screenshot(path=str(shots / "01-home.png"))
    demo.card("insert", "type-h")
    expect(page.locator('[data-card-notice="own"]')).to_be_visible()
    page.screenshot(path=str(shots / "01-home-card-first.png"))
    demo.card("remove")
    page.close()
    for lang in languages:
        (shots / lang).mkdir(parents=True, exist_ok=True)
        in_language(demo, context.new_page(), shots / lang, lang)
    context.close()


def in_language(demo: Demo, page, folder: Path, lang: str) -> None:
    def shot(name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"))

    page.goto(demo.url + f"/kiosk/visit?lang={lang}")
    shot("02-visit")
    for visit, card in VISITS.items():
        page.goto(demo.url + f"/kiosk/identify?visit={visit}")
        if visit == "pickup":
            shot("03-identify")
        demo.card("insert", card)
        expect(page).to_have_url(re.compile("/check$"))
        shot(f"04-check-{visit}")
        if visit == "pin_reset":
            page.locator(".take-ticket").tap()
            expect(page).to_have_url(re.compile("/ticket$"))
            shot("05-ticket")
            page.goto(demo.url + "/kiosk/reset")  # the card left in the reader: the next citizen's screens
            page.goto(demo.url + f"/kiosk/visit?lang={lang}")
            shot("12-visit-card-left")
            demo.card("remove")
            continue
        demo.card("remove")
        expect(page).to_have_url(re.compile("/kiosk/(ticket)?$"))
    page.goto(demo.url + f"/kiosk/lost?lang={lang}")
    shot("06-lost-card")
    page.goto(demo.url + "/kiosk/lost/found")
    shot("07-found-card")
    page.goto(demo.url + "/kiosk/identify/number?visit=pickup")
    for key in "85073099238":
        page.locator(f'.key[data-key="{key}"]').tap()
    page.locator(".main-action").tap()
    expect(page.locator("#number-error")).to_be_visible()
    shot("08-keypad-wrong-number")
    for name, visit, card in [
        ("09-pickup-not-ready", "pickup", "type-m"),
        ("10-new-card-by-appointment", "activation", "issued-2017"),
    ]:
        page.goto(demo.url + f"/kiosk/identify?visit={visit}")
        demo.card("insert", card)
        expect(page).to_have_url(re.compile("/check$"))
        shot(name)
        demo.card("remove")
        expect(page).to_have_url(re.compile("/kiosk/$"))
    page.goto(demo.url + f"/kiosk/visit?lang={lang}")
    page.locator("[data-toggle-large]").tap()
    shot("13-visit-larger-text")
    page.locator("[data-toggle-large]").tap()
    page.clock.install()
    page.goto(demo.url + "/kiosk/identify?visit=activation")
    demo.card("insert", "adult-f-plus")
    expect(page).to_have_url(re.compile("/check$"))
    page.clock.fast_forward(50_000)
    expect(page.get_by_role("alertdialog")).to_be_visible()
    shot("11-idle-warning")
    demo.card("remove")
    page.close()


def ms(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        demo = Demo(tmp)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        )
        try:
            context = browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True)
            page = context.new_page()
            print(f"bench/flows.py: {args.rounds} rounds of the four visits, Chromium, simulated reader")
            for visit, card in VISITS.items():  # warm up: first loads, caches, compiled templates
                walk(demo, page, visit, card)
                card_first(demo, page, visit, card)
            all_times, all_system, card_times = [], [], []
            for first in (False, True):
                for visit, card in VISITS.items():
                    taps, times, system = set(), [], []
                    for _ in range(args.rounds):
                        if first:
                            w = card_first(demo, page, visit, card)
                        else:
                            w, card_to_check = walk(demo, page, visit, card)
                            card_times.append(card_to_check)
                        taps.add(w.taps)
                        times += w.times
                        system += w.system
                    all_times += times
                    all_system += system
                    print(
                        f"{visit:11s} {'card first' if first else 'by touch  '} taps home->ticket: "
                        f"{'/'.join(map(str, sorted(taps)))}; tap to next screen loaded p50 {ms(system, 50):.0f} ms, "
                        f"p95 {ms(system, 95):.0f} ms (with the test driver's own overhead p50 {ms(times, 50):.0f}, "
                        f"p95 {ms(times, 95):.0f})"
                    )
            print(
                f"all visits   time per tap (tap to next screen loaded) p50 {ms(all_system, 50):.0f} ms, "
                f"p95 {ms(all_system, 95):.0f} ms ({len(all_system)} screen changes, {len(all_times)} taps); "
                f"card inserted -> check screen p50 {ms(card_times, 50):.0f} ms, p95 {ms(card_times, 95):.0f} ms"
            )
            if shutil.which("espeak-ng"):
                keys, spoken, elapsed = by_keypad(demo, browser)
                print(
                    f"pin_reset   keypad only, audio guidance: {keys} keys pressed, {spoken:.0f} s of speech "
                    f"heard from the start screen to the ticket read aloud ({elapsed:.0f} s in all)"
                )
            else:
                print("keypad path skipped: no espeak-ng (Debian package espeak-ng) to speak with")
            if args.screenshots:
                args.screenshots.mkdir(parents=True, exist_ok=True)
                every_language(demo, browser, args.screenshots, LANGUAGES)
                print(f"screenshots in {args.screenshots}")
        finally:
            browser.close()
            demo.stop()


if __name__ == "__main__":
    main()
