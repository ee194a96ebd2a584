"""Which languages are written right to left: one list, shared by the screens and the printer."""

import re

import pytest

from hardware.printer.ticket import RTL_LANGUAGES, is_rtl
from kiosk.i18n import RIGHT_TO_LEFT
from tests.sites import NO_APPOINTMENT_HOURS, site_variant


def test_screens_and_printer_use_the_same_list():
    assert RIGHT_TO_LEFT == RTL_LANGUAGES


@pytest.mark.parametrize("language", ["ar", "fa", "prs", "ps", "ur", "he", "yi", "ckb", "dv", "ug", "syr"])
def test_right_to_left(language):
    assert is_rtl(language) and language in RIGHT_TO_LEFT


@pytest.mark.parametrize("language", ["ku", "nl", "fr", "de", "en", "uk", "tr", "ru", "so", "ti", "am"])
def test_left_to_right(language):
    """Kurmanji (ku) is written in Latin script, unlike Sorani (ckb)."""
    assert not is_rtl(language) and language not in RIGHT_TO_LEFT


@pytest.mark.parametrize("tag, rtl", [("ar-MA", True), ("fa_IR", True), ("CKB", True), ("ku-TR", False)])
def test_region_and_case_do_not_matter(tag, rtl):
    assert is_rtl(tag) == rtl


class TestKurdishOnTheKiosk:
    @pytest.fixture
    def app_config(self, app_config, tmp_path, monkeypatch):
        # a site may only list languages with a catalog; empty ones do for the page direction
        for language in ("nl", "ckb", "ku"):
            catalog = tmp_path / "translations" / language / "LC_MESSAGES" / "messages.po"
            catalog.parent.mkdir(parents=True)
            catalog.touch()
        monkeypatch.setattr("kiosk.site.TRANSLATIONS", tmp_path / "translations")
        return {
            **app_config,
            "SITE": str(
                site_variant(
                    tmp_path,
                    ('languages = ["nl", "fr", "de", "en", "ar", "uk"]', 'languages = ["nl", "ckb", "ku"]'),
                    NO_APPOINTMENT_HOURS,
                )
            ),
        }

    @pytest.mark.parametrize("language, direction", [("ckb", "rtl"), ("ku", "ltr"), ("nl", "ltr")])
    def test_the_page_direction_follows_the_language(self, client, language, direction):
        page = client.get(f"/kiosk/?lang={language}").get_data(as_text=True)
        assert re.search(rf'<html lang="{language}" dir="{direction}">', page)

    def test_each_language_button_has_its_own_direction(self, client):
        page = client.get("/kiosk/").get_data(as_text=True)
        assert re.search(r'lang="ckb" dir="rtl"', page) and re.search(r'lang="ku" dir="ltr"', page)
