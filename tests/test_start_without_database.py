"""`kiosk serve` starts while the database is away: the kiosk shows that it is out of service,
and the server migrates the schema itself as soon as the database answers."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kiosk.site import DEMO_PROFILE
from kiosk.storage import make_engine, schema_is_current
from tests.netproxy import TcpProxy
from tests.system import free_port, stop_group, wait_until
from tests.test_trust_boundary import KIOSK, Served, request

ISSUE = {"Content-Type": "application/json"}


@contextlib.contextmanager
def serve_without_init_db(tmp: Path, database_url: str):
    """`kiosk serve` on two free ports, with no `kiosk init-db` before it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(KIOSK_SITE=str(DEMO_PROFILE), KIOSK_DATA_DIR=str(tmp / "data"), KIOSK_DATABASE_URL=database_url)
    served = Served(free_port(), free_port(), "", tmp / "serve.log")
    args = ["serve", "--host", "127.0.0.1", "--port", str(served.office), "--kiosk-port", str(served.kiosk)]
    with open(served.log, "w") as log:
        process = subprocess.Popen(
            [*KIOSK, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:

        def answers():
            assert process.poll() is None, served.log.read_text()
            with contextlib.suppress(OSError):
                return request(served.office_url + "/kiosk/health")
            return None

        wait_until(answers, timeout=60, interval=0.05, what="kiosk serve to answer")
        yield served
    finally:
        stop_group(process)


def issued(served: Served) -> bool:
    status, body = request(served.kiosk_url + "/api/tickets", "POST", ISSUE, b'{"service": "pickup"}')
    assert status in (201, 503), (status, body)
    return status == 201


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_serve_starts_while_the_database_is_away_and_migrates_once_it_is_back(database_url, tmp_path):
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        proxy.cut()
        through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with serve_without_init_db(tmp_path, through_proxy) as served:
            health = json.loads(request(served.office_url + "/kiosk/health")[1])
            assert health["in_service"] is False and "database" in health["reasons"], health
            status, page = request(served.kiosk_url + "/kiosk/")
            assert status == 503 and "This kiosk is out of service" in page
            assert not issued(served)

            proxy.restore()
            wait_until(
                lambda: request(served.kiosk_url + "/kiosk/")[0] == 200, timeout=60, interval=0.1, what="the kiosk"
            )
            assert issued(served)
            log = served.log.read_text()
        warnings = [line for line in log.splitlines() if "cannot be migrated yet" in line]
        assert warnings and len(set(warnings)) == len(warnings), log  # each kind of failure once
        assert all("WARNING" in line and "OperationalError" in line for line in warnings), warnings
        assert "database migrated to the newest schema" in log
    finally:
        proxy.close()
    engine = make_engine(database_url)
    try:
        assert schema_is_current(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_migrates_a_new_database_itself(database_url, tmp_path):
    with serve_without_init_db(tmp_path, database_url) as served:
        assert request(served.kiosk_url + "/kiosk/")[0] == 200
        assert issued(served)
    engine = make_engine(database_url)
    try:
        assert schema_is_current(engine)
    finally:
        engine.dispose()


def test_the_unit_leaves_migrating_to_serve():
    unit = (Path(__file__).resolve().parent.parent / "deploy/systemd/snelbalie.service").read_text()
    assert "ExecStartPre" not in unit and "kiosk init-db" not in unit
    assert "kiosk serve" in unit
