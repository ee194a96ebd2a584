"""Language of the current request: the citizen's choice, else the site's main language."""
from flask import g, request, session

from .extensions import office

RIGHT_TO_LEFT = {"ar", "fa", "he", "ur", "ps", "ku"}


def select_locale() -> str:
    languages = office.site.languages
    chosen = request.args.get("lang") or session.get("lang")
    return chosen if chosen in languages else languages[0]


def set_language_globals() -> None:
    g.lang = select_locale()
    g.dir = "rtl" if g.lang in RIGHT_TO_LEFT else "ltr"
