"""The back office's browser tests: staff screens at a desk PC's size, the kiosk's in
portrait; signing in, checking with axe-core, keeping screenshots (KIOSK_SCREENSHOTS)."""

import os
import re
from pathlib import Path

from playwright.sync_api import expect

from tests.desk.conftest import PASSWORD
from tests.live import axe_violations

DESK = {"width": 1600, "height": 1000}
KIOSK = {"width": 1080, "height": 1920}


def signed_in(screen, username: str, path: str):
    page = screen(path)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    return page


def keep(page, name: str) -> None:
    directory = os.environ.get("KIOSK_SCREENSHOTS")
    if directory:
        page.screenshot(path=str(Path(directory) / name), full_page=True)


def accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"
