"""``bench/scale.md`` from the figures of every volume: its prose is the template beside this module."""

from __future__ import annotations

import datetime as dt
import platform
from pathlib import Path
from string import Template

from breakwater import capacity
from breakwater.quotas import CHECKED, QUOTAS, Limits
from breakwater.scale.figures import Figures
from breakwater.scale.scenarios import BULKHEAD_SECONDS, CALL_TIMEOUT_S, LOCAL_RATE, PROVIDER_LATENCY_S, SCRIPT

TEMPLATE = Path(__file__).with_name("report.md")
FLOOR_TOLERANCE = 1.1  # failing calls may exceed the floor by a tenth
HEALTHY_KEY_RATE = 2000  # the check: no DynamoDB throttling on the healthy path at this rate on one key


def _ms(latency: dict[str, float]) -> str:
    return f"{latency.get('p50', 0):,.0f} / {latency.get('p99', 0):,.0f}" if latency else "-"


def _ratio(fig: Figures) -> str:
    ratio = fig.ratio
    return "-" if ratio is None else f"{ratio:.2f}x"


def results_table(figures: list[Figures]) -> str:
    rows = [
        "| volume | modelled orders/s (keys) | K | orders | lost | failing calls (floor, ratio) | fail-open calls | "
        "calls the state refused | failed executions | throttles | peak concurrency, payment / account | "
        "RCU / WCU per order | transitions per order | $ per million orders, STANDARD / EXPRESS | p50 / p99 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        rows.append(
            f"| {f.name} | {f.rate * f.keys:,.0f} ({f.keys}) | {f.scale:g} | {f.orders:,} | {f.lost} | "
            f"{f.failing_calls} ({f.floor}, {_ratio(f)}) | {f.fail_open_calls} | {f.refused_state_calls} | "
            f"{f.failed_executions} | {sum(f.throttles.values())} | "
            f"{f.peak_payment_concurrency:,.0f} / {f.peak_account_concurrency:,.0f} | "
            f"{f.read_units_per_order:.2f} / {f.write_units_per_order:.2f} | {f.transitions_per_order:.2f} | "
            f"{f.dollars['STANDARD']:,.2f} / {f.dollars['EXPRESS']:,.2f} | {_ms(f.latency_ms)} |"
        )
    return "\n".join(rows)


def settings_table(figures: list[Figures]) -> str:
    rows = [
        "| volume | workflow | PaymentConcurrency | raised quotas (modelled values) |",
        "|---|---|---|---|",
    ]
    for f in figures:
        raised = ", ".join(f"`{k}` {v:,.0f}" for k, v in f.raised.items()) or "none"
        rows.append(f"| {f.name} | {f.workflow_type} | {f.payment_concurrency:,} | {raised} |")
    return "\n".join(rows)


def throttles_section(figures: list[Figures]) -> str:
    lines = []
    for f in figures:
        if not f.throttles:
            lines.append(f"- **{f.name}**: none.")
            continue
        listed = "; ".join(f"{name}: {count:,}" for name, count in sorted(f.throttles.items()))
        lines.append(f"- **{f.name}**: {listed}.")
    return "\n".join(lines)


def phases_section(figures: list[Figures]) -> str:
    blocks = []
    for f in figures:
        rows = [
            f"**{f.name}**",
            "",
            "| phase | provider | orders | outcomes | throttles | p50 / p99 ms |",
            "|---|---|---|---|---|---|",
        ]
        for phase in f.phases:
            outcomes = ", ".join(f"{k} {v}" for k, v in phase["outcomes"].items())
            throttles = ", ".join(f"{k} {v}" for k, v in phase["throttles"].items()) or "none"
            rows.append(
                f"| {phase['phase']} | {phase['provider']} | {phase['orders']} | {outcomes} | {throttles} | "
                f"{_ms(phase['latency_ms'])} |"
            )
        rows += ["", f"![{f.name}](scale-{f.name}.png)"]
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def checks(figures: list[Figures]) -> str:
    lost = all(f.lost == 0 for f in figures)
    refused = all(f.fail_open_calls == 0 and f.refused_state_calls == 0 for f in figures)
    within = [f for f in figures if f.ratio is not None and f.ratio > FLOOR_TOLERANCE]
    healthy = [
        f
        for f in figures
        if f.keys == 1 and f.rate == HEALTHY_KEY_RATE and f.phases and f.phases[0]["throttles"].get("DynamoDB")
    ]
    lines = [
        f"- 0 orders lost in every volume: **{'yes' if lost else 'no'}**.",
        f"- 0 provider calls the breaker's state would have refused, and 0 fail-open calls: "
        f"**{'yes' if refused else 'no'}**.",
        f"- failing calls within {FLOOR_TOLERANCE}x the floor: **{'yes' if not within else 'no'}**"
        + ("" if not within else f" ({', '.join(f'{f.name} {f.ratio:.2f}x' for f in within)})")
        + ".",
        f"- no DynamoDB throttling on the healthy path at {HEALTHY_KEY_RATE:,} orders/s on one key: "
        f"**{'yes' if not healthy else 'no'}**.",
    ]
    return "\n".join(lines)


def binding_table(figures: list[Figures]) -> str:
    rows = [
        "| volume | first limit measured (phase) | on paper, with these settings: binds first at orders/s | then |",
        "|---|---|---|---|",
    ]
    for f in figures:
        limits = Limits(overrides=f.raised)
        first, second, *_ = capacity.ceilings(f.workflow_type, BULKHEAD_SECONDS, f.payment_concurrency, limits)
        rows.append(
            f"| {f.name} | {f.first_throttle or 'none'} | `{first.quota}` ({first.scope}): "
            f"{first.orders_per_s:,.0f} | `{second.quota}` ({second.scope}): {second.orders_per_s:,.0f} |"
        )
    return "\n".join(rows)


def ceiling_table(figures: list[Figures]) -> str:
    """One key at rising healthy rates: where its reads are throttled and orders queued as breaker_busy."""
    rows = [
        "| modelled orders/s on one key | orders | charged | queued `breaker_busy` | DynamoDB read throttles |",
        "|---|---|---|---|---|",
    ]
    healthy = [f for f in figures if f.keys == 1 and f.phases and f.phases[0]["provider"] == "healthy"]
    for f in sorted(healthy, key=lambda f: f.rate):
        phase = f.phases[0]
        busy = phase["outcomes"].get("queued (breaker_busy)", 0)
        reads = sum(n for name, n in f.throttles.items() if "Read" in name)
        rows.append(
            f"| {f.rate:,.0f} ({f.name}) | {phase['orders']} | {phase['outcomes'].get('charged', 0)} | {busy} | "
            f"{reads} |"
        )
    return "\n".join(rows)


def drain_table(figures: list[Figures]) -> str:
    rows = [
        "| volume | orders queued (all phases) | replays charged | drain, modelled orders/s | left on the queue | "
        "time to empty at that pace, modelled | trips |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        if not f.name.startswith("drain"):
            continue
        queued = sum(n for name, n in f.outcomes.items() if name.startswith("queued"))
        empty = "never" if f.time_to_empty_s is None else f"{f.time_to_empty_s / 60:,.1f} min"
        rows.append(
            f"| {f.name} | {queued:,} | {f.replays_charged:,} | {f.drain_per_s:,.1f} | {f.queue_left:,} | {empty} | "
            f"{f.trips} |"
        )
    return "\n".join(rows)


def limits_table() -> str:
    rows = ["| quota | service | what | default | unit | adjustable |", "|---|---|---|---|---|---|"]
    for q in QUOTAS:
        rows.append(
            f"| `{q.key}` | {q.service} | {q.what} | {q.default:,g} | {q.unit} | {'yes' if q.adjustable else 'no'} |"
        )
    return "\n".join(rows)


def render(figures: list[Figures], elapsed: float) -> str:
    script = "; ".join(f"{p.name} ({p.provider}, {p.seconds:g} s)" for p in SCRIPT)
    return Template(TEMPLATE.read_text()).substitute(
        date=dt.date.today().isoformat(),
        minutes=f"{elapsed / 60:.1f}",
        machine=f"{platform.machine()}, Python {platform.python_version()}",
        local_rate=f"{LOCAL_RATE:g}",
        latency=f"{PROVIDER_LATENCY_S * 1000:.0f}",
        timeout=CALL_TIMEOUT_S,
        bulkhead=f"{BULKHEAD_SECONDS:g}",
        script=script,
        settings=settings_table(figures),
        results=results_table(figures),
        checks=checks(figures),
        throttles=throttles_section(figures),
        phases=phases_section(figures),
        binding=binding_table(figures),
        ceiling=ceiling_table(figures),
        drain=drain_table(figures),
        limits=limits_table(),
        checked=CHECKED,
    )
