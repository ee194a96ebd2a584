"""The board in a real Chromium: when change notices go missing or a request never answers, and
its sound (a chime, then each call spoken in every language) under the page's own policy."""

import contextlib

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.conftest import bearer
from tests.live import CHROMIUM_ARGS
from tests.system import require_debian_packages

REQUEST_TIMEOUT_MS = 3000  # static/live.js: no request is waited for longer

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def board(browser, live_server):
    """The hall board, silent, with its clock under the test's control."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.clock.install()  # time runs on, and a test may move it forward
    page.goto(live_server.url + "/board/?speak=none")
    expect(page.locator("#waiting [data-service=pickup] .count")).to_have_text("0")  # first look done
    yield page
    context.close()  # before the server stops: no poll outlives the test


def call_next(app, counter: int) -> str:
    queue = app.extensions["office"]["queue"]
    queue.issue("pickup", language="nl")
    return queue.call_next(counter).number


def test_a_missed_change_notice_still_reaches_the_board(app, board):
    # Every version poll now says "unchanged": the call below is never notified.
    board.context.route("**/live/version", lambda route: route.fulfill(status=304))
    assert call_next(app, 1) == "A001"
    board.clock.run_for(11_000)  # past the screens' ten-second refresh
    expect(board.locator("#now-number")).to_have_text("A001")
    expect(board.locator("#now-counter")).to_have_text("Loket 1")
    expect(board.locator("#offline")).to_be_hidden()


def test_a_queue_request_that_never_answers_is_given_up_and_asked_again(app, board):
    # Real time here: jumping the clock would also cut short the polls that do answer.
    board.context.route("**/api/queue", lambda route: None)  # held, never answered
    with board.expect_request("**/api/queue"):
        call_next(app, 1)  # the version moves: the board asks for the queue
    with board.expect_request("**/api/queue", timeout=REQUEST_TIMEOUT_MS + 3000):
        pass  # the held request was given up and the board asks again
    expect(board.locator("#now-number")).not_to_have_text("A001")

    board.context.unroute("**/api/queue")  # the server answers again
    expect(board.locator("#now-number")).to_have_text("A001", timeout=REQUEST_TIMEOUT_MS + 3000)
    expect(board.locator("#offline")).to_be_hidden()


AUTOPLAY = "--autoplay-policy=no-user-gesture-required"  # as the hall's kiosk browser is started
# Before the board's own script: each sound as it starts and ends (its path), and every
# Content-Security-Policy refusal. An Audio element outside the page reports its refusals to
# the document, and media events do not bubble, so play() itself is followed. Played four times
# as fast: what is checked is that each sound plays, and in which order, not how long it lasts.
HEAR = """
window.heard = { sounds: [], refused: [] };
document.addEventListener("securitypolicyviolation", (event) => {
  window.heard.refused.push(`${event.effectiveDirective} ${event.blockedURI}`);
}, true);
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  const path = () => new URL(this.currentSrc).pathname;
  this.addEventListener("playing", () => window.heard.sounds.push(`playing ${path()}`), { once: true });
  this.addEventListener("ended", () => window.heard.sounds.push(`ended ${path()}`), { once: true });
  this.playbackRate = 4;
  return play.call(this);
};
"""


@pytest.fixture
def loud_board(launch_browser, live_server):
    """The hall board with its sound on, in a Chromium started as the hall's."""
    browser = launch_browser(args=[*CHROMIUM_ARGS, AUTOPLAY])
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    context.add_init_script(HEAR)
    page = context.new_page()
    page.goto(live_server.url + "/board/")
    expect(page.locator("#waiting [data-service=pickup] .count")).to_have_text("0")  # first look done
    yield page
    context.close()  # before the server stops: no poll outlives the test
    browser.close()


def test_each_call_chimes_then_is_spoken_in_every_language_in_turn(app, live_server, loud_board, tokens):
    require_debian_packages("espeak-ng")
    languages = app.extensions["office"]["site"].languages
    assert len(languages) == 6  # more than the server makes at once
    queue = app.extensions["office"]["queue"]
    queue.issue("pickup", language="nl")
    queue.issue("pickup", language="nl")
    answers: list[int] = []  # to the board's requests for spoken calls
    loud_board.on("response", lambda r: answers.append(r.status) if "/board/speech/" in r.url else None)
    for counter in (1, 2):  # two calls close together, from two desks
        response = loud_board.request.post(
            f"{live_server.url}/api/counters/{counter}/call-next", headers=bearer(tokens["desk"])
        )
        assert response.status == 200

    sounds = [
        path
        for number, counter in (("A001", 1), ("A002", 2))
        for path in ["/board/chime.wav", *(f"/board/speech/{lang}/{number}-{counter}.wav" for lang in languages)]
    ]
    done = "(count) => heard.refused.length > 0 || heard.sounds.length >= count"
    with contextlib.suppress(PlaywrightTimeoutError):  # what was heard by then is shown below
        loud_board.wait_for_function(done, arg=2 * len(sounds), timeout=30_000)
    heard = loud_board.evaluate("heard")
    assert heard["refused"] == []
    assert heard["sounds"] == [f"{event} {path}" for path in sounds for event in ("playing", "ended")]
    # Every one answered with its sound, none refused as busy (206: the part the player asks for).
    assert answers and set(answers) <= {200, 206}
