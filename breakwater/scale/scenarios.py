"""What ``make scale`` plays: modelled volumes, each through the same outage script.

A volume models R orders/s on each of N breaker keys. It runs here at ``LOCAL_RATE`` orders/s in all, with
AWS's limits divided by K = R x N / ``LOCAL_RATE`` (``breakwater.local.aws_limits``). Latencies and timeouts are
kept, so calls in flight (rate x latency) scale with the rate as the limits do.

Settings follow the sizing rules of docs/SCALING.md for the volume, as a team running it would set them:
the payment bulkhead (``PaymentConcurrency``) is the rate times ``BULKHEAD_SECONDS`` (a call's p99 duration with
room to spare), and Lambda's account concurrency is raised where the bulkhead would not fit under the default
(a quota a team at that volume must raise; the report says which).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

LOCAL_RATE = 10.0  # orders/s this machine plays every volume at: a third of what the engine sustains on 2 cores
PROVIDER_LATENCY_S = 0.25  # the healthy provider answers after this long (a card payment API's typical p50)
CALL_TIMEOUT_S = 10  # the template's default CallTimeoutSeconds
LAMBDA_HEADROOM = 300  # account concurrency left beside the bulkhead for the other functions, when raised
# A call's duration here at the 99th percentile is about 0.8 s (the provider's 0.25 s, the function, the engine
# on a busy machine); the bulkhead admits a second's worth of calls.
BULKHEAD_SECONDS = 1.0


@dataclass(frozen=True)
class Phase:
    """One stretch of the script: what the provider does, for how long (orders keep arriving at the rate)."""

    name: str
    provider: str  # healthy | down (503 at once) | hang (no answer before the call timeout)
    seconds: float


# Long enough for each phase to show what it shows: a trip needs the threshold's failures (at once when the
# provider answers 503; CallTimeoutSeconds later when it hangs); a recovery needs the 30 s cooldown, then probes.
SCRIPT: tuple[Phase, ...] = (
    Phase("healthy", "healthy", 12.0),
    Phase("503 outage", "down", 10.0),
    Phase("recovery", "healthy", 38.0),
    Phase("hanging outage", "hang", 14.0),
    Phase("recovery after hang", "healthy", 40.0),
)


@dataclass(frozen=True)
class Volume:
    """A modelled load: ``rate`` orders/s on each of ``keys`` breakers, and the settings it runs with."""

    name: str
    rate: float
    keys: int = 1
    workflow_type: str = "EXPRESS"
    bulkhead: bool = True  # PaymentConcurrency sized for the volume; False: no reservation at all
    quotas: dict[str, float] = field(default_factory=dict)  # raised AWS quotas (modelled values, before scaling)
    script: tuple[Phase, ...] = SCRIPT
    replay_concurrency: int = 2  # the replay mapping's MaximumConcurrency (the template's default)
    note: str = ""

    @property
    def total_rate(self) -> float:
        return self.rate * self.keys

    @property
    def scale(self) -> float:
        return self.total_rate / LOCAL_RATE

    @property
    def payment_concurrency(self) -> int:
        """The bulkhead for this volume: a second's worth of calls (0: none)."""
        return math.ceil(self.total_rate * BULKHEAD_SECONDS) if self.bulkhead else 0

    def account_concurrency(self) -> float:
        """Lambda's account concurrency the run models: the default, or raised so the bulkhead fits beside the rest."""
        needed = self.payment_concurrency + LAMBDA_HEADROOM
        return max(1000.0, needed)

    def overrides(self) -> dict[str, float]:
        raised = {"lambda.account_concurrency": self.account_concurrency()}
        return {**{k: v for k, v in raised.items() if v != 1000.0}, **self.quotas}

    def template_parameters(self) -> dict[str, Any]:
        return {
            "WorkflowType": self.workflow_type,
            "PaymentConcurrency": self.payment_concurrency,
            "ReplayConcurrency": self.replay_concurrency,
            "CallTimeoutSeconds": CALL_TIMEOUT_S,
        }

    def service(self, number: int) -> str:
        """The breaker key of order ``number``."""
        return "payment-api" if self.keys == 1 else f"payment-api-{number % self.keys}"

    def order(self, number: int) -> dict[str, Any]:
        order: dict[str, Any] = {
            "orderId": f"{self.name}-{number:06d}",
            "amount": 1000 + number % 5000,
            "currency": "USD",
            "customerId": f"cus_{number % 997:04d}",
        }
        if self.keys > 1:
            order["serviceName"] = self.service(number)
        return order


# Express StartExecution's default bucket refills 6,000/s: past it the account's starts bind before anything of
# Breakwater's, so the volumes above it model a team that raised it (the report lists raised quotas).
RAISED_EXPRESS_STARTS = {"stepfunctions.express_start_refill": 12000.0, "stepfunctions.express_start_bucket": 12000.0}
# Without a bulkhead only the hang matters: healthy, then the provider hangs, then a short recovery.
HANG_ONLY: tuple[Phase, ...] = (
    Phase("healthy", "healthy", 8.0),
    Phase("hanging outage", "hang", 14.0),
    Phase("after the hang", "healthy", 8.0),
)
# The per-key ceiling: healthy traffic only, at rates around one partition's 3,000 read units/s.
HEALTHY_ONLY: tuple[Phase, ...] = (Phase("healthy", "healthy", 30.0),)
# The drain: a backlog from an outage of a modelled minute, drained by replay while new orders keep coming.
DRAIN: tuple[Phase, ...] = (
    Phase("healthy", "healthy", 5.0),
    Phase("outage", "down", 45.0),
    Phase("recovery and drain", "healthy", 80.0),
)

VOLUMES: tuple[Volume, ...] = (
    Volume("500-per-s", 500),
    Volume("2000-per-s", 2000),
    Volume("2000-per-s-no-bulkhead", 2000, bulkhead=False, script=HANG_ONLY, note="PaymentConcurrency 0"),
    Volume("8000-per-s", 8000, quotas=RAISED_EXPRESS_STARTS),
    Volume("10-keys-1000-per-s", 1000, keys=10, quotas=RAISED_EXPRESS_STARTS),
    *(
        Volume(f"key-ceiling-{rate}", rate, quotas=RAISED_EXPRESS_STARTS, script=HEALTHY_ONLY)
        for rate in (4000, 5500, 6500)
    ),
    Volume("drain-2000-per-s", 2000, script=DRAIN, note="ReplayConcurrency 2, the default"),
    Volume("drain-2000-per-s-sized", 2000, script=DRAIN, replay_concurrency=200, note="ReplayConcurrency 200"),
)


def by_name(names: list[str] | None) -> tuple[Volume, ...]:
    if not names:
        return VOLUMES
    known = {v.name: v for v in VOLUMES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown volume {unknown[0]!r}; known: {', '.join(known)}")
    return tuple(known[n] for n in names)
