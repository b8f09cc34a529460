"""Lambda's concurrency: the account's pool, reserved concurrency, and how fast a function may scale.

* A function with reserved concurrency R runs at most R invocations at once, and no other function can use
  them; past R it is throttled with ``ReservedFunctionConcurrentInvocationLimitExceeded``.
* Functions without a reservation share what the reservations leave of the account's concurrency; past it
  they are throttled with ``ConcurrentInvocationLimitExceeded``.
* A function adds at most ``lambda.scaling_environments`` execution environments per
  ``lambda.scaling_interval`` seconds (refilled continuously); an invocation that needs one more
  environment than the function has, and finds no token, is throttled the same way. Environments, once
  made, stay (AWS reclaims idle ones after minutes: not modelled).

Scaled counts are rounded down, but a reservation or pool that is not zero admits at least one.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from breakwater.local.aws_limits.buckets import Clock, TokenBucket
from breakwater.local.aws_limits.errors import ACCOUNT_EXCEEDED, RESERVED_EXCEEDED, lambda_throttled
from breakwater.local.aws_limits.observed import Observed
from breakwater.quotas import Limits

ACCOUNT = "account"


def slots(amount: float) -> int:
    """Whole concurrent executions for a scaled amount: rounded down, at least one unless it is zero."""
    if amount <= 0:
        return 0
    return max(1, math.floor(amount + 1e-9))


class LambdaConcurrency:
    """Counts invocations in flight per function and in the account's unreserved pool."""

    def __init__(self, limits: Limits, observed: Observed, clock: Clock, reservations: Callable[[], dict[str, int]]):
        self._limits = limits
        self._observed = observed
        self._clock = clock
        self.reservations = reservations  # function name -> reserved concurrency, as the backend holds them
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = defaultdict(int)
        self._environments: dict[str, int] = defaultdict(int)
        self._scaling: dict[str, TokenBucket] = {}

    def _scaling_bucket(self, name: str) -> TokenBucket:
        bucket = self._scaling.get(name)
        if bucket is None:
            size = self._limits.value("lambda.scaling_environments")
            bucket = self._scaling[name] = TokenBucket(
                size / self._limits.value("lambda.scaling_interval"), size, self._clock
            )
        return bucket

    def acquire(self, name: str) -> None:
        """Admit one invocation of function ``name``, or raise Lambda's throttle."""
        reservations = self.reservations()
        with self._lock:
            reserved = reservations.get(name)
            if reserved is not None:
                limit, reason = slots(self._limits.scaled(reserved)), RESERVED_EXCEEDED
                busy = self._in_flight[name]
            else:
                pool = self._limits.value("lambda.account_concurrency") - sum(
                    self._limits.scaled(r) for r in reservations.values()
                )
                limit, reason = slots(pool), ACCOUNT_EXCEEDED
                busy = sum(n for fn, n in self._in_flight.items() if fn not in reservations)
            if busy >= limit:
                self._throttled(reason, name)
            if self._in_flight[name] >= self._environments[name]:
                if not self._scaling_bucket(name).take(1):
                    self._throttled(ACCOUNT_EXCEEDED, name)
                self._environments[name] += 1
            self._in_flight[name] += 1
            total = sum(self._in_flight.values())
        self._observed.concurrency(name, self._in_flight[name])
        self._observed.concurrency(ACCOUNT, total)

    def prewarm(self, name: str, environments: int) -> None:
        """Count ``environments`` of function ``name`` as already made (a steady load, or provisioned concurrency)."""
        with self._lock:
            self._environments[name] = max(self._environments[name], environments)

    def _throttled(self, reason: str, name: str) -> None:
        self._observed.throttle("Lambda", "TooManyRequestsException", reason, name)
        raise lambda_throttled(reason)

    def release(self, name: str) -> None:
        with self._lock:
            self._in_flight[name] -= 1

    def in_flight(self, name: str | None = None) -> int:
        with self._lock:
            return sum(self._in_flight.values()) if name is None else self._in_flight[name]


def reservations_of(backend_for: Callable[[], Any]) -> Callable[[], dict[str, int]]:
    """Every function's reserved concurrency, read from moto's Lambda backends when asked."""

    def read() -> dict[str, int]:
        found: dict[str, int] = {}
        for fn in backend_for():
            reserved = getattr(fn, "reserved_concurrency", None)
            if reserved is not None:
                found[fn.function_name] = int(reserved)
        return found

    return read


def wrap_invoke(concurrency: LambdaConcurrency, original: Callable[..., Any]) -> Callable[..., Any]:
    """``LambdaFunction.invoke``, admitted by the concurrency limits first and counted while it runs."""

    def limited(self: Any, *args: Any, **kwargs: Any) -> Any:
        concurrency.acquire(self.function_name)
        try:
            return original(self, *args, **kwargs)
        finally:
            concurrency.release(self.function_name)

    return limited
