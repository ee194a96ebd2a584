"""One ticket per confirmed screen, however often it is posted.

The session is a signed cookie: two posts of one page (a double tap) carry the same cookie,
so the session cannot say which came first. This kiosk's own process can: its screen only
ever talks to it (the card reader is here). The first post of a flow id issues; any other
waits for that outcome and answers with the same ticket.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Issued:
    ticket_id: int
    number: str
    print_failed: bool


@dataclass(frozen=True)
class Refused:
    code: str


class Claim:
    def __init__(self):
        self._done = threading.Event()
        self._outcome: Issued | Refused | None = None

    def wait(self, timeout: float) -> Issued | Refused | None:
        """The first post's outcome; None if it had none (e.g. the database failed) or is
        still running after `timeout`."""
        self._done.wait(timeout)
        return self._outcome


class OncePerFlow:
    KEEP = 100  # recent flows; a double tap comes within seconds

    def __init__(self):
        self._lock = threading.Lock()
        self._claims: OrderedDict[str, Claim] = OrderedDict()

    def get(self, flow_id: str | None) -> Claim | None:
        with self._lock:
            return self._claims.get(flow_id) if flow_id else None

    def claim(self, flow_id: str) -> tuple[Claim, bool]:
        """The flow's claim, and whether this caller made it (and so must settle it)."""
        with self._lock:
            if flow_id in self._claims:
                return self._claims[flow_id], False
            claim = self._claims[flow_id] = Claim()
            while len(self._claims) > self.KEEP:
                self._claims.popitem(last=False)
            return claim, True

    def settle(self, flow_id: str, claim: Claim, outcome: Issued | Refused | None) -> None:
        """Tell the waiting posts; without an outcome the flow may be posted again."""
        with self._lock:
            if outcome is None and self._claims.get(flow_id) is claim:
                del self._claims[flow_id]
        claim._outcome = outcome
        claim._done.set()
