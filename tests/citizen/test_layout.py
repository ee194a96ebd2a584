"""The kiosk screens fit the portrait screen's width in both text sizes: no sideways scrolling."""

import re

import pytest
from playwright.sync_api import expect

from tests.citizen.test_flows import choose, insert

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# Elements sticking out on either side: in a right-to-left page, overflow to the left does
# not show in scrollWidth, so the boxes are checked too.
OUTSIDE = """() => [...document.querySelectorAll("body *")].filter(el => {
  const box = el.getBoundingClientRect();
  return box.width > 0 && (box.left < 0 || box.right > window.innerWidth);
}).map(el => el.tagName + "." + el.className)"""


def set_text_size(page, large: bool):
    if large:
        page.locator("[data-toggle-large]").tap()
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b") if large else re.compile(r"^(?!.*\blarge\b)"))


def assert_fits(page):
    width, scroll_width = page.evaluate("[window.innerWidth, document.documentElement.scrollWidth]")
    assert scroll_width <= width and page.evaluate(OUTSIDE) == []


@pytest.mark.parametrize("large", [False, True], ids=["normal", "larger"])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_on_screen_keyboard_fits(kiosk, reader, language, large):
    choose(kiosk, language, "new_codes")
    insert(kiosk, reader, "type-h")
    set_text_size(kiosk, large)
    expect(kiosk.locator(".osk")).to_be_visible()
    assert_fits(kiosk)
    key = kiosk.locator('.osk-key[data-char="q"]').bounding_box()
    assert key["width"] >= 60 and key["height"] >= 88  # still easy to hit with a finger


def test_language_buttons_fit_in_larger_text(kiosk):
    set_text_size(kiosk, True)
    assert_fits(kiosk)


def test_a_long_german_word_fits_in_larger_text(kiosk):
    """The title says "Nationalregisternummer": wider than the screen at this size, unbroken."""
    kiosk.locator(".language-choices a[lang=de]").tap()
    kiosk.locator(".lost").tap()
    kiosk.locator("a[href*='identify/number']").first.tap()
    expect(kiosk).to_have_url(re.compile(r"/kiosk/identify/number"))
    set_text_size(kiosk, True)
    assert_fits(kiosk)
