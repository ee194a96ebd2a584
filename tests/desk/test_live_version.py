"""The queue version the live screens poll: ETag, 304, and a change within the cache's life."""
import pytest

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
        timeout=1, what="the new version")
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
    app = create_app({**app_config, "DATABASE_URL": target.set(host="127.0.0.1", port=proxy.port)
                      .render_as_string(hide_password=False)})
    try:
        migrate(app.extensions["office"]["engine"])
        client = app.test_client()
        assert client.get("/live/version").status_code == 200
        proxy.cut()
        down = wait_until(lambda: (r := client.get("/live/version")).status_code == 503 and r,
                          timeout=10, what="503 while the database is gone")
        assert down.get_json()["error"] == "database_unavailable" and down.headers["Retry-After"]
        proxy.restore()
        wait_until(lambda: client.get("/live/version").status_code == 200, timeout=10,
                   what="the version once the database is back")
    finally:
        app.extensions["office"]["engine"].dispose()
        proxy.close()
