"""Two desks pressing Call next at the same moment get different tickets: two signed-in
clerks, a real waitress server, both requests released together by a barrier."""

import http.cookiejar
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

from sqlalchemy import select

from kiosk.schema import ticket_events
from tests.desk.conftest import PASSWORD, issue

ROUNDS = 12


class Desk:
    def __init__(self, base_url: str, username: str):
        self.base_url = base_url
        cookies = urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        self.opener = urllib.request.build_opener(cookies)
        form = {"username": username, "password": PASSWORD, "csrf_token": self._csrf()}
        self.opener.open(base_url + "/login", urllib.parse.urlencode(form).encode(), timeout=10).read()
        self.csrf = self._csrf()

    def _csrf(self) -> str:
        html = self.opener.open(self.base_url + "/login", timeout=10).read().decode()
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def call_next(self, counter: int) -> dict | None:
        request = urllib.request.Request(
            f"{self.base_url}/api/counters/{counter}/call-next",
            method="POST",
            headers={"X-CSRFToken": self.csrf, "Accept": "application/json"},
        )
        with self.opener.open(request, timeout=30) as response:
            return json.loads(response.read()) if response.status == 200 else None


def test_two_desks_calling_at_once_get_different_tickets(app, live_server, staff):
    desks = [Desk(live_server.url, "clerk"), Desk(live_server.url, "supervisor")]
    for round_ in range(ROUNDS):
        waiting = 2 if round_ % 2 == 0 else 1
        for _ in range(waiting):
            issue(app)
        start = threading.Barrier(2)
        results, errors = [None, None], []

        def press(i, start=start, results=results, errors=errors):
            try:
                start.wait()
                results[i] = desks[i].call_next(counter=i + 1)
            except (urllib.error.URLError, OSError) as exc:  # collected: a thread's error would vanish
                errors.append(exc)

        threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        called = [r["id"] for r in results if r is not None]
        assert len(called) == waiting and len(set(called)) == waiting, (round_, results)

    with app.extensions["office"]["engine"].connect() as conn:
        calls = Counter(
            conn.execute(select(ticket_events.c.ticket_id).where(ticket_events.c.kind == "called")).scalars()
        )
    assert len(calls) == ROUNDS // 2 * 3 and set(calls.values()) == {1}  # every ticket called once
