"""The scripted scenarios: what the provider does, and when orders arrive.

Each scenario is a list of phases played in real time. A phase switches the
fake provider's mode, then submits orders at a fixed rate (open loop: arrivals
never wait for earlier orders to finish), or fires a burst of orders at once
the moment the policy's breaker cooldown expires. Order ids, customers and the
provider's flaky failures (its RNG is seeded and reset before every run) are the
same for every policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RATE = 4.0  # orders per second: what the local stack sustains for Breakwater with room to spare on 2 cores
DECLINING_CUSTOMER = "cus_card_declined"
VOLUME_RATE = 20.0  # the volume scenario's orders per second: what the local engine sustains here, with headroom


def tenant_service(tenant: int) -> str:
    return f"tenant-{tenant}"


def tenant_customer(tenant: int) -> str:
    return f"cus_tenant_{tenant}"


@dataclass(frozen=True)
class Phase:
    """One stretch of a scenario."""

    mode: str  # the provider's mode during the phase
    seconds: float = 0.0
    rate: float = RATE
    delay_seconds: float | None = None
    failure_rate: float | None = None
    burst: int = 0  # fire this many orders at once when the breaker's cooldown expires; ends when all finished
    hang: bool = False  # the provider holds every call until the phase ends (callers time out)
    failing_tenant: int | None = None  # in a multi-tenant scenario: this tenant's calls answer 503

    @property
    def orders(self) -> int:
        return self.burst or round(self.seconds * self.rate)

    def describe(self) -> str:
        mode = self.mode
        if self.delay_seconds is not None:
            mode += f" ({self.delay_seconds:g} s answers)"
        if self.failure_rate is not None:
            mode += f" ({self.failure_rate:.0%} failures)"
        if self.hang:
            mode += " and hanging (no answer before the call timeout)"
        if self.failing_tenant is not None:
            mode += f" except tenant {self.failing_tenant} (503)"
        if self.burst:
            return f"{mode}: {self.burst} orders at once when the cooldown expires"
        if not self.rate:
            return f"{mode}: {self.seconds:g} s without new orders"
        return f"{mode}: {self.seconds:g} s at {self.rate:g} orders/s"


@dataclass(frozen=True)
class Scenario:
    """A named script of phases."""

    name: str
    title: str
    phases: tuple[Phase, ...]
    declined_every: int = 0  # every n-th order (n-1, 2n-1, ...) comes from a customer whose card is declined
    invalid_every: int = 0  # every n-th order has an invalid amount
    tenants: int = 0  # >0: order n belongs to tenant n % tenants, with its own breaker (serviceName)
    replay: bool = False  # the policies' replay of queued orders runs (those that have one)

    def order(self, number: int) -> dict[str, Any]:
        """The ``number``-th order of this scenario (the same for every policy)."""
        customer = f"cus_{number:04d}"
        if self.declined_every and number % self.declined_every == self.declined_every - 1:
            customer = DECLINING_CUSTOMER
        amount = 1000 + number
        if self.invalid_every and number % self.invalid_every == self.invalid_every - 1:
            amount = 0
        order: dict[str, Any] = {"orderId": f"{self.name}-{number:04d}", "amount": amount, "currency": "USD"}
        order["customerId"] = customer
        if self.tenants:
            tenant = number % self.tenants
            order.update(customerId=tenant_customer(tenant), serviceName=tenant_service(tenant))
        return order

    def service_of(self, order_id: str) -> str | None:
        """The breaker key (serviceName) of one of this scenario's orders; None when orders name none."""
        if not self.tenants:
            return None
        return tenant_service(int(order_id.rsplit("-", 1)[1]) % self.tenants)

    def failing_services(self) -> set[str]:
        """The tenants' services whose provider calls fail in some phase."""
        return {tenant_service(p.failing_tenant) for p in self.phases if p.failing_tenant is not None}

    @property
    def orders(self) -> int:
        return sum(phase.orders for phase in self.phases)

    def describe(self) -> str:
        return "; then ".join(phase.describe() for phase in self.phases)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "healthy",
        "Steady healthy traffic (with some declined cards and invalid orders)",
        (Phase("healthy", 4.0),),
        declined_every=9,
        invalid_every=13,
    ),
    Scenario(
        "outage",
        "Hard outage: the provider answers 503 for 5 s, then recovers",
        (Phase("healthy", 1.0), Phase("down", 5.0), Phase("healthy", 2.5)),
    ),
    Scenario(
        "flaky",
        "Flaky provider: 30 % of calls fail (seeded)",
        (Phase("flaky", 6.0, failure_rate=0.3),),
    ),
    Scenario(
        "slow",
        "Slow provider: answers after 1.5 s, past the 1 s call timeout, for 4 s",
        (Phase("healthy", 1.0), Phase("slow", 4.0, delay_seconds=1.5), Phase("healthy", 2.5)),
    ),
    Scenario(
        "burst",
        "Burst: 50 orders at once the moment a cooldown expires; the provider, still down, hangs",
        (Phase("healthy", 1.0), Phase("down", 2.0), Phase("down", burst=50, hang=True), Phase("healthy", 3.0)),
    ),
    Scenario(
        "volume",
        "High volume, partial failure: 20 orders/s for 18 s, 30 % of calls failing (seeded)",
        # 40/s saturates the local engine on 2 cores: Breakwater's own tasks then time out (see Method).
        (Phase("flaky", 18.0, rate=VOLUME_RATE, failure_rate=0.3),),
    ),
    Scenario(
        "tenants",
        "Ten tenants, each its own breaker key; tenant 3's provider is down throughout",
        (Phase("healthy", 4.0, rate=10.0, failing_tenant=3),),
        tenants=10,
    ),
    Scenario(
        "quiet",
        "Long outage, then quiet: the provider is down for 5 s, then recovers while no new order arrives",
        (Phase("healthy", 1.0), Phase("down", 5.0), Phase("healthy", 12.0, rate=0.0)),
        replay=True,
    ),
)


def by_name(names: list[str] | None) -> tuple[Scenario, ...]:
    """The scenarios named (all when ``names`` is empty); raises ValueError for an unknown name."""
    if not names:
        return SCENARIOS
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown scenario {unknown[0]!r}; known: {', '.join(known)}")
    return tuple(known[n] for n in names)
