"""Every text a screen shows or speaks comes through the catalogs: run with catalogs in which
every translation is marked (pseudo-localisation), every screen's texts, its spoken texts
and its labels are marked, but for the data they show (the office's name, the card holder's
name, numbers, the languages' own names, the site profile's own texts). With the real
catalogs complete (tests/test_translations.py), no screen in one language shows another's."""

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from kiosk.demo import demo_pickups_csv
from kiosk.extensions import office
from kiosk.i18n import LANGUAGE_NAMES
from kiosk.pickups import import_pickups
from tests.citizen.screens import through_the_visits
from tests.sites import site_variant

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

TRANSLATIONS = Path(__file__).resolve().parents[2] / "kiosk" / "translations"
OPEN, CLOSE = "\u27e6", "\u27e7"  # ⟦ ⟧
MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")

# Every text of the page, with where it is: text nodes (shown or hidden: the idle warning,
# the other card notices), what is spoken instead (data-speak, data-say-*, the reader's
# messages) and what assistive technology reads (aria-label, title, alt, placeholder).
TEXTS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest("script, style") && node.data.trim()) found.push(["text", node.data.trim()]);
  }
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (/^(data-speak|data-say-|data-msg-|aria-label$|title$|alt$|placeholder$)/.test(attr.name) && attr.value.trim()) {
        found.push([attr.name, attr.value.trim()]);
      }
    }
  }
  found.push(["title", document.title]);
  return found;
}"""


def pseudo_catalogs(folder: Path, languages) -> Path:
    """Each language's catalog with every translation marked; English (the msgids) too."""
    for lang in languages:
        source = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        with (source if source.exists() else TRANSLATIONS / "messages.pot").open("rb") as file:
            catalog = read_po(file, locale=lang)
        for message in catalog:
            if not message.id:
                continue
            if isinstance(message.id, str):
                message.string = f"{OPEN}{message.string or message.id}{CLOSE}"
            else:  # plural forms: English has two, the msgids
                strings = message.string if any(message.string) else message.id
                message.string = tuple(f"{OPEN}{text}{CLOSE}" for text in strings)
            message.flags.discard("fuzzy")
        target = folder / lang / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / "messages.mo").open("wb") as file:
            write_mo(file, catalog)
    return folder


@pytest.fixture
def app_config(app_config, tmp_path, demo_site):
    folder = pseudo_catalogs(tmp_path / "pseudo", demo_site.languages)
    # with the message when the turn is near, so that every check screen asks for a contact
    site = site_variant(tmp_path, ("[kiosk]\n", "[kiosk]\nturn_soon_ahead = 2\n"))
    return {**app_config, "SITE": str(site), "BABEL_TRANSLATION_DIRECTORIES": str(folder)}


@pytest.fixture(autouse=True)
def marked_catalogs_only_here(app):
    """Flask-Babel keeps the catalogs it loaded on its one Babel object, for every app of the
    process: this app must not find another's, nor leave its marked ones to the next."""
    with app.app_context():  # the domain is made on first use, from the current app
        cache = app.extensions["babel"].instance.domain_instance.cache
    cache.clear()
    yield
    cache.clear()


def leaks(page, allowed: set[str]) -> list[str]:
    """The texts on the page that did not come through a catalog."""
    left = []
    for where, text in page.evaluate(TEXTS):
        rest = re.sub(r"https?://\S+", " ", text)  # an address (the ticket's QR code) is no language's
        while MARKED.search(rest):  # innermost first: a marked text may hold another
            rest = MARKED.sub(" ", rest)
        for data in sorted(allowed, key=len, reverse=True):
            rest = rest.replace(data, " ")
        # what is no language's: figures, signs, single keys of the on-screen keyboards
        rest = re.sub(r"(?<!\w)\w(?!\w)", " ", rest)
        if re.search(r"[^\W\d_]{2,}", rest):
            left.append(f"{where}: {text!r}")
    return left


def test_every_screen_shows_and_speaks_only_texts_from_the_catalogs(app, kiosk, reader):
    with app.app_context():
        site = office.site
        today = office.queue.today()
        import_pickups(office.engine, demo_pickups_csv(today), today, office.clock())
    card_holder = {"Alex", "Sample", "Testperson"}  # the demo cards' holder (hardware.card.fake_cards)
    allowed = {
        site.municipality,
        site.kiosk.footer,
        *(LANGUAGE_NAMES[lang] for lang in site.languages),
        *card_holder,
        *(site.appointments.hours.values()),
        site.appointments.url.split("://", 1)[1],
        "DOC STOP",  # the federal blocking line's own name, in every language
        "PIN",
        "PUK",
        "Bancontact",
        "wav",  # the speech's address
    }
    base = kiosk.url.split("/kiosk/")[0]
    found: dict[str, list[str]] = {}

    def look(screen: str) -> None:
        if missed := leaks(kiosk, allowed):
            found[screen] = missed

    for lang in ("nl", "ar"):  # a Latin and a right-to-left script; the mechanism is the same for all
        kiosk.goto(base + "/kiosk/")
        reader.insert("type-h")  # the start screen's card notices, in every language
        expect(kiosk.locator('[data-card-notice="own"]')).to_be_visible()
        look("home")
        reader.remove()
        for path in ("/kiosk/visit", "/kiosk/lost", "/kiosk/lost/found", "/kiosk/lost/found?days=more"):
            kiosk.goto(base + path + ("&" if "?" in path else "?") + f"lang={lang}")
            look(f"{lang} {path}")
        kiosk.goto(base + "/kiosk/identify/number?visit=pickup")
        kiosk.locator(".main-action").tap()  # nothing typed: the error
        expect(kiosk.locator("#number-error")).to_be_visible()
        look(f"{lang} keypad")
        kiosk.goto(base + "/kiosk/no-such-screen")
        look(f"{lang} not found")
        visits = [
            ("pickup", "adult-f-plus"),
            ("pickup", "type-m"),
            ("activation", "issued-2017"),
            ("new_codes", "type-h"),
            ("pin_reset", "pin-blocked"),
        ]
        through_the_visits(kiosk, reader, base, visits, lambda name, lang=lang: look(f"{lang} {name}"))
    assert not found, "texts not from the catalogs:\n" + "\n".join(f"{k}: {v}" for k, v in found.items())
