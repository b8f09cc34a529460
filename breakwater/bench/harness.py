"""Play a scenario against a policy in real time, and measure the workflow's local throughput."""

from __future__ import annotations

import contextlib
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from breakwater.bench.policies import Policy, warm
from breakwater.bench.records import FAILING_MODES, PolicyRun
from breakwater.bench.scenarios import Phase, Scenario, tenant_customer
from breakwater.bench.settings import BreakerSettings
from breakwater.executions import start, wait
from breakwater.local.stack import EmbeddedStack

LEAD_SECONDS = 0.2  # between setting up and the first phase
EXPIRY_WAIT_LIMIT = 15.0
SETTLE_LIMIT = 10.0
HOLD_LIMIT = 60.0  # a hanging provider answers at the latest after this long
QUIET_MARGIN_SECONDS = 1.0  # past a cooldown, for a policy that has nothing to do in a phase without orders


def _sleep_until(moment: float) -> None:
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


def _configure(env: EmbeddedStack, phase: Phase) -> None:
    unavailable = [] if phase.failing_tenant is None else [tenant_customer(phase.failing_tenant)]
    env.provider.configure(
        mode=phase.mode,
        delay_seconds=phase.delay_seconds,
        failure_rate=phase.failure_rate,
        unavailable_customers=unavailable,
    )


def _phase_seconds(phase: Phase, policy: Policy, settings: BreakerSettings) -> float:
    """How long a phase runs: without orders, a policy that has no replay can only wait out one cooldown.

    Nothing else happens to it (no call, so no state change after the expiry), so the rest is not played.
    """
    if phase.orders or policy.has_replay:
        return phase.seconds
    return min(phase.seconds, settings.cooldown_s + QUIET_MARGIN_SECONDS)


def _wait_for_expiry(policy: Policy, settings: BreakerSettings) -> None:
    """Wait for the moment the policy's OPEN breaker lets the next order through (a cooldown without a breaker)."""
    if not policy.has_breaker:
        time.sleep(settings.cooldown_s)
        return
    if policy.cooldown_expiry() is None:  # its breaker is not OPEN (it never tripped): one cooldown, as without
        time.sleep(settings.cooldown_s)
        return
    deadline = time.time() + EXPIRY_WAIT_LIMIT
    while (expiry := policy.cooldown_expiry()) is None:
        if time.time() > deadline:
            return
        time.sleep(0.02)
    _sleep_until(expiry + 0.005)


def play(env: EmbeddedStack, policy: Policy, scenario: Scenario, settings: BreakerSettings) -> PolicyRun:
    """Run ``scenario`` against ``policy`` on a freshly reset provider; returns everything observed.

    The policy is prepared (fresh resources, one warm-up order so no cold start
    lands inside the scenario) before the provider is reset and the clock starts.
    """
    # The warm-up calls of prepare() meet a healthy provider: the previous run left it in its last mode (flaky, down),
    # and a warm-up that failed there queued a "warm-up" order beside the scenario's (the report's "on fallback
    # queue" then exceeded "queued" by the failed warm-ups: flaky +1 for breakwater, +1/+3/+7 for powertools-k1/5/20).
    env.provider.reset()
    policy.prepare(env, f"bench-{scenario.name}-{policy.name}-{uuid.uuid4().hex[:6]}")
    env.provider.reset()  # forget the warm-up calls
    if scenario.replay:
        policy.start_replay()
    run = PolicyRun(policy=policy.name, scenario=scenario.name, started_at=time.time() + LEAD_SECONDS)
    cursor = run.started_at
    number = 0
    failing = False
    for phase in scenario.phases:
        _sleep_until(cursor)
        _configure(env, phase)
        switched = time.time()
        run.provider_modes.append((switched, phase.mode))
        if failing and phase.mode not in FAILING_MODES and run.recovered_at is None:
            run.recovered_at, run.recovery_gap_s = switched, (1 / phase.rate if phase.rate else 0.0)
        failing = phase.mode in FAILING_MODES
        if phase.burst:
            _wait_for_expiry(policy, settings)
            with env.provider.holding(HOLD_LIMIT) if phase.hang else contextlib.nullcontext():
                policy.submit([scenario.order(number + i) for i in range(phase.burst)])
                number += phase.burst
                policy.drain()
            _settle(env)
            cursor = time.time()
            continue
        for k in range(phase.orders):
            _sleep_until(cursor + k / phase.rate)
            policy.submit([scenario.order(number)])
            number += 1
        cursor += _phase_seconds(phase, policy, settings)
    _sleep_until(cursor)
    policy.drain()
    _settle(env)
    policy.stop_replay()
    run.finished_at = time.time()
    run.submitted = number
    run.orders = policy.records()
    run.transitions = policy.transitions()
    run.provider_calls = list(env.provider.calls)
    run.queue_depth = policy.queue_depth()
    charged = set(env.provider.charged_orders())
    run.charged_in_the_end = sum(1 for o in run.orders if o.outcome == "queued" and o.order_id in charged)
    return run


def _settle(env: EmbeddedStack) -> None:
    """Wait for calls the callers gave up on (slow answers) to be answered and logged."""
    deadline = time.time() + SETTLE_LIMIT
    while env.provider.in_flight() and time.time() < deadline:
        time.sleep(0.05)


ENGINE_RUNS = ((1, 30), (8, 64))  # (concurrent clients, executions): sequential, then 8 at once


def throughput(env: EmbeddedStack, settings: BreakerSettings, orders: int, workers: int) -> dict[str, Any]:
    """Executions per second of the healthy path on the local stack, ``workers`` clients back to back."""
    env.provider.reset()
    stack = env.deploy(f"bench-throughput-{workers}", **settings.template_parameters())
    sfn = env.client("stepfunctions")
    # The payment function's environments start (unpack, import) outside the timing, as provisioned concurrency.
    warm(env, stack.outputs["PaymentFunctionArn"], max(workers, 1), settings.service)
    wait(sfn, start(sfn, stack.state_machine_arn, _throughput_order(workers, -1)), 60.0)

    def one(number: int) -> tuple[float, int]:
        order = _throughput_order(workers, number)
        began = time.time()
        result = wait(sfn, start(sfn, stack.state_machine_arn, order), 60.0, poll=0.01)
        if result.status != "SUCCEEDED":
            raise RuntimeError(f"throughput order {order['orderId']} ended {result.status}")
        return time.time() - began, result.cost().states_entered

    began = time.time()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        timed = list(pool.map(one, range(orders)))
    elapsed = time.time() - began
    latencies = sorted(t for t, _ in timed)
    states = statistics.mean(n for _, n in timed)
    return {
        "workers": workers,
        "executions": orders,
        "seconds": round(elapsed, 2),
        "executionsPerSecond": round(orders / elapsed, 2),
        "latencyMedianMs": round(statistics.median(latencies) * 1000),
        "latencyP95Ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000),
        "statesPerExecution": round(states, 2),
        "msPerState": round(statistics.median(latencies) * 1000 / states, 1),
    }


def _throughput_order(workers: int, number: int) -> dict[str, Any]:
    return {"orderId": f"tp{workers}-{number + 1:04d}", "amount": 500, "currency": "USD", "customerId": "cus_tp"}
