"""Every text a citizen sees is translated in every language of the demo office."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kiosk.site import DEMO_PROFILE, load_site_profile

TRANSLATIONS = Path(__file__).parent.parent / "kiosk" / "translations"
SOURCE_LANGUAGE = "en"  # the msgids are English
LANGUAGES = [lang for lang in load_site_profile(DEMO_PROFILE).languages if lang != SOURCE_LANGUAGE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def catalog(language):
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalog for {language}: kiosk translations add {language}"
    with path.open("rb") as file:
        return read_po(file, locale=language)


def template_ids():
    with (TRANSLATIONS / "messages.pot").open("rb") as file:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(file) if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_with_the_same_placeholders(language):
    messages = [m for m in catalog(language) if m.id]
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in messages}
    assert template_ids() <= ids, f"{language}: run kiosk translations extract"
    for message in messages:
        if getattr(message, "obsolete", False):
            continue
        assert not message.fuzzy, f"{language}: fuzzy {message.id!r}"
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        targets = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(t.strip() for t in targets), f"{language}: untranslated {message.id!r}"
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        for target in targets:
            # plural forms may leave the count out ("one person" for n == 1)
            assert set(PLACEHOLDER.findall(target)) <= wanted | {"num"}, f"{language}: {message.id!r}"
            if not isinstance(message.id, tuple):
                assert set(PLACEHOLDER.findall(target)) == wanted, f"{language}: {message.id!r}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_kiosk_speaks_the_language(client, language):
    english = client.get("/kiosk/visit?lang=en").get_data(as_text=True)
    other = client.get(f"/kiosk/visit?lang={language}").get_data(as_text=True)
    heading = re.compile(r"<h1>(.*?)</h1>", re.S)
    assert heading.search(english).group(1) == "What brings you here?"
    assert heading.search(other).group(1) not in ("", "What brings you here?")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_staff_pages_follow_the_browser_and_the_kiosk_does_not(client):
    french_browser = {"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"}
    assert 'lang="fr"' in client.get("/login", headers=french_browser).get_data(as_text=True)
    assert 'lang="nl"' in client.get("/kiosk/", headers=french_browser).get_data(as_text=True)
    assert 'lang="nl"' in client.get("/login", headers={"Accept-Language": "ja"}).get_data(as_text=True)
