"""Speech for the kiosk's audio guidance (static/kiosk_speech.js): the screen's own texts,
spoken offline by espeak-ng on the kiosk PC and served as WAV to the kiosk's own browser.

Only that browser reaches these addresses (the blueprint's `only_for_the_kiosk_pc`, and the
office's listener refuses /kiosk/ before the app: kiosk.server). A text is what the page
shows, bounded in length. Speech is made in memory and kept in memory only, a bounded
number of sounds: nothing is written to disk and no text is ever logged. The screens keep
the card holder's name out of what they speak (it may reach a loudspeaker, not headphones).
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
import threading
import wave
from collections import OrderedDict

from flask import abort, current_app, make_response, request
from flask_babel import force_locale
from flask_babel import gettext as _

from ..errors import respond
from ..espeak import Espeak, voice_for
from ..extensions import office
from ..i18n import LANGUAGE_NAMES

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 1000  # the longest screen text (a notice) is about 300; the page cuts at this too
# espeak-ng speaks 1000 characters (a minute) into 2.6 MB of WAV in 0.07 s; a screen's texts
# are a few seconds each, 100 to 300 KB: a hundred of them hold some 20 MB.
CACHE_SOUNDS = 100
CACHE_BYTES = 32 * 1024 * 1024
# One screen asks for one sound at a time; a second one waits for the first (tens of
# milliseconds), never longer than this, so a hung espeak-ng holds one listener thread only.
SLOT_WAIT_S = 2.0
RETRY_AFTER_S = 1
RATE = 22050
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


class SpeechBusy(Exception):
    """espeak-ng is still making another sound after SLOT_WAIT_S."""


class KioskVoice:
    """Texts spoken as WAV (bytes), the latest CACHE_SOUNDS of them kept in memory: a screen
    spoken again, or a choice heard twice, is not made again."""

    def __init__(self, program: str = "espeak-ng", sounds: int = CACHE_SOUNDS, max_bytes: int = CACHE_BYTES):
        self.espeak = Espeak(program, absent="the kiosk's audio guidance is silent")
        self.sounds, self.max_bytes = sounds, max_bytes
        self._kept: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._slot = threading.BoundedSemaphore(1)

    def wav(self, language: str, text: str) -> bytes | None:
        """`text` spoken in `language`, or None when espeak-ng is missing or fails.
        Raises SpeechBusy when another sound is still being made after SLOT_WAIT_S."""
        key = (voice_for(language), text)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        program = self.espeak.installed()
        if program is None:
            return None
        if not self._slot.acquire(timeout=SLOT_WAIT_S):
            raise SpeechBusy
        try:
            data = self.espeak.wav(program, language, text)
        finally:
            self._slot.release()
        if data is not None:
            self._keep(key, data)
        return data

    def _keep(self, key: tuple[str, str], data: bytes) -> None:
        with self._lock:
            self._kept[key] = data
            self._kept.move_to_end(key)
            while len(self._kept) > self.sounds or sum(map(len, self._kept.values())) > self.max_bytes:
                self._kept.popitem(last=False)


voice = KioskVoice()


def spoken_text(raw: str) -> str | None:
    """The text to speak, whitespace as one space, or None when empty or too long."""
    text = " ".join(CONTROL_CHARACTERS.sub(" ", raw).split())
    return text if 0 < len(text) <= MAX_TEXT_CHARS else None


def _wav(data: bytes):
    # the same address always speaks the same text: the screen's browser may keep it
    response = current_app.response_class(data, mimetype="audio/wav")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def speak(language: str):
    """`?text=` spoken in `language` (a language of the site)."""
    if language not in office.site.languages:
        abort(404, description="No such language.")
    text = spoken_text(request.args.get("text", ""))
    if text is None:
        abort(400, description=f"Give a text of 1 to {MAX_TEXT_CHARS} characters.")
    try:
        data = voice.wav(language, text)
    except SpeechBusy:
        # Not abort(): the error handlers keep no headers
        busy = make_response(respond(503, "service_unavailable", "Speech is busy; ask again in a moment."))
        busy.headers["Retry-After"] = str(RETRY_AFTER_S)
        return busy
    if data is None:
        abort(404, description="Speech is not available on this kiosk.")
    return _wav(data)


@functools.cache
def alert_wav() -> bytes:
    """Three short rising beeps (A5, C#6, E6): the idle warning, before it is spoken. Unlike
    the board's chime, which means "a number is called"."""
    frames = bytearray()
    for frequency in (880.0, 1108.73, 1318.51):
        count = int(RATE * 0.14)
        for i in range(count):
            fade = min(1.0, i / 220, (count - i) / 220)  # no click at either end
            sample = fade * 0.5 * math.sin(2 * math.pi * frequency * i / RATE)
            frames += int(sample * 32767).to_bytes(2, "little", signed=True)
        frames += bytes(2 * int(RATE * 0.06))  # a short silence between the beeps
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


def alert():
    return _wav(alert_wav())


# --- for the templates ---------------------------------------------------------------------


def spoken_number(number: str) -> str:
    """ "A 12" rather than "A012", as the board calls it: the citizen hears their number
    called the way they heard it at the kiosk."""
    match = re.fullmatch(r"([A-Z])(\d+)", number)
    return f"{match[1]} {int(match[2])}" if match else number


def language_prompts() -> dict[str, dict[str, str]]:
    """On the start screen, for each language of the site (in the site's order) and in that
    language: how to choose a language (spoken in every language in turn, before anything
    else: the citizen has not chosen one yet) and what its choice says."""
    prompts = {}
    for code in office.site.languages:
        name = LANGUAGE_NAMES.get(code, code)
        with force_locale(code):
            prompts[code] = {
                "intro": _("%(language)s: press the down arrow to choose your language.", language=name),
                "choice": _("%(language)s. Press Enter to continue in this language.", language=name),
            }
    return prompts


def template_helpers() -> dict:
    return {
        "spoken_number": spoken_number,
        "language_prompts": language_prompts,
        "speech_max_chars": MAX_TEXT_CHARS,
    }
