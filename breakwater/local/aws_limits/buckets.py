"""Token buckets: how AWS meters a rate with a burst, on an injected clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """``capacity`` tokens at most, refilled continuously at ``rate`` per second; starts full.

    ``take`` is all or nothing (a request is admitted whole or throttled); ``reserve`` always admits and says
    how long the caller must wait for its tokens (Step Functions delays a STANDARD state transition when
    its bucket is empty, it does not fail it).
    """

    def __init__(self, rate: float, capacity: float, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError(f"a token bucket needs a positive rate and capacity, not {rate} and {capacity}")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        if now > self._at:
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
            self._at = now

    def take(self, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens if there are that many; False (and nothing taken) if not."""
        with self._lock:
            self._refill()
            # A request larger than the whole bucket is admitted from a full bucket (it goes into debt).
            if self._tokens >= min(amount, self.capacity):
                self._tokens -= amount
                return True
            return False

    def give(self, amount: float) -> None:
        """Return or charge tokens after the fact (a write whose item turned out larger than estimated)."""
        with self._lock:
            self._refill()
            self._tokens = min(self.capacity, self._tokens + amount)

    def reserve(self, amount: float = 1.0) -> float:
        """Take ``amount`` tokens now, going into debt if need be; the seconds to wait until the debt is paid."""
        with self._lock:
            self._refill()
            self._tokens -= amount
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    @property
    def tokens(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens
