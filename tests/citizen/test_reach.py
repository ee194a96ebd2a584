"""Every screen's main button in sight and within reach, in every language and both text
sizes: inside the 1080x1920 portrait screen without scrolling, and no higher than a seated
person reaches (EN 301 549 8.3: operable parts at most 1220 mm up, which on the kiosk's
portrait screen is its lower two thirds). And axe-core finds nothing on any of them."""

import re

import pytest
from playwright.sync_api import expect

from kiosk.demo import demo_pickups_csv
from kiosk.extensions import office
from kiosk.pickups import import_pickups
from tests.citizen.screens import through_the_visits
from tests.live import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

HEIGHT = 1920
REACH_TOP = HEIGHT // 3
CARDS = {"pickup": "adult-f-plus", "activation": "minor-17", "pin_reset": "pin-blocked", "new_codes": "type-h"}
MAIN = ".bottom .button, .bottom button"  # the footer's main button and the ways back


def out_of_reach(page, selector: str, *, all_in_sight: bool = True) -> list[str]:
    """The elements of `selector` not within reach, or not in sight, on the screen as it
    opened: above the reach line, below the screen, or under the footer that stays at its
    bottom. With `all_in_sight` false, only the first of them must be in sight (the rest
    come with a scroll, into the same reach)."""
    boxes = page.evaluate(
        """(selector) => {
             const footer = document.querySelector(".bottom");
             const under = footer ? footer.getBoundingClientRect().top : innerHeight;
             return [...document.querySelectorAll(selector)].filter((el) => el.getClientRects().length)
               .map((el) => { const b = el.getBoundingClientRect();
                              const limit = footer && footer.contains(el) ? innerHeight : under;
                              return [el.textContent.trim().slice(0, 40), b.top + scrollY, b.bottom + scrollY, limit]; });
           }""",
        selector,
    )
    assert boxes, f"nothing matches {selector} on {page.url}"
    far = []
    for i, (text, top, bottom, limit) in enumerate(boxes):
        if top < REACH_TOP or ((all_in_sight or i == 0) and bottom > limit):
            far.append(f"{text!r} at {top:.0f}-{bottom:.0f} (in sight up to {limit:.0f})")
    return far


def larger(page, large: bool) -> None:
    if large and "large" not in (page.locator("html").get_attribute("class") or ""):
        page.locator("[data-toggle-large]").tap()
        expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))


@pytest.mark.parametrize("large", [False, True], ids=["normal", "larger"])
def test_main_buttons_are_in_sight_and_within_reach(app, kiosk, reader, large):
    with app.app_context():
        languages = office.site.languages
        today = office.queue.today()
        import_pickups(office.engine, demo_pickups_csv(today), today, office.clock())
    base = kiosk.url.split("/kiosk/")[0]
    far: dict[str, list[str]] = {}

    def look(screen: str, choices: str | None = None) -> None:
        """The footer's buttons always in sight; the screen's `choices` too, except that in
        larger text a long list may go on below the footer."""
        larger(kiosk, large)
        assert kiosk.evaluate("scrollY") == 0
        missed = out_of_reach(kiosk, MAIN)
        if choices:
            missed += out_of_reach(kiosk, choices, all_in_sight=not large)
        missed += [f"axe: {violation}" for violation in axe_violations(kiosk)]
        if missed:
            far[screen] = missed

    for lang in languages:
        kiosk.goto(base + "/kiosk/")
        out = out_of_reach(kiosk, ".language-choices a", all_in_sight=not large)
        out += [f"axe: {violation}" for violation in axe_violations(kiosk)]
        if out:
            far["home"] = out
        kiosk.goto(base + f"/kiosk/visit?lang={lang}")
        look(f"{lang} visit", ".visits a")
        kiosk.goto(base + "/kiosk/lost")
        look(f"{lang} lost", "main .button")
        kiosk.goto(base + "/kiosk/lost/found")
        look(f"{lang} found", ".blocked-days a")
        kiosk.goto(base + "/kiosk/identify/number?visit=pickup")
        look(f"{lang} keypad", ".key")
        through_the_visits(kiosk, reader, base, CARDS.items(), lambda name, lang=lang: look(f"{lang} {name}"))
        # the visits under a card's notice: one someone left (in before the start screen), and
        # the citizen's own (put in on the start screen)
        for kind in ("left", "own"):
            if kind == "left":
                reader.insert("adult-f-plus")
            kiosk.goto(base + "/kiosk/")
            if kind == "own":
                reader.insert("adult-f-plus")
                expect(kiosk.locator('[data-card-notice="own"]')).to_be_visible()
            kiosk.locator(f".language-choices a[lang={lang}]").tap()
            expect(kiosk.locator(f'[data-card-notice="{kind}"]')).to_be_visible()
            look(f"{lang} visit, card {kind}", ".visits a")
            reader.remove()
    assert not far, "out of reach, out of sight or not accessible:\n" + "\n".join(f"{k}: {v}" for k, v in far.items())
