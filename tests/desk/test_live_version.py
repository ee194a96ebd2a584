"""The queue version the live screens poll: ETag, 304, and a change within the cache's life."""

import threading

import pytest
from sqlalchemy.exc import OperationalError

from kiosk.live import VersionCache, VersionUnknown
from tests.desk.conftest import issue
from tests.netproxy import TcpProxy
from tests.system import wait_until

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
def test_unchanged_is_304_and_a_change_shows_at_once(app, client):
    first = client.get("/live/version")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]
    assert first.get_json() == {"version": 0} and "Set-Cookie" not in first.headers
    unchanged = client.get("/live/version", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""

    issue(app)
    changed = wait_until(
        lambda: (r := client.get("/live/version", headers={"If-None-Match": etag})).status_code == 200 and r,
        timeout=1,
        what="the new version",
    )
    assert changed.get_json()["version"] > 0 and changed.headers["ETag"] != etag
    assert client.head("/live/version").status_code == 200
    assert client.post("/live/version").status_code in (404, 405)  # only GET is answered


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_database_gone_is_503_and_back_is_200(database_url, app_config):
    from sqlalchemy.engine import make_url

    from kiosk import create_app
    from kiosk.storage import migrate

    target = make_url(database_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    app = create_app(
        {
            **app_config,
            "DATABASE_URL": target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        }
    )
    try:
        migrate(app.extensions["office"]["engine"])
        client = app.test_client()
        assert client.get("/live/version").status_code == 200
        proxy.cut()
        down = wait_until(
            lambda: (r := client.get("/live/version")).status_code == 503 and r,
            timeout=10,
            what="503 while the database is gone",
        )
        assert down.get_json()["error"] == "database_unavailable" and down.headers["Retry-After"]
        proxy.restore()
        wait_until(
            lambda: client.get("/live/version").status_code == 200,
            timeout=10,
            what="the version once the database is back",
        )
    finally:
        app.extensions["office"]["engine"].dispose()
        proxy.close()


class SlowQueue:
    """A queue whose version() waits for the test to let it answer, or fails."""

    def __init__(self):
        self.calls, self.answer, self.fail = 0, threading.Event(), False
        self.value = 7

    def version(self):
        self.calls += 1
        self.answer.wait(timeout=5)
        if self.fail:
            raise OperationalError("SELECT", {}, Exception("connection refused"))
        return self.value


def test_polls_never_queue_behind_a_slow_first_read():
    queue = SlowQueue()
    cache = VersionCache(queue, ttl_s=60)
    first = threading.Thread(target=cache.get)
    first.start()
    wait_until(lambda: queue.calls == 1, what="the first read under way")
    with pytest.raises(VersionUnknown):  # at once (503): waiting for the read would give 7
        cache.get()
    assert first.is_alive()  # the first read is still under way
    queue.answer.set()
    first.join()
    assert cache.get() == 7 and queue.calls == 1


def test_a_failed_read_is_an_outage_until_a_read_succeeds():
    queue = SlowQueue()
    queue.answer.set()
    cache = VersionCache(queue, ttl_s=1)
    assert cache.get() == 7
    queue.fail = True
    wait_until(lambda: _raises(cache.get, OperationalError), what="the failed read")
    calls = queue.calls
    with pytest.raises(VersionUnknown):  # not the last good version: the screens show offline
        cache.get()
    assert queue.calls == calls  # and the database is not asked again by every poll
    queue.fail, queue.value = False, 8
    wait_until(lambda: not _raises(cache.get, Exception) and cache.get() == 8, what="back after the outage")


def _raises(call, kind) -> bool:
    try:
        call()
    except kind:
        return True
    return False
