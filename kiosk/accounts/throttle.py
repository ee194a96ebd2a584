"""A brake on guessing passwords from one computer across many user names."""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginThrottle:
    """Failed logins per client address in this process: a brake on guessing across many
    user names, which the per-account lockout alone does not stop."""

    def __init__(self, limit: int = 30, window_s: float = 600, addresses: int = 10_000):
        self.limit, self.window_s, self.addresses = limit, window_s, addresses
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        """The address's failures within the window; kept only if there are any."""
        failures = self._failures.pop(address, deque())
        while failures and failures[0] < time.monotonic() - self.window_s:
            failures.popleft()
        if failures:
            self._failures[address] = failures
        return failures

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address)) >= self.limit

    def failed(self, address: str) -> None:
        with self._lock:
            if len(self._failures) >= self.addresses:  # many addresses: forget the stale ones
                for other in list(self._failures):
                    self._recent(other)
            self._failures[address] = self._recent(address)
            self._failures[address].append(time.monotonic())
