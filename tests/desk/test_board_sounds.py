"""The board's chime and spoken calls (espeak-ng, offline on the server)."""
import io
import logging
import wave

import pytest

from kiosk.board.sounds import Speaker
from tests.system import require_debian_packages

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def read_wav(data: bytes) -> tuple[int, float]:
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnchannels(), audio.getnframes() / audio.getframerate()


@sqlite_only
def test_the_chime_is_a_short_wav(client):
    response = client.get("/board/chime.wav")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    channels, seconds = read_wav(response.data)
    assert channels == 1 and 0.5 < seconds < 2


@sqlite_only
@pytest.mark.parametrize("language", ["nl", "fr", "ar"])
def test_a_call_is_spoken_offline_and_kept(client, tmp_path, language):
    require_debian_packages("espeak-ng")
    response = client.get(f"/board/speech/{language}/A012-3.wav")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert read_wav(response.data)[1] > 0.5
    kept = list((tmp_path / "speech").glob(f"{language}-*.wav"))
    assert len(kept) == 1
    assert client.get(f"/board/speech/{language}/A012-3.wav").data == kept[0].read_bytes()
    assert client.get(f"/board/speech/{language}/A013-3.wav").status_code == 200
    assert len(list((tmp_path / "speech").glob(f"{language}-*.wav"))) == 2


@sqlite_only
@pytest.mark.parametrize("path", [
    "/board/speech/xx/A012-3.wav",  # not a site language
    "/board/speech/nl/A012-9.wav",  # no such counter
    "/board/speech/nl/hello-3.wav",  # not a ticket number: nothing else is ever spoken
    "/board/speech/nl/A1-3.wav",
])
def test_only_real_calls_are_spoken(client, path):
    assert client.get(path).status_code == 404


def test_without_espeak_the_board_only_chimes(tmp_path, caplog):
    speaker = Speaker(tmp_path, program="no-such-espeak-program")
    with caplog.at_level(logging.WARNING):
        assert speaker.wav("nl", "Nummer A 12, loket 3") is None
        assert speaker.wav("nl", "Nummer A 13, loket 3") is None
    assert caplog.text.count("does not speak") == 1  # said once, not on every call
    assert not list(tmp_path.iterdir())
