"""``breakwater demo``: an outage and its recovery, told by real executions on the embedded stack.

The story runs the unchanged template with short timings set through its
parameters (not a different template): healthy traffic is charged; the
provider goes down; failures reach the threshold and the breaker trips; later
orders are queued at once without calling the provider; the cooldown passes
and a probe fails, so the breaker reopens for twice as long; the provider
answers again, slowly; a burst at the end of the cooldown admits one probe and
queues the rest; a second probe closes the breaker; traffic flows again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from breakwater.aws import Stack
from breakwater.breaker import read
from breakwater.breaker_record import STYLE, BreakerState
from breakwater.executions import ExecutionResult
from breakwater.local.stack import EmbeddedStack

# Short timings, through the template's own parameters.
PARAMETERS = {
    "FailureThreshold": 3,
    "FailureWindowSeconds": 30,
    "CooldownSeconds": 2,
    "MaxCooldownSeconds": 8,
    "SuccessThreshold": 2,
    "HalfOpenMaxProbes": 1,
    "ProbeLeaseSeconds": 10,
    "CallTimeoutSeconds": 3,
}
OUTCOME_STYLE = {"charged": "green", "declined": "yellow", "queued": "cyan", "failed": "red"}


@dataclass(frozen=True)
class Step:
    """One chapter of the story."""

    title: str
    provider: dict[str, Any]
    orders: int = 0
    concurrent: bool = False
    wait_for_cooldown: bool = False
    customers: tuple[str, ...] = ()


STORY = (
    Step("Healthy traffic is charged", {"mode": "healthy"}, orders=4, customers=("", "", "cus_card_declined", "")),
    Step("The provider goes down: failures reach the threshold and the breaker trips", {"mode": "down"}, orders=3),
    Step("Breaker open: orders are queued at once, the provider is left alone", {"mode": "down"}, orders=4),
    Step(
        "The cooldown passes; the probe fails and the breaker reopens for twice as long",
        {"mode": "down"},
        orders=1,
        wait_for_cooldown=True,
    ),
    Step("Still open: queued without a call", {"mode": "down"}, orders=2),
    Step(
        "The provider answers again, slowly; at the end of the cooldown a burst admits one probe",
        {"mode": "slow", "delay_seconds": 1.0},
        orders=3,
        concurrent=True,
        wait_for_cooldown=True,
    ),
    Step("A second probe succeeds and the breaker closes", {"mode": "healthy"}, orders=1),
    Step("Traffic flows again", {"mode": "healthy"}, orders=4),
)


@dataclass
class Row:
    """One order of the timeline."""

    number: int
    at: float
    order_id: str
    result: ExecutionResult
    breaker_after: str

    @property
    def outcome(self) -> str:
        kind = self.result.outcome.kind
        return "failed" if kind in ("failed", "invalid") else kind

    @property
    def detail(self) -> str:
        output = self.result.output or {}
        if self.outcome == "charged":
            return str(output.get("chargeId", ""))[:14]
        return str(output.get("reason") or self.result.error or "")


@dataclass
class DemoRun:
    """Everything the demo observed."""

    rows: list[Row] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    provider_calls: int = 0


def _order(number: int, customer: str) -> dict[str, Any]:
    return {
        "orderId": f"demo-{number:03d}",
        "amount": 1000 + number * 25,
        "currency": "USD",
        "customerId": customer or f"cus_{number:03d}",
    }


def _wait_for_cooldown(env: EmbeddedStack, stack: Stack, on_tick: Callable[[float], None]) -> None:
    dynamodb = env.client("dynamodb")
    record = read(dynamodb, stack.table_name, "payment-api")
    if record.open_until_ms is None:
        return
    while (remaining := record.open_until_ms / 1000 - time.time()) > 0:
        on_tick(remaining)
        time.sleep(min(0.1, remaining))
    time.sleep(0.05)


def _play(env: EmbeddedStack, stack: Stack, console: Console) -> DemoRun:
    run = DemoRun()
    dynamodb = env.client("dynamodb")
    started = time.time()
    number = 0
    total = sum(step.orders for step in STORY)

    def breaker_state() -> str:
        return read(dynamodb, stack.table_name, "payment-api").state

    table_header = f"{'#':>3} {'t+s':>6}  {'order':<9} {'outcome':<8} {'detail':<15} {'breaker after':<13} provider"
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=total)
        run.timeline.append((0.0, breaker_state()))
        for step in STORY:
            progress.console.print(f"\n[bold]{step.title}[/]  [dim](provider: {step.provider['mode']})[/]")
            progress.console.print(f"[dim]{table_header}[/]")
            env.provider.configure(**step.provider)
            if step.wait_for_cooldown:
                _wait_for_cooldown(
                    env, stack, lambda left: progress.update(task, description=f"cooling down, {left:.1f}s left")
                )
            progress.update(task, description=step.title.split(":")[0].split(";")[0])
            orders = []
            for i in range(step.orders):
                number += 1
                customer = step.customers[i] if i < len(step.customers) else ""
                orders.append(_order(number, customer))

            def record(o: dict[str, Any], result: ExecutionResult) -> None:
                at = time.time() - started
                state = breaker_state()
                run.timeline.extend((moment - started, after) for moment, _, after in result.transitions())
                row = Row(int(o["orderId"].split("-")[1]), at, o["orderId"], result, state)
                run.rows.append(row)
                called = "[bold]called[/]" if result.called_provider() else "[dim]not called[/]"
                style = OUTCOME_STYLE.get(row.outcome, "white")
                progress.console.print(
                    f"{row.number:>3} {at:>6.2f}  {row.order_id:<9} [{style}]{row.outcome:<8}[/] {row.detail:<15} "
                    f"[{STYLE.get(state, 'white')}]{state:<13}[/] {called}"
                )
                progress.advance(task)

            if step.concurrent:
                with ThreadPoolExecutor(max_workers=len(orders)) as pool:
                    results = list(pool.map(lambda o: env.run(stack, o), orders))
                for o, result in zip(orders, results, strict=True):
                    record(o, result)
            else:
                for o in orders:
                    record(o, env.run(stack, o))
    run.timeline.append((time.time() - started, breaker_state()))
    run.timeline.sort()
    run.provider_calls = len(env.provider.calls)
    return run


def summarize(run: DemoRun) -> dict[str, Any]:
    """The figures the demo ends with (also returned to callers and tests)."""
    outcomes = Counter(row.outcome for row in run.rows)
    queued = Counter(str(row.result.output.get("reason")) for row in run.rows if row.outcome == "queued")
    calls_made = sum(row.result.cost().lambda_invocations for row in run.rows)
    avoided = sum(1 for row in run.rows if not row.result.called_provider())
    transitions: Counter[str] = Counter(
        f"{before}->{after}" for row in run.rows for _, before, after in row.result.transitions()
    )
    paths: dict[str, dict[str, Any]] = {}
    for row in run.rows:
        cost = row.result.cost()
        entry = paths.setdefault(row.result.label, {"executions": 0, **cost.as_dict()})
        entry["executions"] += 1
        for key, value in cost.as_dict().items():
            entry[key] = max(entry[key], value)
    return {
        "orders": len(run.rows),
        "charged": outcomes["charged"],
        "declined": outcomes["declined"],
        "queued": sum(queued.values()),
        "queuedByReason": dict(sorted(queued.items())),
        "failed": outcomes["failed"],
        "providerCalls": calls_made,
        "providerCallsObserved": run.provider_calls,
        "callsAvoided": avoided,
        "transitions": dict(transitions),
        "paths": paths,
    }


def _summary_tables(summary: dict[str, Any]) -> list[Table]:
    outcomes = Table(title="Orders", title_justify="left")
    outcomes.add_column("outcome")
    outcomes.add_column("orders", justify="right")
    outcomes.add_row("[green]charged[/]", str(summary["charged"]))
    outcomes.add_row("[yellow]declined[/]", str(summary["declined"]))
    for reason, count in summary["queuedByReason"].items():
        outcomes.add_row(f"[cyan]queued[/] ({reason})", str(count))
    outcomes.add_row(
        "lost",
        "0" if summary["orders"] == summary["charged"] + summary["declined"] + summary["queued"] else "[red]some[/]",
    )
    outcomes.add_row("[bold]provider calls made[/]", str(summary["providerCalls"]))
    outcomes.add_row("[bold]provider calls avoided[/]", str(summary["callsAvoided"]))
    transitions = ", ".join(f"{k} x{v}" for k, v in summary["transitions"].items())
    outcomes.caption = f"breaker transitions: {transitions}"

    paths = Table(title="States entered per path (the price of a Standard workflow)", title_justify="left")
    for column in ("path", "executions", "states", "reads", "writes", "Lambda", "SQS"):
        paths.add_column(column, justify="left" if column == "path" else "right")
    for label, entry in sorted(summary["paths"].items(), key=lambda kv: kv[1]["states"]):
        paths.add_row(label, *(str(entry[k]) for k in ("executions", "states", "reads", "writes", "lambda", "sqs")))
    return [outcomes, paths]


def _picture(run: DemoRun, out_dir: Path) -> list[Path]:
    from breakwater import graph
    from breakwater.template import load_definition

    out_dir.mkdir(parents=True, exist_ok=True)
    state_counts, edge_counts = graph.counts_from_paths(row.result.path for row in run.rows)
    end_counts = Counter(row.result.path[-1] for row in run.rows if row.result.path)
    pictures = []
    for suffix in (".svg", ".png"):
        pictures.append(
            graph.render(
                load_definition(),
                out_dir / f"breakwater-demo{suffix}",
                state_counts=state_counts,
                edge_counts=edge_counts,
                timeline=run.timeline,
                title=f"Breakwater demo: {len(run.rows)} orders through an outage and recovery",
                end_counts=end_counts,
                markers=[(row.at, row.outcome) for row in run.rows],
            )
        )
    return pictures


def run_demo(out_dir: Path = Path("demo-output"), console: Console | None = None) -> dict[str, Any]:
    """Play the story; print the timeline and summary; write the picture. Returns the summary."""
    console = console or Console(width=None if Console().is_terminal else 110)
    began = time.time()
    console.print("[bold]Breakwater demo[/]: the real template, workflow and handler on the embedded local stack")
    parameters = " ".join(f"{k}={v}" for k, v in PARAMETERS.items())
    console.print(f"[dim]parameters: {parameters}[/]")
    with EmbeddedStack() as env:
        stack = env.deploy("breakwater-demo", **PARAMETERS)
        run = _play(env, stack, console)
    summary = summarize(run)
    console.print()
    for table in _summary_tables(summary):
        console.print(table)
    pictures = _picture(run, out_dir)
    summary["pictures"] = [str(p) for p in pictures]
    summary["seconds"] = round(time.time() - began, 1)
    console.print(f"\npicture of the run: {', '.join(summary['pictures'])}")
    console.print(f"[dim]finished in {summary['seconds']} s[/]")
    return summary


# --story rate: the same flaky traffic through a count-rule breaker and a rate-rule breaker, side by side.
COUNT_RULE = {"FailureThreshold": 3, "FailureWindowSeconds": 60, "CooldownSeconds": 30}
RATE_RULE = {**COUNT_RULE, "FailureThreshold": 0, "FailureRateThreshold": 50, "MinimumCalls": 4}
# Every other call fails: a success between failures clears the count rule's count, so it never sees 3 in a row.
RATE_TRAFFIC = ("down", "healthy") * 5


@dataclass(frozen=True)
class RateRow:
    """One order of the rate story, on both breakers."""

    number: int
    provider: str
    count: tuple[str, int, int]
    rate: tuple[str, int, int]


def play_rate_story(env: EmbeddedStack, count_stack: Stack, rate_stack: Stack) -> list[RateRow]:
    """Send RATE_TRAFFIC through both stacks; each row holds (state, failures, calls) after the order."""
    dynamodb = env.client("dynamodb")
    rows = []
    for number, mode in enumerate(RATE_TRAFFIC, start=1):
        env.provider.configure(mode=mode)
        seen = []
        for stack in (count_stack, rate_stack):
            env.run(stack, _order(number, ""))
            b = read(dynamodb, stack.table_name, "payment-api")
            seen.append((b.state, b.failure_count, b.call_count))
        rows.append(RateRow(number, mode, seen[0], seen[1]))
    return rows


def first_trip(rows: list[RateRow], which: str) -> int | None:
    """The order number after which that breaker ("count" or "rate") was first OPEN; None: it never tripped."""
    return next((row.number for row in rows if getattr(row, which)[0] == BreakerState.OPEN), None)


def run_rate_demo(console: Console | None = None) -> dict[str, Any]:
    """``breakwater demo --story rate``: a rate trip that the count rule at the same traffic does not make."""
    console = console or Console(width=None if Console().is_terminal else 110)
    console.print("[bold]Breakwater demo, rate story[/]: every other call fails, on two breakers side by side")
    console.print(f"[dim]count rule: {' '.join(f'{k}={v}' for k, v in COUNT_RULE.items())}[/]")
    console.print(f"[dim]rate rule:  {' '.join(f'{k}={v}' for k, v in RATE_RULE.items())}[/]")
    with EmbeddedStack() as env:
        rows = play_rate_story(
            env, env.deploy("breakwater-count", **COUNT_RULE), env.deploy("breakwater-rate", **RATE_RULE)
        )
    table = Table(title="after each order: state (failures / calls counted)", title_justify="left")
    for column in ("#", "provider", "count rule", "rate rule"):
        table.add_column(column)
    for row in rows:
        cells = [
            f"[{STYLE.get(state, 'white')}]{state}[/] ({failures} / {calls or '-'})"
            for state, failures, calls in (row.count, row.rate)
        ]
        table.add_row(str(row.number), row.provider, *cells)
    console.print(table)
    summary = {"countRuleTripAt": first_trip(rows, "count"), "rateRuleTripAt": first_trip(rows, "rate")}
    at = summary["countRuleTripAt"]
    count_text = f"tripped only after order {at}" if at else "never tripped: each success cleared its count"
    console.print(
        f"The rate rule tripped after order {summary['rateRuleTripAt']} (50 % of {RATE_RULE['MinimumCalls']} calls);"
        f" the count rule at the same traffic {count_text}."
    )
    return summary


__all__ = ["PARAMETERS", "RATE_RULE", "STORY", "play_rate_story", "run_demo", "run_rate_demo", "summarize"]
