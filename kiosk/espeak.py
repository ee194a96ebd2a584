"""espeak-ng: the offline speech of the board's calls (kiosk.board.sounds) and of the kiosk's
audio guidance (kiosk.citizen.speech), run one way for both: looked up on each use, with a
time limit, the WAV read from its output. What is spoken is never logged."""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess

log = logging.getLogger(__name__)

# espeak-ng voice per site language where the plain code is not the best choice: the hall
# and the kiosk sound alike.
VOICES = {"fr": "fr-be", "en": "en-gb"}
TIMEOUT_S = 10


def voice_for(language: str) -> str:
    return VOICES.get(language, language)


class Espeak:
    """espeak-ng under the name `program`. Its absence is logged once, `absent` saying what it
    means for the screen that wanted it."""

    def __init__(self, program: str = "espeak-ng", absent: str = "nothing is spoken"):
        self.program, self.absent = program, absent
        self._warned = False

    def installed(self) -> str | None:
        """Its path; looked up each time, so installing it later needs no restart."""
        path = shutil.which(self.program)
        if path is None and not self._warned:
            log.warning("%s is not installed: %s", self.program, self.absent)
            self._warned = True
        return path

    def wav(self, path: str, language: str, text: str) -> bytes | None:
        """`text` spoken in `language` by the espeak-ng at `path`, or None (logged) when it
        fails or takes longer than TIMEOUT_S."""
        voice = voice_for(language)
        try:
            result = subprocess.run([path, "-v", voice, "--stdout", "--", text], capture_output=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("espeak-ng took longer than %s s (voice %s)", TIMEOUT_S, voice)
            return None
        if result.returncode != 0 or len(result.stdout) <= 44:
            log.warning("espeak-ng could not speak in voice %s (exit %s)", voice, result.returncode)
            return None
        return with_sizes(result.stdout)


def with_sizes(data: bytes) -> bytes:
    """espeak-ng writing to a pipe cannot go back to fill in the WAV header's sizes, and leaves
    them at 2 GB: the player would take the sound for half an hour long. Its header is the
    plain 44-byte one, so the two sizes are written in here."""
    if data[:4] != b"RIFF" or data[36:40] != b"data":
        return data
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:40] + struct.pack("<I", len(data) - 44) + data[44:]
