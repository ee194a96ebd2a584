"""The board's sounds: a chime made here, and spoken calls made offline by espeak-ng.

No personal data is spoken or logged: only the ticket number and the counter.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
import math
import os
import tempfile
import threading
import wave
from pathlib import Path

from ..espeak import Espeak, voice_for

log = logging.getLogger(__name__)

RATE = 22050
# espeak-ng makes a spoken call in under 10 ms (each of nl, fr-be, de, en-gb, ar and uk, on a
# two-core PC), so a request that finds every slot taken waits for one rather than
# being refused: six boards asking at once are all answered within a fraction of a second.
# Waiting holds a waitress thread, so it is bounded twice: at most MAX_WAITING requests wait
# (more are refused at once) and none for longer than SLOT_WAIT_S. Making and waiting then
# hold at most six of the office listener's eight threads (`kiosk serve --threads`), for
# seconds only even when espeak-ng hangs. The board asks for one sound at a time, so one board
# holds one thread, and asks a refused one again after Retry-After (static/board.js).
MAX_SYNTHESES = 2  # espeak-ng runs at once
MAX_WAITING = 4
SLOT_WAIT_S = 2.0  # below the board's 3 s request timeout (static/live.js), synthesis included


@functools.cache
def chime_wav() -> bytes:
    """Two soft bell tones (E5, then C5), 16-bit mono."""
    frames = bytearray()
    for frequency, seconds in ((659.25, 0.45), (523.25, 0.75)):
        count = int(RATE * seconds)
        for i in range(count):
            t = i / RATE
            envelope = math.exp(-4.0 * t) * min(1.0, i / 200)  # no click at the start
            sample = envelope * (
                0.7 * math.sin(2 * math.pi * frequency * t) + 0.3 * math.sin(4 * math.pi * frequency * t)
            )
            frames += int(sample * 0.6 * 32767).to_bytes(2, "little", signed=True)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


class SpeakerBusy(Exception):
    """Every synthesis slot is taken, and so is every place to wait for one (or the wait was
    too long): answer, and let the board ask again, rather than pile up server threads."""


class Speaker:
    """Spoken calls as WAV files, made once per business day and kept in `cache_dir`.

    Only the current day's files are kept (only today's calls are spoken), so the folder,
    on the same disk as the database, cannot grow from day to day.
    """

    def __init__(
        self,
        cache_dir: Path,
        program: str = "espeak-ng",
        slots: int = MAX_SYNTHESES,
        waiting: int = MAX_WAITING,
        wait_s: float = SLOT_WAIT_S,
    ):
        self.cache_dir = cache_dir
        self.espeak = Espeak(program, absent="the board chimes but does not speak")
        self.slots = threading.BoundedSemaphore(slots)  # making a sound
        self.admitted = threading.BoundedSemaphore(slots + waiting)  # making one or waiting to
        self.wait_s = wait_s

    def wav(self, language: str, text: str, day: dt.date) -> Path | None:
        """The WAV file speaking `text`, or None when it cannot be made.

        Raises SpeakerBusy when it would have to be made and no slot frees in time.
        """
        key = hashlib.sha256(f"{voice_for(language)}\n{text}".encode()).hexdigest()[:24]
        prefix = f"{day.isoformat()}-"
        path = self.cache_dir / f"{prefix}{language}-{key}.wav"
        if path.exists():
            return path
        program = self.espeak.installed()
        if program is None:
            return None
        if not self.admitted.acquire(blocking=False):
            raise SpeakerBusy
        try:
            if not self.slots.acquire(timeout=self.wait_s):
                raise SpeakerBusy
            try:
                if path.exists():  # made by another request (another board) while this one waited
                    return path
                self.cache_dir.mkdir(parents=True, exist_ok=True)
                self._forget_other_days(prefix)
                return self._stored(self.espeak.wav(program, language, text), path, prefix)
            finally:
                self.slots.release()
        finally:
            self.admitted.release()

    def _forget_other_days(self, prefix: str) -> None:
        for old in self.cache_dir.iterdir():
            if not old.name.startswith(prefix):
                old.unlink(missing_ok=True)

    def _stored(self, data: bytes | None, path: Path, prefix: str) -> Path | None:
        if data is None:
            return None
        # Named for its day too: one left by a crash goes with the rest of that day.
        fd, partial = tempfile.mkstemp(dir=self.cache_dir, prefix=prefix, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(partial, path)  # two boards asking at once both end with a whole file
            return path
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
