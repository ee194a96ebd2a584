"""Language of the current request: the citizen's choice, else the site's main language."""

from flask import g, request, session

from hardware.printer.ticket import RTL_LANGUAGES, is_rtl

from .extensions import office

RIGHT_TO_LEFT = RTL_LANGUAGES  # shared with the printer so screen and ticket never disagree
# Each language named in itself, as a citizen looks for it.
LANGUAGE_NAMES = {
    "nl": "Nederlands",
    "fr": "Français",
    "de": "Deutsch",
    "en": "English",
    "ar": "العربية",
    "uk": "Українська",
    "tr": "Türkçe",
    "ru": "Русский",
    "pl": "Polski",
    "ro": "Română",
    "es": "Español",
    "it": "Italiano",
    "pt": "Português",
    "bg": "Български",
    "fa": "فارسی",
}


def select_locale() -> str:
    """?lang=, else the language chosen earlier in this session; staff pages then follow
    the browser's language. The kiosk does not: its browser's setting says nothing about
    the citizen in front of it, so it starts in the office's main language."""
    languages = office.site.languages
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return chosen
    if request.blueprint != "citizen":
        return request.accept_languages.best_match(languages) or languages[0]
    return languages[0]


def set_language_globals() -> None:
    g.lang = select_locale()
    g.dir = "rtl" if is_rtl(g.lang) else "ltr"
