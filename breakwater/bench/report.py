"""``bench/results.md`` and ``bench/results.json`` from the figures."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template
from typing import Any

from breakwater.bench.metrics import BUDGET, RESOURCES, Figures, merge_paths, within_budget
from breakwater.bench.records import PolicyRun
from breakwater.bench.scenarios import RATE, Scenario, by_name
from breakwater.bench.settings import BreakerSettings
from breakwater.bench.targets import BASELINE, POLICY, Target, peers
from breakwater.pricing import (
    EXPRESS_MEMORY_MB,
    LAMBDA_MEMORY_MB,
    PRICES,
    PRICES_CHECKED,
    PRICES_REGION,
)


@dataclass
class Results:
    """Everything one benchmark run produced."""

    settings: BreakerSettings
    scenarios: tuple[Scenario, ...]
    runs: list[PolicyRun]
    figures: list[Figures]
    throughput: list[dict[str, Any]]
    targets: list[Target]
    wall_seconds: float
    pictures: list[str]


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _ratio(f: Figures) -> str:
    ratio = f.ratio
    if ratio is None:
        return "n/a (0/0)"
    return "inf" if ratio == float("inf") else f"{ratio:.2f}x"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def latency_ratio(f: Figures, figs: list[Figures], quantile: str) -> float | None:
    """``f``'s order latency at ``quantile`` (p50, p99) over no-breaker's in the same scenario of the same run."""
    base = next((g for g in figs if g.scenario == f.scenario and g.policy == BASELINE), None)
    if base is None or not base.latency_ms.get(quantile) or not f.latency_ms.get(quantile):
        return None
    return f.latency_ms[quantile] / base.latency_ms[quantile]


def _times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def headline(figs: list[Figures]) -> list[str]:
    rows = [
        [
            f.scenario,
            f.policy,
            str(f.wasted),
            str(f.floor.total),
            _ratio(f),
            str(f.outcomes["charged"]),
            str(f.lost),
            recovery_text(f),
            f"{f.per_order['dynamodb_reads']:.2f} / {f.per_order['dynamodb_writes']:.2f}",
            f"{f.per_order['lambda_invocations']:.2f}",
            f"{f.per_order['states_entered']:.2f}",
            f"{f.standard.total:.2f}",
            f"{f.express.total:.2f}",
            _times(latency_ratio(f, figs, "p50")),
            _times(latency_ratio(f, figs, "p99")),
        ]
        for f in figs
    ]
    header = ["scenario", "policy", "failing calls", "floor", "ratio", "charged", "lost", "recovery s"]
    header += ["DynamoDB reads / writes per order", "Lambda per order", "transitions per order"]
    header += ["$/M STANDARD", "$/M EXPRESS", "p50 vs no-breaker", "p99 vs no-breaker"]
    return _table(header, rows)


# Why a peer can beat Breakwater on a column, by column and by the peer's kind; said only where it does.
LOSSES: dict[str, dict[str, str]] = {
    "failing": {
        "aws-sample": "the sample opens on a single failure (its threshold is 1, where every other breaker here "
        "allows 5), so it stops an outage sooner; the same rule opens it on every isolated failure, refusing "
        "calls that would have succeeded (the flaky and volume rows)",
        "powertools": "Powertools counts consecutive failures without a window",
    },
    "recovery": {
        "aws-sample": "the sample's OPEN item simply expires, so it closes on time without a probe, whether or "
        "not the provider is back",
        "powertools": "Powertools closes on its owner's probe",
        "reference": "the seed admits every request while half-open",
    },
    "reads": {
        "powertools": "Powertools caches the state it read for 5 s in each environment, so most calls read "
        "nothing; Breakwater reads the breaker once per order (one eventually consistent GetItem, half a read "
        "unit), which is what lets every execution see a trip at once",
        "reference": "",
        "aws-sample": "",
    },
    "writes": {
        "powertools": "Powertools counts failures in each environment's memory and writes only when it moves "
        "the state; Breakwater counts every failure with an atomic conditional UpdateItem (and clears the count "
        "after a success that follows failures), so all executions share one exact count and the breaker trips "
        "exactly once",
        "reference": "the seed writes its counts too, without conditions",
        "aws-sample": "the sample writes only when it opens: it keeps no count at all",
    },
    "lambda": {
        "any": "a Lambda-only breaker runs in the one invocation that calls the provider",
    },
    "transitions": {
        "any": "the Lambda-only breakers run no workflow; each Breakwater order is a Step Functions execution "
        "of a few states (DESIGN.md budgets each path)",
    },
    "standard": {
        "any": "the Lambda-only breakers pay no Step Functions; on STANDARD Breakwater pays $0.025 per 1,000 "
        "state transitions, which is most of its price",
    },
    "express": {
        "any": "the Lambda-only breakers pay no Step Functions; on EXPRESS Breakwater pays $1 per million "
        "executions plus their duration",
    },
    "p50": {
        "any": "a Lambda-only breaker answers within one invocation; Breakwater's answer goes through the workflow's "
        "states, here on moto's interpreter (on AWS, each transition adds milliseconds)",
    },
    "p99": {
        "any": "as for p50; on this 2-core machine the local interpreter also queues executions when many run at "
        "once (the burst, the volume scenario)",
    },
}


def _family(policy: str) -> str:
    return "powertools" if policy.startswith("powertools") else policy


def _pooled(figs: list[Figures], policy: str, value: Callable[[Figures], float | None]) -> float | None:
    """The order-weighted mean of ``value`` over every scenario of ``policy`` (None when it has none)."""
    pairs = [(value(f), f.submitted) for f in figs if f.policy == policy]
    valid = [(v, n) for v, n in pairs if v is not None]
    total = sum(n for _, n in valid)
    return None if not total else sum(v * n for v, n in valid) / total


def _pooled_resource(resource: str) -> Callable[[list[Figures], str], float | None]:
    """The column of one per-order resource: its order-weighted mean over every scenario."""
    return lambda figs, policy: _pooled(figs, policy, lambda f: f.per_order[resource])


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    return None if not ordered else ordered[len(ordered) // 2]


def _worst_recovery(figs: list[Figures], policy: str) -> float | None:
    """The longest recovery over the scenarios that have one and in which the breaker opened at all (one that
    never opened has nothing to recover from); infinity when the breaker never closed again in one."""
    mine = [f for f in figs if f.policy == policy and f.recovery_bound_s is not None and f.trips > 0]
    if not mine:
        return None
    return max(float("inf") if f.recovery_s is None else f.recovery_s for f in mine)


COLUMNS: list[tuple[str, str, Callable[[list[Figures], str], float | None], str]] = [
    (
        "failing",
        "failing calls, all scenarios",
        lambda figs, p: float(sum(f.wasted for f in figs if f.policy == p)),
        "{:.0f}",
    ),
    ("lost", "orders lost, all scenarios", lambda figs, p: float(sum(f.lost for f in figs if f.policy == p)), "{:.0f}"),
    ("recovery", "worst recovery s (scenarios where it opened)", _worst_recovery, "{:.2f}"),
    (
        "reads",
        "DynamoDB reads per order",
        _pooled_resource("dynamodb_reads"),
        "{:.2f}",
    ),
    (
        "writes",
        "DynamoDB writes per order",
        _pooled_resource("dynamodb_writes"),
        "{:.2f}",
    ),
    (
        "lambda",
        "Lambda invocations per order",
        _pooled_resource("lambda_invocations"),
        "{:.2f}",
    ),
    (
        "transitions",
        "state transitions per order",
        _pooled_resource("states_entered"),
        "{:.2f}",
    ),
    ("standard", "$/M orders, STANDARD", lambda figs, p: _pooled(figs, p, lambda f: f.standard.total), "{:.2f}"),
    ("express", "$/M orders, EXPRESS", lambda figs, p: _pooled(figs, p, lambda f: f.express.total), "{:.2f}"),
    (
        "p50",
        "p50 latency vs no-breaker (median over scenarios)",
        lambda figs, p: _median(
            [r for f in figs if f.policy == p and (r := latency_ratio(f, figs, "p50")) is not None]
        ),
        "{:.2f}x",
    ),
    (
        "p99",
        "p99 latency vs no-breaker (median over scenarios)",
        lambda figs, p: _median(
            [r for f in figs if f.policy == p and (r := latency_ratio(f, figs, "p99")) is not None]
        ),
        "{:.2f}x",
    ),
]


def _charged(figs: list[Figures], policy: str) -> int:
    return sum(f.outcomes["charged"] for f in figs if f.policy == policy)


def _show(value: float | None, form: str) -> str:
    if value is None:
        return "n/a"
    return "never closed" if value == float("inf") else form.format(value)


def against_peers(figs: list[Figures]) -> list[str]:
    """Breakwater against the best peer in each column, with the ratio, and why where it loses."""
    rivals = peers(figs)
    rows, losses = [], []
    for key, title, measure, form in COLUMNS:
        mine = measure(figs, POLICY)
        scored = [(v, p) for p in rivals if (v := measure(figs, p)) is not None]
        if mine is None or not scored:
            continue
        best, peer = min(scored, key=lambda t: t[0])
        if best == mine:
            ratio = "1.00x"
        elif best in (0, float("inf")) or mine == float("inf"):
            ratio = "n/a"
        else:
            ratio = f"{mine / best:.2f}x"
        verdict = "ahead" if mine < best else ("level" if mine == best else "behind")
        rows.append([title, _show(mine, form), f"{peer} {_show(best, form)}", ratio, verdict])
        if mine > best:
            why = LOSSES.get(key, {})
            reason = why.get(_family(peer)) or why.get("any") or "see the scenario rows"
            if key == "failing":
                charged = f"{peer} charged {_charged(figs, peer)} orders, Breakwater {_charged(figs, POLICY)}"
                reason += f"; over all scenarios {charged}"
            losses.append(f"* **{title}**: behind {peer} ({_show(mine, form)} against {_show(best, form)}): {reason}.")
    table = _table(["column", "breakwater", "best peer", "ratio", "breakwater is"], rows)
    return [*table, *losses, ""]


def _special(figs: list[Figures]) -> list[str]:
    """What the tenants and quiet scenarios measure beyond the columns above."""
    out: list[str] = []
    tenants = [f for f in figs if f.blocked_healthy_tenants is not None]
    if tenants:
        rows = [[f.policy, str(f.blocked_healthy_tenants), str(f.wasted)] for f in tenants]
        out += [
            "**Tenants.** Orders of the nine healthy tenants that were refused a call (queued without one): "
            "each tenant has its own breaker key, so the answer must be 0.",
            "",
            *_table(["policy", "healthy tenants' orders refused", "failing calls (tenant 3)"], rows),
        ]
    quiet = [f for f in figs if f.scenario == "quiet"]
    if quiet:
        rows = [
            [f.policy, str(f.outcomes["queued"]), str(f.charged_in_the_end), str(f.queue_depth), recovery_text(f)]
            for f in quiet
        ]
        out += [
            "**Quiet.** No new order arrives after the provider recovers: a breaker closes only if something "
            "probes, and the queued orders are charged only by a replay. Breakwater's replay function ran "
            "(its queue polled as the Lambda service polls it); the other policies have no replay. An order the "
            "replay did not charge before the end is still on the queue: a failed call's order waits its retry "
            "delay hidden (15 to 30 s for the first retry, longer than the quiet phase), and counts in the last "
            "column with the visible ones.",
            "",
            *_table(
                [
                    "policy",
                    "orders queued",
                    "of them charged by a replay before the end",
                    "still on the queue (visible or deferred)",
                    "recovery s",
                ],
                rows,
            ),
        ]
    return out


def _orders(figs: list[Figures]) -> list[str]:
    rows = []
    for f in figs:
        reasons = ", ".join(f"{k} {v}" for k, v in f.queued_by_reason.items()) or "-"
        o = f.outcomes
        rows.append(
            [
                f.scenario,
                f.policy,
                str(f.submitted),
                str(o["charged"]),
                str(o["declined"]),
                f"{o['queued']} ({reasons})",
                str(o["invalid"]),
                str(f.lost),
                str(f.queue_depth),
                str(f.provider_calls),
                str(f.wasted_provider_log),
            ]
        )
    header = ["scenario", "policy", "submitted", "charged", "declined", "queued (reason)", "invalid", "lost"]
    return _table([*header, "on fallback queue (incl. deferred)", "provider calls", "failing (provider log)"], rows)


def _floors(figs: list[Figures]) -> list[str]:
    rows = [
        [
            f.scenario,
            f.policy,
            str(f.trips),
            str(f.floor.closed_allowance),
            str(f.floor.in_flight),
            str(f.floor.cooldowns),
            str(f.floor.probes),
            str(f.floor.total),
            str(f.wasted),
            _ratio(f),
        ]
        for f in figs
    ]
    header = ["scenario", "policy", "trips", "threshold allowance", "in flight at a trip", "cooldowns elapsed"]
    return _table([*header, "probes allowed", "floor", "failing calls", "ratio"], rows)


def recovery_text(f: Figures) -> str:
    """The recovery in seconds; "never opened" for a breaker that did not open (it had nothing to recover)."""
    if f.recovery_s is None and f.recovery_bound_s is not None and f.trips == 0:
        return NEVER_OPENED
    return _num(f.recovery_s)


NEVER_OPENED = "never opened"


def _recovery(figs: list[Figures]) -> list[str]:
    rows = []
    for f in figs:
        if f.recovery_bound_s is None and f.recovery_s is None:
            continue
        met = "n/a" if f.recovery_s is None or f.recovery_bound_s is None else str(f.recovery_s <= f.recovery_bound_s)
        rows.append([f.scenario, f.policy, recovery_text(f), _num(f.recovery_bound_s), met])
    return _table(["scenario", "policy", "recovery s", "bound s (cooldown + arrival gap + probe)", "within"], rows)


def _per_order(figs: list[Figures]) -> list[str]:
    rows = [
        [f.scenario, f.policy]
        + [f"{f.per_order[name]:.2f}" for name in RESOURCES]
        + [f"{f.per_order['lambda_ms']:.0f}", f"{f.per_order['workflow_ms']:.0f}"]
        for f in figs
    ]
    header = ["scenario", "policy", "states entered", "DynamoDB reads", "DynamoDB writes", "Lambda", "SQS"]
    return _table([*header, "Lambda ms (measured)", "workflow ms (measured)"], rows)


def _dollars(figs: list[Figures]) -> list[str]:
    rows = []
    for f in figs:
        s, e = f.standard, f.express
        rows.append(
            [
                f.scenario,
                f.policy,
                f"{s.total:.2f}",
                f"{s.workflow:.2f}",
                f"{s.dynamodb:.3f}",
                f"{s.lambda_:.3f}",
                f"{s.sqs:.3f}",
                f"{e.total:.2f}",
                f"{e.workflow:.2f}",
            ]
        )
    header = ["scenario", "policy", "STANDARD total", "Step Functions", "DynamoDB", "Lambda", "SQS"]
    return _table([*header, "EXPRESS total", "of which Step Functions"], rows)


def _paths(figs: list[Figures]) -> list[str]:
    rows = []
    for label, entry in merge_paths(figs).items():
        budget = BUDGET.get(label)
        ok = within_budget(label, entry)
        budget_text = "-" if budget is None else " / ".join(str(b) for b in budget.as_tuple())
        verdict = "no budget row" if ok is None else ("yes" if ok else "NO")
        counts = [str(entry[n]) for n in RESOURCES]
        over = [str(entry["over_budget"]), str(entry["window_race"])]
        rows.append([label, str(entry["executions"]), *counts, budget_text, verdict, *over])
    header = ["path", "executions", "states", "reads", "writes", "Lambda", "SQS"]
    budget_header = ["budget (states / reads / writes / Lambda / SQS)", "within", "executions over", "window race"]
    return _table([*header, *budget_header], rows)


STALL_MS = 100.0


def _stalls(figs: list[Figures]) -> list[str]:
    stalled = [f for f in figs if f.policy == "breakwater" and f.dynamodb_latency_ms.get("p95", 0.0) > STALL_MS]
    if not stalled:
        return []
    where = ", ".join(f"{f.scenario} (p95 {f.dynamodb_latency_ms['p95']:.0f} ms)" for f in stalled)
    return [
        f"**Local contention.** Breakwater's DynamoDB requests were slow in: {where}. Sampling the threads "
        "while 50 executions run at once shows them queueing on moto's process-wide backend lock "
        "(`moto/core/base_backend.py`, `_create_account_specific_backend`) and on the GIL: the whole stack "
        "interprets every execution in one process on this machine's cores. A limit of the local stack, not "
        "of the workflow; on AWS each request is served independently. It lengthens the executions (and the "
        "EXPRESS duration dollars) of that scenario; the call counts are unaffected.",
        "",
    ]


def _latency(figs: list[Figures]) -> list[str]:
    rows = []
    for f in figs:
        lat = f.dynamodb_latency_ms
        if lat:
            rows.append([f.scenario, f.policy, f"{lat['median']:.0f}", f"{lat['p95']:.0f}", f"{lat['max']:.0f}"])
    return _table(["scenario", "policy", "median ms", "p95 ms", "max ms"], rows)


def _throughput(results: Results) -> list[str]:
    rows = [
        [
            str(t["workers"]),
            str(t["executions"]),
            f"{t['executionsPerSecond']:.1f}",
            str(t["latencyMedianMs"]),
            str(t["latencyP95Ms"]),
            str(t.get("msPerState", "n/a")),
        ]
        for t in results.throughput
    ]
    return _table(
        ["concurrent clients", "executions", "executions/s", "median latency ms", "p95 latency ms", "ms per state"],
        rows,
    )


def _scenarios(scenarios: tuple[Scenario, ...]) -> list[str]:
    return _table(["scenario", "what happens", "script"], [[sc.name, sc.title, sc.describe()] for sc in scenarios])


def _targets(targets: list[Target]) -> list[str]:
    return _table(["target", "met", "detail"], [[t.name, "met" if t.met else "NOT MET", t.detail] for t in targets])


def _prices() -> list[str]:
    rows = [[name, f"{value:.10g}", unit, source] for name, (value, unit, source) in PRICES.items()]
    return _table(["price", "dollars", "unit", "source"], rows)


TEMPLATE = Path(__file__).with_name("report.md")  # the report's prose, with a $placeholder per figure and table
[_VOLUME] = by_name(["volume"])[0].phases


def _block(lines: list[str]) -> str:
    return "\n".join(lines)


def markdown(results: Results) -> str:
    s = results.settings
    text = Template(TEMPLATE.read_text()).substitute(
        python=platform.python_version(),
        wall=f"{results.wall_seconds:.0f}",
        threshold=s.threshold,
        cooldown=s.cooldown_s,
        max_cooldown=s.max_cooldown_s,
        success_threshold=s.success_threshold,
        max_probes=s.max_probes,
        window=s.window_s,
        probe_lease=s.probe_lease_s,
        call_timeout=s.call_timeout_s,
        handler_timeout=f"{s.call_timeout_s - 0.25:g}",
        scenarios=_block(
            _table(
                ["scenario", "what happens", "script"], [[sc.name, sc.title, sc.describe()] for sc in results.scenarios]
            )
        ),
        against_peers=_block(against_peers(results.figures)),
        every_policy=_block([*headline(results.figures), *_special(results.figures)]),
        targets=_block(
            _table(
                ["target", "met", "detail"],
                [[t.name, "met" if t.met else "NOT MET", t.detail] for t in results.targets],
            )
        ),
        orders=_block(_orders(results.figures)),
        floors=_block(_floors(results.figures)),
        recovery=_block(_recovery(results.figures)),
        per_order=_block(_per_order(results.figures)),
        latency=_block([*_latency(results.figures), *_stalls(results.figures)]),
        lambda_memory=LAMBDA_MEMORY_MB,
        express_memory=EXPRESS_MEMORY_MB,
        dollars=_block(_dollars(results.figures)),
        paths=_block(_paths(results.figures)),
        throughput=_block(_throughput(results)),
        pictures=_block([*[f"![{Path(p).stem}]({Path(p).name})" for p in results.pictures], ""]),
        rate=f"{RATE:g}",
        volume_rate=f"{_VOLUME.rate:g}",
        volume_seconds=f"{_VOLUME.seconds:g}",
        volume_failure=f"{_VOLUME.failure_rate or 0:.0%}",
        prices_region=PRICES_REGION,
        prices_checked=PRICES_CHECKED,
        prices=_block(_prices()),
    )
    return text.rstrip() + "\n"


def figures_json(f: Figures) -> dict[str, Any]:
    return {
        "policy": f.policy,
        "scenario": f.scenario,
        "submitted": f.submitted,
        "outcomes": f.outcomes,
        "lost": f.lost,
        "queuedByReason": f.queued_by_reason,
        "fallbackQueueDepth": f.queue_depth,
        "providerCalls": f.provider_calls,
        "failingCalls": f.wasted,
        "failingCallsProviderLog": f.wasted_provider_log,
        "floor": {**asdict(f.floor), "total": f.floor.total},
        "ratio": None if f.ratio is None else round(f.ratio, 4),
        "trips": f.trips,
        "recoverySeconds": None if f.recovery_s is None else round(f.recovery_s, 3),
        "recoveryBoundSeconds": None if f.recovery_bound_s is None else round(f.recovery_bound_s, 3),
        "latencyMs": f.latency_ms,
        "blockedHealthyTenants": f.blocked_healthy_tenants,
        "chargedInTheEnd": f.charged_in_the_end,
        "perOrder": {k: round(v, 4) for k, v in f.per_order.items()},
        "dynamodbLatencyMs": f.dynamodb_latency_ms,
        "dollarsPerMillionOrders": {"STANDARD": f.standard.as_dict(), "EXPRESS": f.express.as_dict()},
        "paths": f.paths,
    }


def run_json(run: PolicyRun) -> dict[str, Any]:
    start = run.started_at
    return {
        "policy": run.policy,
        "scenario": run.scenario,
        "seconds": round(run.finished_at - start, 2),
        "providerModes": [[round(at - start, 3), mode] for at, mode in run.provider_modes],
        "recoveredAt": None if run.recovered_at is None else round(run.recovered_at - start, 3),
        "transitions": [[round(at - start, 3), a, b] for at, a, b in run.transitions],
    }


def as_json(results: Results) -> dict[str, Any]:
    return {
        "wallSeconds": round(results.wall_seconds, 1),
        "python": platform.python_version(),
        "settings": asdict(results.settings),
        "pricesChecked": f"{PRICES_REGION}, {PRICES_CHECKED}",
        "prices": {k: {"dollars": v, "unit": u, "source": src} for k, (v, u, src) in PRICES.items()},
        "scenarios": [{"name": s.name, "title": s.title, "script": s.describe()} for s in results.scenarios],
        "results": [figures_json(f) for f in results.figures],
        "runs": [run_json(r) for r in results.runs],
        "breakwaterPaths": merge_paths(results.figures),
        "throughput": results.throughput,
        "targets": [asdict(t) for t in results.targets],
        "pictures": results.pictures,
    }


def write(results: Results, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / "results.md"
    md.write_text(markdown(results))
    js = out_dir / "results.json"
    js.write_text(json.dumps(as_json(results), indent=2) + "\n")
    return md, js
