"""Brakes on guessing, in this process: failed sign-ins per client address (across user
names, which the delays per account and address alone do not stop), and national numbers
typed at this kiosk's keypad (a sweep would learn who is in the pickup register). A moving
window from the `limits` library, kept in memory: its entries expire by themselves."""

from __future__ import annotations

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

SIGN_IN_FAILURES = "30/10 minutes"  # per client address
TYPED_NUMBERS = "6/10 minutes"  # per kiosk: a citizen types theirs once, maybe twice


class Throttle:
    def __init__(self, rate: str):
        self.rate = limits.parse(rate)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def blocked(self, key: str) -> bool:
        """Whether `key` has had its share within the window."""
        return not self._limiter.test(self.rate, key)

    def count(self, key: str) -> None:
        self._limiter.hit(self.rate, key)
