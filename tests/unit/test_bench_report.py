"""The benchmark report's cross-checks agree, or say why they differ (issue 23, item 11)."""

from __future__ import annotations

import types
from typing import Any

from breakwater.bench import harness
from breakwater.bench.metrics import recovery
from breakwater.bench.plot import calls_scale
from breakwater.bench.records import PolicyRun
from breakwater.bench.report import NEVER_OPENED, recovery_text
from breakwater.bench.scenarios import Scenario
from breakwater.bench.settings import BreakerSettings
from breakwater.local.provider import FakeProvider


def test_warm_ups_meet_a_healthy_provider_whatever_the_previous_run_left() -> None:
    """A failed warm-up queued an order beside the scenario's: "on fallback queue" exceeded "queued" by them."""
    provider = FakeProvider()
    provider.configure(mode="flaky", failure_rate=1.0)  # where the previous policy's flaky run left it
    seen: list[str] = []

    class Policy:
        name = "probe"

        def prepare(self, env: Any, run_name: str) -> None:
            seen.append(env.provider.settings.mode)

        def drain(self) -> None: ...

        def stop_replay(self) -> None: ...

        def records(self) -> list[Any]:
            return []

        def transitions(self) -> list[Any]:
            return []

        def queue_depth(self) -> int:
            return 0

    env = types.SimpleNamespace(provider=provider)
    harness.play(env, Policy(), Scenario("empty", "no orders", ()), BreakerSettings())  # type: ignore[arg-type]
    assert seen == ["healthy"]


def test_a_breaker_that_never_opened_has_no_recovery_to_score() -> None:
    # given: the provider failed and recovered, but these failures never opened this breaker
    run = PolicyRun("powertools-k20", "quiet", started_at=0.0, recovered_at=6.0, recovery_gap_s=0.0)
    run.transitions = []
    # when
    seconds, bound = recovery(run, BreakerSettings(cooldown_s=2))
    # then: no recovery (it was never scored "0.00, within True"), and the report says why
    assert seconds is None
    assert bound is not None
    figures = types.SimpleNamespace(recovery_s=seconds, recovery_bound_s=bound, trips=0)
    assert recovery_text(figures) == NEVER_OPENED  # type: ignore[arg-type]


def test_every_policys_calls_chart_has_the_same_scale() -> None:
    call = types.SimpleNamespace
    small = PolicyRun("breakwater", "burst", started_at=0.0)
    small.provider_calls = [call(at=1.0), call(at=1.1)]  # type: ignore[list-item]
    large = PolicyRun("no-breaker", "burst", started_at=0.0)
    large.provider_calls = [call(at=2.0 + i / 1000) for i in range(50)]  # type: ignore[misc]
    assert calls_scale([small, large], end=5.0) == 50
    assert calls_scale([small], end=5.0) == 2
