"""The figures of one volume's run, as ``bench/scale.md`` reports them, all in modelled (AWS) terms.

Counts of orders, calls and throttles are as run here; rates, concurrency and capacity units per second are
multiplied back by the scale K. Per-order figures (units, transitions, dollars) need no scaling.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from breakwater.asl import state_with_role
from breakwater.bench.floor import floor_of, provider_failing
from breakwater.bench.metrics import percentiles, usage
from breakwater.bench.records import CallFact, OrderRecord
from breakwater.bench.workflow import record_of
from breakwater.breaker_record import UNREADABLE, BreakerState
from breakwater.executions import ExecutionResult, Transition, failed_tasks
from breakwater.pricing import per_million_orders
from breakwater.scale.harness import VolumeRun
from breakwater.scale.scenarios import CALL_TIMEOUT_S

THRESHOLD = 5  # the template's default FailureThreshold
MAX_PROBES = 1  # HalfOpenMaxProbes
TRIP = (BreakerState.CLOSED.value, BreakerState.OPEN.value)
UNRECORDED_CALL_STATE = state_with_role("unrecorded-call")  # DISABLED, or the breaker table unreadable
REFUSING = frozenset({BreakerState.OPEN.value, BreakerState.FORCED_OPEN.value})


@dataclass
class Figures:
    """What one volume showed."""

    name: str
    rate: float
    keys: int
    scale: float
    workflow_type: str
    payment_concurrency: int
    account_concurrency: float
    raised: dict[str, float]
    orders: int
    refused_at_start: int
    outcomes: dict[str, int]
    lost: int
    failed_executions: int
    failing_calls: int
    floor: int
    fail_open_calls: int
    refused_state_calls: int
    throttles: dict[str, int]
    peak_payment_concurrency: float
    peak_account_concurrency: float
    read_units_per_order: float
    write_units_per_order: float
    transitions_per_order: float
    dollars: dict[str, float]
    latency_ms: dict[str, float]
    healthy_latency_ms: dict[str, float]
    trips: int
    first_throttle: str | None
    queue_left: int
    replays: int
    replays_charged: int
    drain_per_s: float  # modelled orders/s the replay charged during the last phase
    time_to_empty_s: float | None  # modelled: what is left on the queue at that pace (None: it never drained)
    phases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.floor == 0:
            return None if self.failing_calls == 0 else float("inf")
        return self.failing_calls / self.floor

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 3)
        return data


def _transitions(results: list[ExecutionResult]) -> dict[str, list[Transition]]:
    """Each breaker key's state changes, in time order, from the writes the executions made."""
    by_key: dict[str, list[Transition]] = defaultdict(list)
    for result in results:
        service = (result.output or {}).get("serviceName") if isinstance(result.output, dict) else None
        by_key[str(service or "payment-api")].extend(result.transitions())
    return {key: sorted(changes) for key, changes in by_key.items()}


def _refused_at(changes: list[Transition], moment: float) -> bool:
    """Whether the breaker refused calls at ``moment`` (OPEN before its cooldown ran out, or FORCED_OPEN)."""
    state = BreakerState.CLOSED.value
    for at, _, after in changes:
        if at > moment:
            break
        state = after
    return state in REFUSING


def _lost(run: VolumeRun, records: dict[str, OrderRecord]) -> int:
    """Accepted orders that ended neither charged, declined, queued nor rejected as invalid."""
    return sum(1 for r in records.values() if r.outcome == "lost")


def figures(run: VolumeRun) -> Figures:
    volume = run.volume
    submitted_at = {entry.order_id: entry.at for entry in run.submitted}
    records = {oid: record_of(result, submitted_at[oid]) for oid, result in run.results.items()}
    changes = _transitions([*run.results.values(), *run.replays])
    calls: list[CallFact] = [r.call for r in records.values() if r.call is not None]
    floor = 0
    trips = 0
    for key, key_changes in changes.items():
        key_calls = [c for c in calls if _service_of(run, c.order_id) == key]
        key_trips = [at for at, before, after in key_changes if (before, after) == TRIP]
        closes = [at for at, _, after in key_changes if after == BreakerState.CLOSED.value]
        floor += floor_of(key_calls, key_trips, closes, THRESHOLD, MAX_PROBES).total
        trips += len(key_trips)
    failing = sum(1 for call in run.provider_calls if provider_failing(call, CALL_TIMEOUT_S))
    fail_open = sum(
        1
        for result in run.results.values()
        if UNRECORDED_CALL_STATE in result.path and (result.output or {}).get("breaker") == UNREADABLE
    )
    refused_state = sum(
        1
        for call in calls
        if call.role == "closed" and _refused_at(changes.get(_service_of(run, call.order_id), []), call.decided_at)
    )
    outcomes: Counter[str] = Counter()
    for record in records.values():
        outcomes[record.outcome if record.outcome != "queued" else f"queued ({record.reason})"] += 1
    failed = sum(1 for r in run.results.values() if r.status != "SUCCEEDED" and r.error != "InvalidOrder")
    ordered = list(records.values())
    counted = usage(ordered)
    executions = max(1, len(run.results) + len(run.replays))
    transitions_per_order = sum(run.observed.transitions.values()) / executions
    reads, writes = run.observed.units_of("Read"), run.observed.units_of("Write")
    standard = per_million_orders(_with_transitions(counted, transitions_per_order), "STANDARD")
    express = per_million_orders(counted, "EXPRESS")
    first = min(run.observed.throttled_at, default=None)
    last_phase = run.phases[-1][0] if run.phases else run.started_at
    charged_late = [
        r for r in run.replays if _status(r) == "charged" and r.events[-1]["timestamp"].timestamp() >= last_phase
    ]
    drain = len(charged_late) / max(1.0, run.finished_at - last_phase)
    throttles = {f"{service} {code} ({reason})": n for (service, code, reason), n in run.observed.throttles.items()}
    return Figures(
        name=volume.name,
        rate=volume.rate,
        keys=volume.keys,
        scale=volume.scale,
        workflow_type=volume.workflow_type,
        payment_concurrency=volume.payment_concurrency,
        account_concurrency=volume.account_concurrency(),
        raised=volume.overrides(),
        orders=len(run.submitted),
        refused_at_start=sum(1 for entry in run.submitted if entry.refused),
        outcomes=dict(sorted(outcomes.items())),
        lost=_lost(run, records),
        failed_executions=failed,
        failing_calls=failing,
        floor=floor,
        fail_open_calls=fail_open,
        refused_state_calls=refused_state,
        throttles=throttles,
        peak_payment_concurrency=_peak(run, "PaymentFunction") * volume.scale,
        peak_account_concurrency=run.observed.peak_concurrency.get("account", 0) * volume.scale,
        read_units_per_order=round(reads / max(1, len(run.submitted)), 3),
        write_units_per_order=round(writes / max(1, len(run.submitted)), 3),
        transitions_per_order=round(transitions_per_order, 2),
        dollars={"STANDARD": round(standard.total, 2), "EXPRESS": round(express.total, 2)},
        latency_ms=percentiles([r.workflow_ms for r in ordered]),
        healthy_latency_ms=percentiles(
            [records[e.order_id].workflow_ms for e in run.submitted if e.phase == "healthy" and e.order_id in records]
        ),
        trips=trips,
        first_throttle=None if first is None else f"{first[1]} {first[2]} ({_phase_at(run, first[0])})",
        queue_left=run.queue_left,
        replays=len(run.replays),
        replays_charged=sum(1 for r in run.replays if _status(r) == "charged"),
        drain_per_s=round(drain * volume.scale, 1),
        time_to_empty_s=None if drain == 0 else round(run.queue_left / drain, 1),
        phases=_phases(run, records),
    )


def _phase_at(run: VolumeRun, moment: float) -> str:
    """The name of the script's phase that ran at ``moment`` (the last one after the script ended)."""
    names = [name for at, name, _ in run.phases if at <= moment]
    return names[-1] if names else "before the script"


def _status(result: ExecutionResult) -> str | None:
    return result.output.get("status") if isinstance(result.output, dict) else None


def _service_of(run: VolumeRun, order_id: str) -> str:
    volume = run.volume
    if volume.keys == 1:
        return "payment-api"
    return volume.service(int(order_id.rsplit("-", 1)[1]))


def _peak(run: VolumeRun, logical: str) -> int:
    return max((n for name, n in run.observed.peak_concurrency.items() if logical in name), default=0)


def _with_transitions(counted: Any, per_order: float) -> Any:
    from dataclasses import replace

    return replace(counted, states_entered=round(per_order * counted.orders))


def call_error(run: VolumeRun, order_id: str) -> str:
    """The error of the payment call's failed Lambda task in an order's execution, with the function's message
    (its figures replaced by N, so that the same failure is one label)."""
    result = run.results.get(order_id)
    tasks = failed_tasks(result.events) if result is not None else []
    task = next((task for task in tasks if task["resourceType"] == "lambda"), None)
    if task is None:
        return "unknown"
    try:
        message = str(json.loads(task["cause"] or "{}").get("errorMessage") or "")
    except (ValueError, AttributeError):
        message = str(task["cause"] or "")
    message = re.sub(r"[0-9]+(\.[0-9]+)?", "N", message)[:60]
    return f"{task['error']}: {message}" if message else str(task["error"])


def _failed_while_healthy(run: VolumeRun, record: OrderRecord, phase: str) -> str:
    """Why the call of an order submitted in a healthy phase failed. On a loaded machine an execution can take
    longer than what was left of its phase: its call then meets the next phase's outage, and is named by it."""
    called_in = _phase_at(run, record.call.started_at) if record.call is not None else phase
    if called_in != phase:
        return f"called in the {called_in} phase"
    return call_error(run, record.order_id)


def _phases(run: VolumeRun, records: dict[str, OrderRecord]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    bounds = [at for at, _, _ in run.phases] + [run.finished_at]
    for index, (_, name, mode) in enumerate(run.phases):
        entries = [e for e in run.submitted if e.phase == name]
        throttles: Counter[str] = Counter(
            service for at, service, _ in run.observed.throttled_at if bounds[index] <= at < bounds[index + 1]
        )
        outcomes: Counter[str] = Counter()
        for entry in entries:
            record = records.get(entry.order_id)
            if record is None:
                outcomes["refused at start"] += 1
            elif record.outcome == "queued" and record.reason == "call_failed" and mode == "healthy":
                # Submitted while the provider was healthy, yet its call failed: say where the call went.
                outcomes[f"queued (call_failed: {_failed_while_healthy(run, record, name)})"] += 1
            else:
                outcomes[record.outcome if record.outcome != "queued" else f"queued ({record.reason})"] += 1
        latencies = [records[e.order_id].workflow_ms for e in entries if e.order_id in records]
        rows.append(
            {
                "phase": name,
                "provider": mode,
                "orders": len(entries),
                "outcomes": dict(sorted(outcomes.items())),
                "throttles": dict(sorted(throttles.items())),
                "latency_ms": percentiles(latencies),
            }
        )
    return rows
