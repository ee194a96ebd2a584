"""Audio guidance for a citizen who cannot see the screen, in a real Chromium with real
espeak-ng: started with a keypad key, a long press or new headphones; every screen read in the
chosen language and moved through with the keys to a ticket read aloud; the idle warning heard
and more time given with a key."""

from __future__ import annotations

import io
import re
import wave

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from kiosk.citizen import speech
from kiosk.citizen.speech import MAX_TEXT_CHARS, KioskVoice
from kiosk.demo import demo_pickups_csv
from kiosk.extensions import office
from kiosk.pickups import import_pickups
from kiosk.server import LISTENER, OFFICE
from tests.live import CHROMIUM_ARGS, axe_violations
from tests.system import require_debian_packages

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
browser = pytest.mark.browser

AUTOPLAY = "--autoplay-policy=no-user-gesture-required"  # as the kiosk's browser is started (deploy/)
# Before the page's own scripts: every sound the page plays (its text and language, the volume,
# whether it started and ended) and every Content-Security-Policy refusal. Played four times as
# fast: what is checked is what is said and that it plays to the end, not how long it lasts.
HEAR = """
window.heard = { sounds: [], refused: [] };
document.addEventListener("securitypolicyviolation", (event) => {
  window.heard.refused.push(`${event.effectiveDirective} ${event.blockedURI}`);
}, true);
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  const src = this.src, url = new URL(src);
  const voice = url.pathname.match(/\\/speech\\/(\\w+)\\.wav$/);
  const sound = { path: url.pathname, lang: voice ? voice[1] : null, text: url.searchParams.get("text"),
                  volume: this.volume, events: [] };
  window.heard.sounds.push(sound);
  // capturing: before the page's own listener moves on to its next sound
  for (const type of ["playing", "ended"]) {
    this.addEventListener(type, () => {
      if (this.src === src && !sound.events.includes(type)) sound.events.push(type);
    }, true);
  }
  this.playbackRate = 4;
  return play.call(this);
};
"""
SPOKEN_MS = 20_000  # a screen's texts, made one by one and played at four times the speed


def words(*texts: str) -> str:
    """Texts as the guidance speaks them (static/kiosk_speech.js: sentences): each line a
    sentence, the dots between figures a pause."""
    parts = [" ".join(re.sub(r"\s*[·•|]\s*", ", ", line).split()) for text in texts for line in text.split("\n")]
    parts = [part for part in parts if part]
    return " ".join(p if i == len(parts) - 1 or p[-1] in ".!?:;," else f"{p}." for i, p in enumerate(parts))


def say(app, locale: str, message: str, **values) -> str:
    """One of the guidance's phrases as the page renders it in `locale`."""
    with app.test_request_context(), force_locale(locale):
        return words(gettext(message, **values))


KEYS = (
    "Audio guidance is on. Press the down and up arrows to move through the screen, Enter to choose, Back to go"
    " to the previous screen, star to hear it again, plus and minus to make it louder or softer, and slash to"
    " hear these keys again."
)
HINT = "Press the down arrow to hear the choices."


def choice(app, language: str, text: str, number: int, count: int, ticked: bool | None = None) -> str:
    state = [] if ticked is None else [say(app, language, "Ticked." if ticked else "Not ticked.")]
    position = say(app, language, "Choice %(number)s of %(count)s.", number=number, count=count)
    return words(text, *state, position)


def heard(page) -> list[tuple[str | None, str | None]]:
    """(language, text) of every sound this screen played to its end, in order."""
    return [(s["lang"], s["text"]) for s in page.evaluate("heard.sounds") if "ended" in s["events"]]


def hear(page, text: str, timeout: float = SPOKEN_MS) -> None:
    """Wait until `text` has been spoken to its end on this screen."""
    try:
        page.wait_for_function(
            "(text) => heard.sounds.some((s) => s.text === text && s.events.includes('ended'))",
            arg=text,
            timeout=timeout,
        )
    except PlaywrightTimeoutError:
        raise AssertionError(f"{text!r} not heard on {page.url}; the sounds: {page.evaluate('heard.sounds')}") from None


def texts(page) -> list[str | None]:
    return [text for _lang, text in heard(page)]


def accessible(page):
    violations = axe_violations(page)
    assert violations == [], f"{page.url}: {violations}"


@pytest.fixture
def loud_browser(launch_browser):
    require_debian_packages("espeak-ng")
    browser = launch_browser(args=[*CHROMIUM_ARGS, AUTOPLAY])
    yield browser
    browser.close()


@pytest.fixture
def speaking_kiosk(loud_browser, live_server, reader):
    """The kiosk's browser with sound, its sounds followed, and every answer for speech kept."""
    context = loud_browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True, locale="nl-BE")
    context.add_init_script(HEAR)
    page = context.new_page()
    page.answers = []
    page.on("response", lambda r: page.answers.append(r) if "/kiosk/speech/" in r.url else None)
    page.base = live_server.url
    yield page
    context.close()  # before the server stops: no poll outlives the test


def assert_spoken_as_wav(page):
    """Every answer for speech was a WAV with a body (those of this screen, still at hand, a
    whole one), and nothing was refused by the page's policy."""
    assert page.answers
    for answer in page.answers:
        assert answer.status == 200 and answer.headers["content-type"] == "audio/wav", answer.url
        assert int(answer.headers["content-length"]) > 44, answer.url  # more than a WAV header
    for answer in page.answers[-3:]:
        with wave.open(io.BytesIO(answer.body())) as audio:
            assert audio.getnframes() > 0 and audio.getnframes() / audio.getframerate() < 60
    assert page.evaluate("heard.refused") == []


@pytest.fixture
def register(app):
    with app.app_context():
        today = office.queue.today()
        import_pickups(office.engine, demo_pickups_csv(today), today, office.clock())


# --- the sound addresses, on the kiosk's own listener only ----------------------------------


def read_wav(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as audio:
        assert audio.getnchannels() == 1
        return audio.getnframes() / audio.getframerate()


@sqlite_only
def test_a_text_is_spoken_offline_as_a_wav_of_its_own_length(client, monkeypatch):
    require_debian_packages("espeak-ng")
    response = client.get("/kiosk/speech/ar.wav", query_string={"text": "رقمك هو A 1."})
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert 0.5 < read_wav(response.data) < 5  # the header gives the real length, not espeak-ng's 2 GB
    assert response.content_length == len(response.data)
    # Kept in memory: said again without espeak-ng; a new text needs it.
    monkeypatch.setattr(speech.voice.espeak, "program", "no-such-espeak-program")
    assert client.get("/kiosk/speech/ar.wav", query_string={"text": "رقمك هو A 1."}).data == response.data
    missing = client.get("/kiosk/speech/ar.wav", query_string={"text": "A 2"}, headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["message"] == "Speech is not available on this kiosk."


@pytest.mark.parametrize(
    ("path", "text", "status"),
    [
        ("/kiosk/speech/xx.wav", "Hallo", 404),  # not a language of the site
        ("/kiosk/speech/nl.wav", "", 400),
        ("/kiosk/speech/nl.wav", " \n\t ", 400),
        ("/kiosk/speech/nl.wav", "a" * (MAX_TEXT_CHARS + 1), 400),
    ],
)
@sqlite_only
def test_only_bounded_texts_in_the_sites_languages_are_spoken(client, path, text, status):
    response = client.get(path, query_string={"text": text}, headers={"Accept": "application/json"})
    assert response.status_code == status and response.is_json


@sqlite_only
def test_speech_is_for_the_kiosk_pcs_own_browser_only(app):
    from_the_office = app.test_client()
    from_the_office.environ_base[LISTENER] = OFFICE
    for path in ("/kiosk/speech/nl.wav?text=Hallo", "/kiosk/alert.wav"):
        assert from_the_office.get(path).status_code == 404
    assert app.test_client().get("/kiosk/alert.wav").status_code == 200


@sqlite_only
def test_the_idle_warnings_sound_is_short(client):
    response = client.get("/kiosk/alert.wav")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert 0.3 < read_wav(response.data) < 1.5


def test_only_the_latest_sounds_are_kept():
    require_debian_packages("espeak-ng")
    voice = KioskVoice(sounds=2)
    for text in ("een", "twee", "drie"):
        assert voice.wav("nl", text) is not None
    voice.espeak.program = "no-such-espeak-program"
    assert voice.wav("nl", "drie") is not None and voice.wav("nl", "twee") is not None
    assert voice.wav("nl", "een") is None  # the oldest went first


# --- the guidance in the kiosk's browser ----------------------------------------------------


@sqlite_only
@browser
def test_a_keypad_key_starts_the_guidance_which_speaks_every_language_before_one_is_chosen(
    app, speaking_kiosk, register
):
    page = speaking_kiosk
    page.goto(page.base + "/kiosk/")
    expect(page.locator(".speech-on")).to_be_hidden()
    page.keyboard.press("ArrowDown")  # the first key starts it, and only that
    expect(page.locator(".speech-on")).to_be_visible()
    languages = app.extensions["office"]["site"].languages
    names = {code: page.locator(f".language-choices a[lang={code}]").inner_text() for code in languages}
    intros = [
        (code, say(app, code, "%(language)s: press the down arrow to choose your language.", language=names[code]))
        for code in languages
    ]
    hear(page, intros[-1][1])
    assert heard(page) == intros  # each in its own language, its own voice
    accessible(page)

    for _ in range(languages.index("en") + 1):
        page.keyboard.press("ArrowDown")
    english = say(app, "en", "%(language)s. Press Enter to continue in this language.", language="English")
    hear(page, english)
    expect(page.locator(".language-choices a[lang=en]")).to_have_class(re.compile(r"\bspeech-focus\b"))
    assert heard(page)[-1] == ("en", english)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/kiosk/visit\?lang=en$"))
    expect(page.locator(".speech-on")).to_be_visible()  # still on, on the next screen
    hear(page, HINT)
    assert texts(page) == [KEYS, "What brings you here?", HINT]  # the keys told once, in English
    assert_spoken_as_wav(page)


@sqlite_only
@browser
def test_the_keys_lead_through_a_pickup_to_a_ticket_read_aloud(app, speaking_kiosk, reader, register):
    page = speaking_kiosk
    page.goto(page.base + "/kiosk/visit?lang=en")
    page.keyboard.press("Numpad5")  # a numeric keypad's middle key: starts it
    hear(page, HINT)
    assert texts(page) == [KEYS, "What brings you here?", HINT]
    visits = [words(link.inner_text()) for link in page.locator("main .choice").all()]
    count = len(visits) + 1  # and "Back" (to the start)
    page.keyboard.press("Numpad2")
    first = choice(app, "en", visits[0], 1, count)
    hear(page, first)
    expect(page.locator(".visit-pickup")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/kiosk/identify\?visit=pickup$"))
    hear(page, HINT)
    assert texts(page) == [
        "Insert your residence card",
        "Put your card in the reader below the screen, chip first.",
        HINT,
    ]  # the keys are not told again
    accessible(page)
    reader.insert("adult-f-plus")

    expect(page).to_have_url(re.compile(r"/kiosk/check$"))
    hear(page, HINT)
    card_type = (
        say(app, "en", "Card type %(type)s", type="F+") + " (family member of a citizen of the EU, permanent stay)"
    )
    assert texts(page) == [
        words(page.locator("h1").inner_text()),
        card_type,
        "Your new card is ready for you.",
        "Please have with you (tap what you have):",
        HINT,
    ]
    holder = page.locator(".card-line").inner_text().split("·")[1].split()
    assert not any(name in text for text in texts(page) for name in holder)  # never the holder's name
    boxes = [words(label.inner_text()) for label in page.locator(".check-item").all()]
    controls = len(boxes) + 3  # "Take a ticket", "Back" and "Start again"
    for number, box in enumerate(boxes, start=1):
        page.keyboard.press("ArrowDown")
        hear(page, choice(app, "en", box, number, controls, ticked=False))
        page.keyboard.press("Enter")
        hear(page, choice(app, "en", box, number, controls, ticked=True))
    expect(page.locator(".check-item input:checked")).to_have_count(len(boxes))
    page.keyboard.press("ArrowDown")
    hear(page, choice(app, "en", "Take a ticket", len(boxes) + 1, controls))
    accessible(page)  # with the focus ring on
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/kiosk/ticket$"))
    assert page.locator(".ticket-number").inner_text() == "A001"
    place = words(page.locator("main .lead").inner_text())
    assert re.match(r"^0 people ahead of you, about \d+ minutes?$", place)
    hear(page, place)
    assert "Your number is A 1." in texts(page)
    assert texts(page).index("Your number is A 1.") < texts(page).index(place)
    accessible(page)
    assert_spoken_as_wav(page)
    assert all(lang == "en" for lang, _text in heard(page))


@sqlite_only
@browser
def test_a_long_press_anywhere_starts_the_guidance_without_pressing_what_is_under_the_finger(app, speaking_kiosk):
    page = speaking_kiosk
    page.goto(page.base + "/kiosk/visit?lang=en")
    box = page.locator(".visit-pickup").bounding_box()
    touch = page.context.new_cdp_session(page)
    point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    expect(page.locator(".speech-on")).to_be_visible(timeout=5000)  # after two seconds held
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    hear(page, HINT)
    assert texts(page) == [KEYS, "What brings you here?", HINT]
    page.keyboard.press("ArrowDown")  # still the same screen: the press chose nothing
    hear(page, choice(app, "en", page.locator(".visit-pickup").inner_text(), 1, 6))
    assert page.url.endswith("/kiosk/visit?lang=en")

    page.locator(".visit-activation").tap()  # a short tap still chooses, as always
    expect(page).to_have_url(re.compile(r"/kiosk/identify\?visit=activation$"))


@sqlite_only
@browser
def test_headphones_plugged_in_start_the_guidance(speaking_kiosk):
    # No sound card on the test machine: the browser's report of a new audio output is
    # played here as Chromium makes it (an enumerateDevices list that grows, then devicechange).
    page = speaking_kiosk
    page.add_init_script(
        """
        window.outputs = [{ kind: "audiooutput", deviceId: "default", label: "", groupId: "" }];
        navigator.mediaDevices.enumerateDevices = async () => window.outputs.map((d) => ({ ...d }));
        """
    )
    page.goto(page.base + "/kiosk/visit?lang=en")
    page.evaluate("navigator.mediaDevices.enumerateDevices()")  # the page's first look is done by then
    page.evaluate("navigator.mediaDevices.dispatchEvent(new Event('devicechange'))")  # nothing new yet
    page.evaluate(
        """() => {
        window.outputs.push({ kind: "audiooutput", deviceId: "usb-headset", label: "", groupId: "g" });
        navigator.mediaDevices.dispatchEvent(new Event("devicechange"));
    }"""
    )
    expect(page.locator(".speech-on")).to_be_visible()
    hear(page, HINT)
    assert texts(page) == [KEYS, "What brings you here?", HINT]


@sqlite_only
@browser
def test_the_idle_warning_is_heard_and_enter_gives_more_time(app, speaking_kiosk):
    page = speaking_kiosk
    idle = app.extensions["office"]["site"].kiosk.idle_seconds
    page.clock.install()  # time runs on, and the test moves it forward
    page.goto(page.base + "/kiosk/visit?lang=en")
    page.keyboard.press("ArrowDown")
    hear(page, HINT)
    page.clock.run_for((idle - 15 + 1) * 1000)  # past the warning, counted from the end of the speech
    dialog = page.locator(".idle-warning")
    expect(dialog).to_be_visible()
    warning = "Press Enter if you need more time."
    hear(page, warning)
    sounds = page.evaluate("heard.sounds")
    at = next(i for i, s in enumerate(sounds) if s["path"] == "/kiosk/alert.wav")
    assert "ended" in sounds[at]["events"]  # a sound first, then the words
    assert [s["text"] for s in sounds[at + 1 :] if "ended" in s["events"]] == [
        "Are you still there?",
        "For your privacy this screen goes back to the start in a few seconds.",
        warning,
    ]
    accessible(page)
    page.keyboard.press("ArrowDown")  # only the warning counts now: it is said again
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    hear(page, "You have more time.")
    page.clock.run_for((idle - 15 - 1) * 1000)
    expect(dialog).to_be_hidden()
    assert page.url.endswith("/kiosk/visit?lang=en")  # not sent back to the start


@sqlite_only
@browser
def test_louder_and_softer_change_the_volume_within_its_range(speaking_kiosk):
    page = speaking_kiosk
    page.goto(page.base + "/kiosk/visit?lang=en")
    page.keyboard.press("Enter")
    hear(page, HINT)
    for key in ("NumpadAdd", "+", "AudioVolumeUp", "+"):
        page.keyboard.press(key)
    hear(page, "This is the loudest.")
    page.keyboard.press("NumpadSubtract")
    hear(page, "Softer.")
    volumes = {s["text"]: s["volume"] for s in page.evaluate("heard.sounds") if s["text"]}
    assert volumes["What brings you here?"] == pytest.approx(0.7)
    assert volumes["This is the loudest."] == pytest.approx(1.0)
    assert volumes["Softer."] == pytest.approx(0.9)
    page.keyboard.press("Numpad2")  # the next screen's sounds keep the citizen's volume
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/kiosk/identify"))
    hear(page, HINT)
    volumes = [s["volume"] for s in page.evaluate("heard.sounds")]
    assert volumes == pytest.approx([0.9] * len(volumes))


@sqlite_only
@browser
def test_back_goes_to_the_previous_screen_and_star_says_it_again(speaking_kiosk):
    page = speaking_kiosk
    page.goto(page.base + "/kiosk/visit?lang=en")
    page.keyboard.press("ArrowDown")
    hear(page, HINT)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/kiosk/identify\?visit=pickup$"))
    hear(page, HINT)
    page.keyboard.press("NumpadMultiply")
    page.wait_for_function("() => heard.sounds.filter((s) => s.text === 'Insert your residence card').length === 2")
    page.keyboard.press("Backspace")
    expect(page).to_have_url(re.compile(r"/kiosk/visit$"))  # the screen's Back button
    hear(page, HINT)
    assert texts(page) == ["What brings you here?", HINT]


@sqlite_only
@browser
def test_the_guidance_ends_with_the_visit_but_not_with_start_again(app, speaking_kiosk):
    page = speaking_kiosk
    idle = app.extensions["office"]["site"].kiosk.idle_seconds
    page.clock.install()
    page.goto(page.base + "/kiosk/visit?lang=en")
    page.keyboard.press("ArrowDown")
    hear(page, HINT)
    page.keyboard.press("ArrowUp")  # from the top, round to the last choice
    hear(page, "Back. Choice 6 of 6.")  # the visit screen's way back is to the start
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator(".speech-on")).to_be_visible()
    hear(page, page.locator("[data-speech-intro]").first.inner_text())

    page.goto(page.base + "/kiosk/visit?lang=en")
    hear(page, HINT)
    page.clock.run_for((idle + 1) * 1000)  # nobody there any more: the idle reset
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator(".speech-on")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('speech')") is None
