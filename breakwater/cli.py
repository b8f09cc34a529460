"""The ``breakwater`` command: the demo, the local stack, and the operator's tools.

Every command but ``demo``, ``local up`` and ``invoke`` talks to a deployed
stack through standard boto3 configuration (``--profile``, ``--region``,
``AWS_*`` variables), an optional ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``)
for the local stack, and finds its resources from the outputs of
``--stack-name`` (or ``BREAKWATER_STACK``, default ``breakwater``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.table import Table

from breakwater import __version__
from breakwater.aws import Target, find_resources, stack_name_from
from breakwater.breaker import Breaker, BreakerState, override, read, read_all
from breakwater.errors import BreakwaterError
from breakwater.executions import ExecutionResult, describe, start, wait

console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, highlight=False)

DEFAULT_EVENT = Path("events/order.json")


class UsageError(BreakwaterError):
    """The command line asks for something that cannot be done."""


# -- helpers -------------------------------------------------------------------------


def target_from(args: argparse.Namespace) -> Target:
    return Target(endpoint_url=args.endpoint_url, region=args.region, profile=args.profile)


def load_json_argument(value: str, what: str) -> Any:
    """A JSON document given inline or as a path to a file (``-`` reads standard input)."""
    if value == "-":
        text = sys.stdin.read()
    elif value.lstrip()[:1] in ("{", "[", '"') or value.strip() in ("null", "true", "false"):
        text = value
    else:
        path = Path(value)
        if not path.is_file():
            raise UsageError(f"{what}: {value} is neither JSON nor a readable file")
        text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{what}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None


def key_values(pairs: Sequence[str] | None, what: str) -> dict[str, str]:
    result = {}
    for pair in pairs or ():
        for item in pair.split():
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise UsageError(f"{what}: expected KEY=VALUE, got {item!r}")
            result[key] = value.strip('"')
    return result


def fmt_ms(ms: int | None) -> str:
    if ms is None:
        return "-"
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def fmt_until(ms: int | None, now_ms: int) -> str:
    if ms is None:
        return "-"
    delta = (ms - now_ms) / 1000
    return f"{fmt_ms(ms)} ({'in ' + format(delta, '.1f') + 's' if delta > 0 else 'passed'})"


STATE_STYLE = {
    "CLOSED": "green",
    "HALF_OPEN": "yellow",
    "OPEN": "red",
    "FORCED_OPEN": "bold red",
    "DISABLED": "dim",
}


def styled_state(state: str) -> str:
    return f"[{STATE_STYLE.get(state, 'white')}]{state}[/]"


# -- history ---------------------------------------------------------------------------


def event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The console's event table: id, type, step, resource, elapsed ms, time."""
    if not events:
        return []
    started = events[0]["timestamp"]
    step = ""
    rows = []
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            step = entered["name"]
        details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
        resource = ""
        if "resourceType" in details:
            resource = f"{details['resourceType']}:{details['resource']}"
        rows.append(
            {
                "id": event["id"],
                "type": event["type"],
                "step": "" if event["type"].startswith("Execution") else step,
                "resource": resource,
                "elapsedMs": int((event["timestamp"] - started).total_seconds() * 1000),
                "time": event["timestamp"].isoformat(timespec="milliseconds"),
                "error": details.get("error"),
            }
        )
    return rows


def print_history(result: ExecutionResult) -> None:
    table = Table(title=f"{result.name}: {result.status}", title_justify="left")
    for column in ("ID", "Type", "Step", "Resource", "Started after", "Date and time"):
        table.add_column(column, justify="right" if column in ("ID", "Started after") else "left")
    for row in event_rows(result.events):
        kind = row["type"] + (f" ({row['error']})" if row["error"] else "")
        style = "red" if "Failed" in row["type"] or "TimedOut" in row["type"] else None
        table.add_row(
            str(row["id"]), kind, row["step"], row["resource"], f"{row['elapsedMs']} ms", row["time"], style=style
        )
    console.print(table)
    console.print("path: " + " -> ".join(result.path))


def print_result(result: ExecutionResult) -> None:
    console.print(f"execution: {result.arn}")
    console.print(f"status:    {result.status}")
    if result.output is not None:
        console.print("output:    " + json.dumps(result.output))
    if result.error:
        console.print(f"error:     {result.error}: {result.cause}")
    cost = result.cost()
    console.print(
        f"cost:      {cost.states_entered} states, {cost.dynamodb_reads} reads, {cost.dynamodb_writes} writes, "
        f"{cost.lambda_invocations} Lambda, {cost.sqs_messages} SQS"
    )


# -- commands ----------------------------------------------------------------------------


def cmd_start(args: argparse.Namespace) -> int:
    target = target_from(args)
    resources = find_resources(target, stack_name_from(args.stack_name))
    order = load_json_argument(args.input, "--input")
    sfn = target.client("stepfunctions")
    if sfn.describe_state_machine(stateMachineArn=resources.state_machine_arn)["type"] == "EXPRESS":
        return start_express(sfn, resources.state_machine_arn, order, args.name)
    arn = start(sfn, resources.state_machine_arn, order, args.name)
    if args.no_wait:
        console.print(arn)
        return 0
    result = wait(sfn, arn, timeout=args.timeout)
    print_result(result)
    console.print("path:      " + " -> ".join(result.path))
    return 0 if result.status == "SUCCEEDED" else 1


def start_express(sfn: Any, state_machine_arn: str, order: Any, name: str | None) -> int:
    """EXPRESS executions keep no history to describe: run them with StartSyncExecution."""
    response = sfn.start_sync_execution(
        stateMachineArn=state_machine_arn, input=json.dumps(order), **({"name": name} if name else {})
    )
    console.print(f"execution: {response['executionArn']} (EXPRESS, synchronous)")
    console.print(f"status:    {response['status']}")
    if response.get("output"):
        console.print("output:    " + response["output"])
    if response.get("error"):
        console.print(f"error:     {response['error']}: {response.get('cause')}")
    console.print("history:   EXPRESS workflows log their transitions to CloudWatch Logs, not to an execution history")
    return 0 if response["status"] == "SUCCEEDED" else 1


def cmd_history(args: argparse.Namespace) -> int:
    sfn = target_from(args).client("stepfunctions")
    result = describe(sfn, args.execution_arn)
    if args.json:
        print(json.dumps({"status": result.status, "path": result.path, "events": event_rows(result.events)}))
        return 0
    print_history(result)
    return 0


def breaker_table(breakers: list[Breaker]) -> Table:
    now = int(dt.datetime.now(tz=dt.UTC).timestamp() * 1000)
    table = Table(title="breakers", title_justify="left")
    for column in (
        "service",
        "state",
        "failures",
        "open until",
        "trips",
        "probes",
        "probe successes",
        "version",
        "last transition",
    ):
        table.add_column(column)
    for b in breakers:
        table.add_row(
            b.service,
            styled_state(b.state) + ("" if b.exists else " (no record)"),
            str(b.failure_count),
            fmt_until(b.open_until_ms, now) if b.state in ("OPEN",) else "-",
            str(b.trip_count),
            str(b.probes_in_flight),
            str(b.half_open_successes),
            str(b.version),
            fmt_ms(b.last_transition_ms),
        )
    return table


def cmd_status(args: argparse.Namespace) -> int:
    target = target_from(args)
    resources = find_resources(target, stack_name_from(args.stack_name))
    dynamodb = target.client("dynamodb")
    if args.service:
        breakers = [read(dynamodb, resources.table_name, args.service)]
    else:
        breakers = read_all(dynamodb, resources.table_name)
    if args.json:
        print(json.dumps([b.as_dict() for b in breakers]))
        return 0
    if not breakers:
        console.print("no breaker records yet: every service is CLOSED with zero counts")
        return 0
    console.print(breaker_table(breakers))
    recent = recent_transitions(target.client("cloudwatch"), [b.service for b in breakers])
    if recent:
        table = Table(
            title="recent transitions (CircuitState metric, per-minute maximum: the first state seen in the last"
            " 3 hours, then each change)",
            title_justify="left",
        )
        for column in ("time", "service", "state"):
            table.add_column(column)
        for moment, service, state in recent[-20:]:
            table.add_row(moment.strftime("%H:%M:%S"), service, styled_state(state))
        console.print(table)
    return 0


CIRCUIT_STATES = {0: "CLOSED", 1: "HALF_OPEN", 2: "OPEN"}


def recent_transitions(cloudwatch: Any, services: list[str], hours: float = 3) -> list[tuple[Any, str, str]]:
    """Per-minute maxima of CircuitState where they changed, oldest first, per service.

    The transitions function publishes a datapoint at each transition and every breaker's
    state once a minute (its heartbeat); a minute like the one before it is not a change.
    """
    if not services:
        return []
    now = dt.datetime.now(tz=dt.UTC)
    queries = [
        {
            "Id": f"s{i}",
            "Label": service,
            "MetricStat": {
                "Metric": {
                    "Namespace": "Breakwater",
                    "MetricName": "CircuitState",
                    "Dimensions": [{"Name": "ServiceName", "Value": service}],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
        }
        for i, service in enumerate(services[:100])
    ]
    try:
        data = cloudwatch.get_metric_data(
            MetricDataQueries=queries, StartTime=now - dt.timedelta(hours=hours), EndTime=now + dt.timedelta(minutes=5)
        )
    except ClientError:
        return []  # no permission to read metrics: the table above still stands
    found = []
    for result in data["MetricDataResults"]:
        previous = None
        for moment, value in sorted(zip(result["Timestamps"], result["Values"], strict=False)):
            state = CIRCUIT_STATES.get(int(value), str(value))
            if state != previous:
                found.append((moment, result["Label"], state))
            previous = state
    return sorted(found)


OVERRIDES = {"trip": BreakerState.FORCED_OPEN, "reset": BreakerState.CLOSED, "disable": BreakerState.DISABLED}


def cmd_override(args: argparse.Namespace) -> int:
    target = target_from(args)
    resources = find_resources(target, stack_name_from(args.stack_name))
    before, after = override(target.client("dynamodb"), resources.table_name, args.service, OVERRIDES[args.command])
    console.print(f"{args.service}: {styled_state(before.state)} -> {styled_state(after.state)}")
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from breakwater.invoke import function_spec, run

    event = load_json_argument(args.event, "--event") if args.event else {}
    env_vars = load_json_argument(args.env_vars, "--env-vars") if args.env_vars else None
    spec, warnings = function_spec(
        args.function, overrides=key_values(args.parameter_overrides, "--parameter-overrides"), env_vars=env_vars
    )
    for warning in warnings:
        err_console.print(f"warning: {warning}")
    result = run(spec, event)
    if result.logs:
        sys.stderr.write(result.logs if result.logs.endswith("\n") else result.logs + "\n")
    err_console.print(f"{spec.name}: {result.duration_ms:.0f} ms (timeout {spec.timeout_seconds:g} s)", style="dim")
    print(json.dumps(result.payload))
    return 1 if result.failed else 0


def cmd_graph(args: argparse.Namespace) -> int:
    from breakwater import graph
    from breakwater.template import load_definition

    definition = load_definition()
    paths: list[list[str]] = []
    if args.execution_arn:
        sfn = target_from(args).client("stepfunctions")
        paths.append(describe(sfn, args.execution_arn).path)
    state_counts, edge_counts = graph.counts_from_paths(paths)
    if args.format == "mermaid":
        print(graph.to_mermaid(definition, state_counts or None, highlight=state_counts))
        return 0
    out = Path(args.output)
    graph.render(
        definition,
        out,
        state_counts=state_counts,
        edge_counts=edge_counts,
        title=args.execution_arn.rsplit(":", 1)[-1] if args.execution_arn else "Breakwater workflow",
    )
    console.print(f"wrote {out}")
    if paths:
        console.print("path: " + " -> ".join(paths[0]))
    return 0


def cmd_local_up(args: argparse.Namespace) -> int:
    from breakwater.local.server import LocalServer

    server = LocalServer(
        port=args.port,
        provider_port=args.provider_port,
        stack_name=stack_name_from(args.stack_name),
        parameters=key_values(args.parameter_overrides, "--parameter-overrides"),
        replay=not args.no_replay,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stack = server.start()
    console.print(f"Breakwater local stack on [bold]{server.endpoint}[/] (stack {stack.name})")
    for key, value in stack.outputs.items():
        console.print(f"  {key:<28} {value}")
    console.print(f"  {'FakeProviderUrl':<28} {server.provider.url}")
    console.print(f"  {'PaymentApiKeySecretArn':<28} {server.parameters_used.get('PaymentApiKeySecretArn', '')}")
    console.print(f"  replay of queued orders: {'on (every second)' if server.replay else 'off'}")
    console.print(f'  switch faults: curl -X POST {server.provider.url}/_control -d \'{{"mode": "down"}}\'')
    console.print("\nPoint the AWS CLI, boto3 and breakwater at it:")
    exports = " ".join(f"{k}={v}" for k, v in server.environment().items())
    print(f"export {exports}", flush=True)
    console.print("\nReady. Ctrl-C stops it.")
    try:
        stop.wait()
    finally:
        server.stop()
        console.print("stopped")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from breakwater.demo import run_demo

    summary = run_demo(out_dir=Path(args.out), console=console)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=2))
    return 0


# -- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    aws = argparse.ArgumentParser(add_help=False)
    group = aws.add_argument_group("AWS options")
    group.add_argument("--endpoint-url", help="endpoint of the local stack (default: AWS_ENDPOINT_URL or AWS)")
    group.add_argument("--region", help="AWS region (default: the boto3 configuration)")
    group.add_argument("--profile", help="AWS profile")
    group.add_argument(
        "--stack-name", help="stack whose outputs name the resources (default: $BREAKWATER_STACK or breakwater)"
    )

    parser = argparse.ArgumentParser(prog="breakwater", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--version", action="version", version=f"breakwater {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="an outage scenario on the embedded local stack, as a live timeline")
    demo.add_argument("--out", default="demo-output", help="folder for the picture of the run (default: demo-output)")
    demo.add_argument("--summary-json", help="also write the summary figures as JSON to this file")
    demo.set_defaults(handler=cmd_demo)

    local = commands.add_parser("local", help="the local stack")
    local_commands = local.add_subparsers(dest="local_command", metavar="ACTION", required=True)
    up = local_commands.add_parser("up", help="serve the local stack on 127.0.0.1 with template.yaml deployed")
    up.add_argument("--port", type=int, default=4566, help="port of the AWS endpoint (default: 4566)")
    up.add_argument("--provider-port", type=int, default=4567, help="port of the fake provider (default: 4567)")
    up.add_argument("--stack-name", help="stack name (default: breakwater)")
    up.add_argument("--parameter-overrides", nargs="+", metavar="KEY=VALUE", help="template parameters")
    up.add_argument("--no-replay", action="store_true", help="do not poll the fallback queue with the replay function")
    up.set_defaults(handler=cmd_local_up)

    start_cmd = commands.add_parser("start", parents=[aws], help="start an execution, wait, print output and path")
    start_cmd.add_argument(
        "--input", default=str(DEFAULT_EVENT), help="JSON, a file, or - (default: events/order.json)"
    )
    start_cmd.add_argument("--name", help="execution name (default: a unique one)")
    start_cmd.add_argument("--no-wait", action="store_true", help="print the execution ARN and return")
    start_cmd.add_argument("--timeout", type=float, default=120, help="seconds to wait (default: 120)")
    start_cmd.set_defaults(handler=cmd_start)

    hist = commands.add_parser("history", parents=[aws], help="an execution's transitions, as the console shows them")
    hist.add_argument("execution_arn", metavar="EXECUTION_ARN")
    hist.add_argument("--json", action="store_true", help="machine-readable output")
    hist.set_defaults(handler=cmd_history)

    status = commands.add_parser("status", parents=[aws], help="breakers: state, failures, open until, trips")
    status.add_argument("service", nargs="?", metavar="SERVICE")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=cmd_status)

    for name, text in (
        ("trip", "force a breaker open (FORCED_OPEN): always queue, never call"),
        ("reset", "close a breaker and clear its counts (CLOSED)"),
        ("disable", "disable a breaker (DISABLED): always call, record nothing"),
    ):
        sub = commands.add_parser(name, parents=[aws], help=text)
        sub.add_argument("service", metavar="SERVICE")
        sub.set_defaults(handler=cmd_override)

    inv = commands.add_parser("invoke", help="run one function's handler as sam local invoke does, without Docker")
    inv.add_argument("function", metavar="FUNCTION", help="logical id in template.yaml, e.g. PaymentFunction")
    inv.add_argument("-e", "--event", help="event JSON, a file, or - for standard input")
    inv.add_argument("-n", "--env-vars", help="JSON (sam format) of environment variables per function")
    inv.add_argument("--parameter-overrides", nargs="+", metavar="KEY=VALUE", help="template parameters")
    inv.set_defaults(handler=cmd_invoke)

    gr = commands.add_parser("graph", parents=[aws], help="the state machine as a picture, the path taken highlighted")
    gr.add_argument("execution_arn", nargs="?", metavar="EXECUTION_ARN")
    gr.add_argument("-o", "--output", default="breakwater-graph.svg", help="SVG or PNG file (default: %(default)s)")
    gr.add_argument("--format", choices=("picture", "mermaid"), default="picture")
    gr.set_defaults(handler=cmd_graph)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except BreakwaterError as exc:
        err_console.print(f"breakwater: error: {exc}", style="red")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err_console.print(f"breakwater: error: {error.get('Code')}: {error.get('Message')}", style="red")
    except BotoCoreError as exc:
        err_console.print(f"breakwater: error: {exc}", style="red")
    except OSError as exc:
        err_console.print(f"breakwater: error: {exc}", style="red")
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
