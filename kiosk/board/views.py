"""Board routes: the page (data comes from the public /api/queue), the chime, spoken calls."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _

from ..errors import respond
from ..extensions import office
from ..i18n import RIGHT_TO_LEFT
from ..live import POLL_INTERVAL_MS, counter_name, service_label, version_url
from .sounds import SpeakerBusy, chime_wav

bp = Blueprint("board", __name__, url_prefix="/board")

NUMBER = re.compile(r"^([A-Z])(\d{3,4})$")
ROTATE_S = 8  # the board shows its labels in each site language in turn
CALLS_SHOWN = 7  # the latest and six before it
RETRY_AFTER_S = 1  # a busy speaker has made several calls by then (sounds.py)


def board_texts(language: str) -> dict[str, str]:
    with force_locale(language):
        texts = {
            "now": _("Now calling"),
            "previous": _("Previous calls"),
            "waiting": _("Waiting"),
            "nobody": _("No number called yet"),
            "offline": _("No connection to the queue: the numbers shown may be old."),
        }
    texts.update({f"service.{s}": service_label(s, language) for s in office.site.services})
    return texts


def spoken_languages() -> list[str]:
    """`?speak=nl,fr` chooses the languages (in that order), `?speak=none` silences the
    voice (the chime stays); default every site language."""
    wanted = request.args.get("speak")
    if wanted is None:
        return list(office.site.languages)
    return [lang for lang in wanted.split(",") if lang in office.site.languages]


@bp.get("/")
def index():
    languages = office.site.languages
    return render_template(
        "board/index.html",
        texts={lang: board_texts(lang) for lang in languages},
        rtl=[lang for lang in languages if lang in RIGHT_TO_LEFT],
        counters={number: counter_name(number) for number in office.site.counters},
        services=[s for s in office.site.services.values() if s.enabled],
        speak=spoken_languages(),
        rotate_s=ROTATE_S,
        calls_shown=CALLS_SHOWN,
        poll_ms=POLL_INTERVAL_MS,
        version_url=version_url(),
    )


def _wav(data: bytes):
    """Sounds never change for a given address: let the board's browser keep them."""
    response = current_app.response_class(data, mimetype="audio/wav")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/chime.wav")
def chime():
    return _wav(chime_wav())


@bp.get("/speech/<language>/<number>-<int:counter>.wav")
def speech(language: str, number: str, counter: int):
    """Public like the board, so only what the board shows is spoken: a number called
    (or recalled) today at that counter, among the calls /api/queue lists."""
    match = NUMBER.match(number)
    if language not in office.site.languages or not match or counter not in office.site.counters:
        abort(404, description="No such call.")
    queue = office.queue
    if not any(c.number == number and c.counter == counter for c in queue.calls()):
        abort(404, description=f"Number {number} has not been called to counter {counter} today.")
    letter, digits = match.groups()
    with force_locale(language):
        # "A 12" rather than "A012": read as a letter and a number in every language
        text = _("Number %(number)s, counter %(counter)d", number=f"{letter} {int(digits)}", counter=counter)
    try:
        path = office.speaker.wav(language, text, queue.business_day())
    except SpeakerBusy:
        # Not abort(): the error handlers keep no headers, and the board waits for Retry-After.
        busy = make_response(respond(503, "service_unavailable", "Spoken calls are busy; ask again in a moment."))
        busy.headers["Retry-After"] = str(RETRY_AFTER_S)
        return busy
    if path is None:
        abort(404, description="Spoken calls are not available on this server.")
    return _wav(path.read_bytes())
