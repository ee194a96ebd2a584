"""The board in a real Chromium when change notices go missing or a request never answers."""

import pytest
from playwright.sync_api import expect

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
