"""The board's chime and spoken calls (espeak-ng, offline on the server)."""

import datetime as dt
import io
import logging
import threading
import time
import urllib.request
import wave
from concurrent.futures import ThreadPoolExecutor

import pytest

from kiosk.board.sounds import MAX_SYNTHESES, MAX_WAITING, SLOT_WAIT_S, Speaker, SpeakerBusy
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


def call(app, counter: int, service: str = "pickup") -> str:
    """A ticket issued and called at `counter` through the real queue engine: its number."""
    queue = app.extensions["office"]["queue"]
    queue.issue(service, language="nl")
    return queue.call_next(counter).number


def speech(client, path: str):
    return client.get(f"/board/speech/{path}.wav", headers={"Accept": "application/json"})


def kept(tmp_path, pattern: str = "*") -> list:
    return sorted(p.name for p in (tmp_path / "speech").glob(pattern))


@sqlite_only
@pytest.mark.parametrize("language", ["nl", "fr", "ar"])
def test_a_call_is_spoken_offline_and_kept(app, client, tmp_path, language):
    require_debian_packages("espeak-ng")
    assert [call(app, 1), call(app, 1)] == ["A001", "A002"]
    response = speech(client, f"{language}/A001-1")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert read_wav(response.data)[1] > 0.5
    files = list((tmp_path / "speech").glob(f"*-{language}-*.wav"))
    assert len(files) == 1
    assert speech(client, f"{language}/A001-1").data == files[0].read_bytes()
    assert speech(client, f"{language}/A002-1").status_code == 200
    assert len(kept(tmp_path, f"*-{language}-*.wav")) == 2


@sqlite_only
@pytest.mark.parametrize(
    "path",
    [
        "/board/speech/xx/A001-1.wav",  # not a site language
        "/board/speech/nl/A001-9.wav",  # no such counter
        "/board/speech/nl/hello-1.wav",  # not a ticket number: nothing else is ever spoken
        "/board/speech/nl/A1-1.wav",
    ],
)
def test_malformed_calls_are_not_spoken(app, client, path):
    call(app, 1)  # A001 at counter 1: each path is refused for its form alone
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["message"] == "No such call."


@sqlite_only
def test_only_real_calls_are_spoken(app, client, clock, tmp_path):
    require_debian_packages("espeak-ng")
    assert call(app, 1) == "A001"
    app.extensions["office"]["queue"].issue("pickup", language="nl")  # A002 waits, not called
    refused = {
        "nl/A002-1": "Number A002 has not been called to counter 1 today.",
        "nl/Z0001-1": "Number Z0001 has not been called to counter 1 today.",  # no such service
        "nl/A001-2": "Number A001 has not been called to counter 2 today.",  # called elsewhere
    }
    for path, message in refused.items():
        response = speech(client, path)
        assert (response.status_code, response.get_json()["message"]) == (404, message), path
    assert speech(client, "nl/A001-1").status_code == 200
    assert not kept(tmp_path, "*.part") and len(kept(tmp_path)) == 1  # only the real call

    clock.advance(days=1)  # the next business day: yesterday's call is no longer spoken
    response = speech(client, "nl/A001-1")
    assert response.status_code == 404 and "not been called" in response.get_json()["message"]


@sqlite_only
def test_spoken_calls_of_earlier_days_are_not_kept(app, client, clock, tmp_path):
    require_debian_packages("espeak-ng")
    call(app, 1)
    assert speech(client, "nl/A001-1").status_code == 200
    assert speech(client, "fr/A001-1").status_code == 200
    yesterday = kept(tmp_path)
    assert len(yesterday) == 2 and all(name.startswith("2026-11-24-") for name in yesterday)

    clock.advance(days=1)
    assert call(app, 1) == "A001"  # numbering starts again
    assert speech(client, "nl/A001-1").status_code == 200
    today = kept(tmp_path)
    assert len(today) == 1 and today[0].startswith("2026-11-25-nl-")


@sqlite_only
def test_a_call_in_six_languages_asked_for_at_once_is_spoken_in_all_of_them(app, live_server, tmp_path):
    # More requests than synthesis slots, as from six boards at once: they wait their turn.
    require_debian_packages("espeak-ng")
    languages = app.extensions["office"]["site"].languages
    assert len(languages) == 6 > MAX_SYNTHESES
    assert call(app, 2) == "A001"
    start = threading.Barrier(len(languages), timeout=10)

    def ask(language: str) -> tuple[int, bytes]:
        start.wait()
        url = f"{live_server.url}/board/speech/{language}/A001-2.wav"
        with urllib.request.urlopen(url, timeout=10) as response:  # an error status raises, with it
            return response.status, response.read()

    with ThreadPoolExecutor(max_workers=len(languages)) as pool:
        answers = [pool.submit(ask, lang) for lang in languages]
        results = [answer.result(timeout=15) for answer in answers]
    assert [status for status, _ in results] == [200] * len(languages)
    assert all(read_wav(data)[1] > 0.5 for _, data in results)
    assert len(kept(tmp_path, "*.wav")) == len(languages) and not kept(tmp_path, "*.part")


@sqlite_only
def test_a_full_speaker_answers_at_once_and_the_board_asks_again(app, client, tmp_path):
    require_debian_packages("espeak-ng")
    assert [call(app, 1), call(app, 1)] == ["A001", "A002"]
    assert speech(client, "nl/A001-1").status_code == 200  # made before the rush
    admitted = app.extensions["office"]["speaker"].admitted
    held = hold_all(admitted)
    try:
        assert held == MAX_SYNTHESES + MAX_WAITING  # every slot and every place to wait for one taken
        started = time.monotonic()
        response = speech(client, "nl/A002-1")
        assert time.monotonic() - started < SLOT_WAIT_S  # refused without waiting
        assert response.status_code == 503 and response.headers["Retry-After"] == "1"
        assert response.get_json()["message"] == "Spoken calls are busy; ask again in a moment."
        assert speech(client, "nl/A001-1").status_code == 200  # kept ones need no slot
        assert client.get("/board/chime.wav").status_code == 200
    finally:
        release(admitted, held)
    assert speech(client, "nl/A002-1").status_code == 200  # asked again: spoken


def test_a_slot_not_freed_in_time_is_not_waited_for_longer(tmp_path):
    require_debian_packages("espeak-ng")
    speaker = Speaker(tmp_path, slots=1, wait_s=0.2)
    held = hold_all(speaker.slots)  # a call being made that does not end
    try:
        started = time.monotonic()
        with pytest.raises(SpeakerBusy):
            speaker.wav("nl", "Nummer A 12, loket 3", dt.date(2026, 11, 24))
        assert 0.2 <= time.monotonic() - started < 2
    finally:
        release(speaker.slots, held)
    assert not list(tmp_path.iterdir())


def hold_all(semaphore) -> int:
    held = 0
    while semaphore.acquire(blocking=False):
        held += 1
    return held


def release(semaphore, count: int) -> None:
    for _ in range(count):
        semaphore.release()


def test_without_espeak_the_board_only_chimes(tmp_path, caplog):
    speaker = Speaker(tmp_path, program="no-such-espeak-program")
    day = dt.date(2026, 11, 24)
    with caplog.at_level(logging.WARNING):
        assert speaker.wav("nl", "Nummer A 12, loket 3", day) is None
        assert speaker.wav("nl", "Nummer A 13, loket 3", day) is None
    assert caplog.text.count("does not speak") == 1  # said once, not on every call
    assert not list(tmp_path.iterdir())
