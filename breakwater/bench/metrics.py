"""The figures of one run: outcomes, wasted calls against the floor, recovery, resources and dollars."""

from __future__ import annotations

import functools
import importlib
import sys
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from breakwater.asl import state_with_role
from breakwater.bench.floor import Floor, floor_of, provider_failing, replay_exact, wasted
from breakwater.bench.records import OUTCOMES, CallFact, OrderRecord, PolicyRun
from breakwater.bench.scenarios import SCENARIOS, Scenario
from breakwater.bench.settings import BreakerSettings
from breakwater.breaker_record import BreakerState
from breakwater.budget import BUDGET
from breakwater.executions import Transition
from breakwater.pricing import (
    EXPRESS_BILLING_STEP_MS,
    LAMBDA_BILLING_STEP_MS,
    Dollars,
    Usage,
    billed_ms,
    per_million_orders,
)
from breakwater.template import PROJECT_ROOT

TRIP = (BreakerState.CLOSED, BreakerState.OPEN)  # a transition that opens the breaker

WINDOW_RACE_STATE = state_with_role("window-race")
RESOURCES = ("states_entered", "dynamodb_reads", "dynamodb_writes", "lambda_invocations", "sqs_messages")


@dataclass
class Figures:
    """Everything the report says about one policy in one scenario."""

    policy: str
    scenario: str
    outcomes: dict[str, int]
    queued_by_reason: dict[str, int]
    submitted: int
    queue_depth: int
    provider_calls: int
    wasted: int
    wasted_provider_log: int
    floor: Floor
    recovery_s: float | None
    recovery_bound_s: float | None
    per_order: dict[str, float]
    standard: Dollars
    express: Dollars
    paths: dict[str, dict[str, int]] = field(default_factory=dict)
    trips: int = 0
    dynamodb_latency_ms: dict[str, float] = field(default_factory=dict)  # median, p95, max of DynamoDB requests
    latency_ms: dict[str, float] = field(default_factory=dict)  # p50 and p99 of submit-to-finish, per order
    blocked_healthy_tenants: int | None = None  # tenants scenario: orders of healthy tenants refused a call
    charged_in_the_end: int = 0  # queued orders a replay charged before the run ended

    @property
    def lost(self) -> int:
        counted = sum(self.outcomes[o] for o in OUTCOMES if o != "lost")
        return self.submitted - counted

    @property
    def ratio(self) -> float | None:
        return self.floor.ratio(self.wasted)


def state_at(transitions: list[Transition], moment: float) -> str:
    """The breaker's state at ``moment`` (CLOSED before the first transition)."""
    state: str = BreakerState.CLOSED
    for at, _, after in transitions:
        if at > moment:
            break
        state = after
    return state


REPLAY_FOLDER = PROJECT_ROOT / "functions" / "replay"


@functools.cache
def replay_decisions() -> ModuleType:
    """The replay function's decisions (``functions/replay/replay_decisions.py``), imported from its folder as the
    function's task root holds it (with its siblings ``breaker_record`` and ``order_record``)."""
    if str(REPLAY_FOLDER) not in sys.path:
        sys.path.append(str(REPLAY_FOLDER))
    return importlib.import_module("replay_decisions")


def replay_deferral_s() -> float:
    """The replay function's longest first deferral of an order it cannot start (``BACKOFF_BASE_SECONDS``)."""
    return float(replay_decisions().BACKOFF_BASE_SECONDS)


def recovery(run: PolicyRun, settings: BreakerSettings) -> tuple[float | None, float | None]:
    """Seconds from the provider's recovery to the breaker closing, and the target bound for it.

    The bound is one cooldown plus one probe: the cooldown, the wait for the
    next order to arrive (one arrival interval), and the closing probe order's
    own duration. None for a policy without a breaker or a scenario without a
    recovery; 0 when the breaker was already CLOSED again when the provider recovered. A breaker that never
    opened has no recovery (None; the report says "never opened"), whatever the bound.
    """
    if run.recovered_at is None or run.policy == "no-breaker":
        return None, None
    scenario = _scenario(run.scenario)
    # Without new orders only a replay probes: it finds a deferred order again at most one deferral later.
    wait_s = replay_deferral_s() if scenario is not None and scenario.replay else run.recovery_gap_s
    if not any(after == BreakerState.OPEN for _, _, after in run.transitions):
        return None, float(settings.cooldown_s) + wait_s  # it never opened: nothing to recover from
    if state_at(run.transitions, run.recovered_at) == BreakerState.CLOSED:
        return 0.0, float(settings.cooldown_s) + wait_s
    closes = [at for at, _, after in run.transitions if after == BreakerState.CLOSED and at >= run.recovered_at]
    if not closes:
        return None, float(settings.cooldown_s) + wait_s
    closed_at = closes[0]
    probes = [
        o
        for o in run.orders
        if o.call is not None and o.call.role == "probe" and not o.call.failed and o.finished_at >= closed_at
    ]
    probe_s = min((o.finished_at - o.submitted_at for o in probes), default=0.0)
    return closed_at - run.recovered_at, float(settings.cooldown_s) + wait_s + probe_s


def run_floor(run: PolicyRun, settings: BreakerSettings) -> tuple[Floor, list[CallFact], int]:
    """The floor for a run (an exact breaker replayed over the calls when the policy has none), and its trips.

    With tenants, the floor is an exact breaker of the failing tenants' own key replayed over the policy's
    calls for them: the other tenants' calls belong to other breakers and cannot fail.
    """
    calls = [o.call for o in run.orders if o.call is not None]
    scenario = _scenario(run.scenario)
    if scenario is not None and scenario.tenants:
        failing = scenario.failing_services()
        calls = [c for c in calls if scenario.service_of(c.order_id) in failing]
        calls, trips, closes = replay_exact(
            calls, settings.threshold, settings.cooldown_s, settings.max_probes, settings.success_threshold
        )
        own_trips = [at for at, before, after in run.transitions if (before, after) == TRIP]
        return floor_of(calls, trips, closes, settings.threshold, settings.max_probes), calls, len(own_trips)
    if run.policy == "no-breaker":
        calls, trips, closes = replay_exact(
            calls, settings.threshold, settings.cooldown_s, settings.max_probes, settings.success_threshold
        )
    else:
        trips = [at for at, before, after in run.transitions if (before, after) == TRIP]
        closes = [at for at, _, after in run.transitions if after == BreakerState.CLOSED]
    return floor_of(calls, trips, closes, settings.threshold, settings.max_probes), calls, len(trips)


def _scenario(name: str) -> Scenario | None:
    return next((s for s in SCENARIOS if s.name == name), None)


def blocked_healthy_tenants(run: PolicyRun) -> int | None:
    """Orders of tenants whose provider never failed that were queued without a call (None: no tenants)."""
    scenario = _scenario(run.scenario)
    if scenario is None or not scenario.tenants:
        return None
    failing = scenario.failing_services()
    return sum(
        1
        for o in run.orders
        if o.outcome == "queued" and o.reason != "call_failed" and scenario.service_of(o.order_id) not in failing
    )


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 of ``samples`` (nearest rank; empty: {})."""
    if not samples:
        return {}
    ordered = sorted(samples)
    return {
        q: round(ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1) + 0.5))], 1)
        for q, p in (("p50", 0.5), ("p99", 0.99))
    }


def usage(orders: list[OrderRecord]) -> Usage:
    """Summed resources, with durations rounded up to each service's billing step."""
    return Usage(
        orders=len(orders),
        states_entered=sum(o.states_entered for o in orders),
        workflow_executions=sum(1 for o in orders if o.states_entered),
        workflow_ms=sum(billed_ms(o.workflow_ms, EXPRESS_BILLING_STEP_MS) for o in orders if o.states_entered),
        dynamodb_reads=sum(o.dynamodb_reads for o in orders),
        dynamodb_strong_reads=sum(o.dynamodb_strong_reads for o in orders),
        dynamodb_writes=sum(o.dynamodb_writes for o in orders),
        lambda_invocations=sum(o.lambda_invocations for o in orders),
        lambda_ms=sum(
            billed_ms(o.lambda_ms / o.lambda_invocations, LAMBDA_BILLING_STEP_MS) * o.lambda_invocations
            for o in orders
            if o.lambda_invocations
        ),
        sqs_messages=sum(o.sqs_messages for o in orders),
    )


def over_budget(order: OrderRecord) -> bool:
    """Whether one execution used more than its path's budget row allows (False when the path has none)."""
    budget = BUDGET.get(order.label)
    return budget is not None and any(
        int(getattr(order, name)) > limit for name, limit in zip(RESOURCES, budget.as_tuple(), strict=True)
    )


def paths(orders: list[OrderRecord]) -> dict[str, dict[str, int]]:
    """Per path label: executions, the most of each resource one execution used, executions over budget."""
    table: dict[str, dict[str, int]] = {}
    for o in orders:
        entry = table.setdefault(
            o.label, {"executions": 0, **dict.fromkeys(RESOURCES, 0), "over_budget": 0, "window_race": 0}
        )
        entry["executions"] += 1
        entry["over_budget"] += over_budget(o)
        entry["window_race"] += WINDOW_RACE_STATE in o.states
        for name in RESOURCES:
            entry[name] = max(entry[name], int(getattr(o, name)))
    return dict(sorted(table.items()))


SUMMED = ("executions", "over_budget", "window_race")


def merge_paths(figs: list[Figures], policy: str = "breakwater") -> dict[str, dict[str, int]]:
    """One policy's path table over every scenario: executions summed, resources at their worst."""
    merged: dict[str, dict[str, int]] = {}
    for f in figs:
        if f.policy != policy:
            continue
        for label, entry in f.paths.items():
            into = merged.setdefault(label, dict.fromkeys(entry, 0))
            for key, value in entry.items():
                into[key] = into[key] + value if key in SUMMED else max(into[key], value)
    return dict(sorted(merged.items()))


def within_budget(label: str, entry: dict[str, int]) -> bool | None:
    """Whether a path's worst execution kept to DESIGN.md's budget (None: the path has no budget row)."""
    budget = BUDGET.get(label)
    if budget is None:
        return None
    return all(entry[name] <= limit for name, limit in zip(RESOURCES, budget.as_tuple(), strict=True))


def latency(samples: list[float]) -> dict[str, float]:
    """Median, 95th percentile and maximum of ``samples`` (empty: {})."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]

    return {"median": round(pick(0.5), 1), "p95": round(pick(0.95), 1), "max": round(ordered[-1], 1)}


def figures(run: PolicyRun, settings: BreakerSettings) -> Figures:
    outcomes = Counter(o.outcome for o in run.orders)
    floor, calls, trips = run_floor(run, settings)
    n = max(1, len(run.orders))
    per_order: dict[str, Any] = {name: sum(getattr(o, name) for o in run.orders) / n for name in RESOURCES}
    per_order["lambda_ms"] = sum(o.lambda_ms for o in run.orders) / n
    per_order["workflow_ms"] = sum(o.workflow_ms for o in run.orders) / n
    used = usage(run.orders)
    recovery_s, bound_s = recovery(run, settings)
    log_timeout = settings.call_timeout_s - 0.25  # the handler's own timeout: the call timeout less its margin
    return Figures(
        policy=run.policy,
        scenario=run.scenario,
        outcomes={o: outcomes.get(o, 0) for o in OUTCOMES},
        queued_by_reason=dict(sorted(Counter(o.reason or "" for o in run.orders if o.outcome == "queued").items())),
        submitted=run.submitted,
        queue_depth=run.queue_depth,
        provider_calls=len(run.provider_calls),
        wasted=wasted(calls),
        wasted_provider_log=sum(1 for c in run.provider_calls if provider_failing(c, log_timeout)),
        floor=floor,
        recovery_s=recovery_s,
        recovery_bound_s=bound_s,
        per_order=per_order,
        standard=per_million_orders(used, "STANDARD"),
        express=per_million_orders(used, "EXPRESS"),
        paths=paths(run.orders),
        trips=trips,
        dynamodb_latency_ms=latency([ms for o in run.orders for ms in o.dynamodb_ms]),
        latency_ms=percentiles([(o.finished_at - o.submitted_at) * 1000 for o in run.orders if o.outcome != "lost"]),
        blocked_healthy_tenants=blocked_healthy_tenants(run),
        charged_in_the_end=run.charged_in_the_end,
    )
