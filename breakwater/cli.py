"""The ``breakwater`` command: the demo, the local stack, and the operator's tools.

Every command but ``demo``, ``local up`` and ``invoke`` talks to a deployed
stack through standard boto3 configuration (``--profile``, ``--region``,
``AWS_*`` variables), an optional ``--endpoint-url`` (or ``AWS_ENDPOINT_URL``)
for the local stack, and finds its resources from the outputs of
``--stack-name`` (or ``BREAKWATER_STACK``, default ``breakwater``).

Exit codes: 0 done; 1 an error (one line on standard error), a failed
execution or a function error; 2 a usage error (as argparse reports it: an
unknown option, a value out of range, JSON that does not parse); 130 stopped by
Ctrl-C before it was done. Values from the user, AWS or the provider are
printed literally: no rich markup or emoji codes are read in them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.util
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from breakwater import __version__, orders
from breakwater.arguments import endpoint_url, execution_arn, order_id, port_number, positive_seconds, region_name
from breakwater.aws import Target, aws_failure, find_stack, stack_name_from, stack_service_name
from breakwater.breaker import MODES, OVERRIDES, forget, override, read, read_all, set_mode
from breakwater.entry import EXIT_INTERRUPTED
from breakwater.errors import BreakwaterError
from breakwater.executions import ExecutionResult, describe, event_rows, start, wait
from breakwater.status_view import print_status, styled_state
from breakwater.transition_history import ending_as_recorded, stream_transitions

# markup and emoji off: every value (a service name, an ARN with ":secret:", an error's cause) prints as it is.
# soft_wrap: a line is never broken at the terminal's width (an error stays one line, an ARN stays whole).
console = Console(
    highlight=False,
    soft_wrap=True,
    markup=False,
    emoji=False,
    width=None if sys.stdout.isatty() or "COLUMNS" in os.environ else 120,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

DEFAULT_EVENT = Path("events/order.json")
DEFAULT_GRAPH = "breakwater-graph.svg"
DEFAULT_DEMO_OUT = "demo-output"
MERMAID_SUFFIXES = (".mmd", ".mermaid")


class UsageError(BreakwaterError):
    """The command line asks for something that cannot be done (exit code 2, as argparse's own errors)."""


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


# -- history ---------------------------------------------------------------------------


def print_history(result: ExecutionResult) -> None:
    rows = event_rows(result.events)
    day = f" ({rows[0]['time'][:10]}, times UTC)" if rows else ""
    table = Table(title=f"{result.name}: {result.status}{day}", title_justify="left")
    # The key columns (id, type, elapsed, time) keep their width on a narrow terminal; the others fold.
    # Borders and padding take 19 columns; id, type, "Started after" and time 45: step and resource share the rest.
    room = max(6, (console.width - 64) // 2)
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Type", overflow="fold", min_width=len("ExecutionSucceeded"))
    table.add_column("Step", overflow="fold", max_width=room)
    table.add_column("Resource", overflow="fold", max_width=room)
    table.add_column("Started after", justify="right", overflow="fold", min_width=len("99999 ms"))
    table.add_column("Time", no_wrap=True, min_width=len("00:00:00.000"))
    for row in rows:
        kind = row["type"] + (f" ({row['error']})" if row["error"] else "")
        style = "red" if "Failed" in row["type"] or "TimedOut" in row["type"] else None
        table.add_row(
            str(row["id"]),
            kind,
            row["step"],
            row["resource"],
            f"{row['elapsedMs']} ms",
            row["time"][11:23],  # HH:MM:SS.mmm of the ISO time (its date is in the title)
            style=style,
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
    resources = find_stack(target, stack_name_from(args.stack_name))
    order = load_json_argument(args.input, "--input")
    sfn = target.client("stepfunctions")
    if sfn.describe_state_machine(stateMachineArn=resources.state_machine_arn)["type"] == "EXPRESS":
        if args.no_wait:
            raise UsageError(
                "--no-wait: this state machine is EXPRESS; it runs with StartSyncExecution, which returns only at"
                " the end (drop --no-wait)"
            )
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
    if response.get("output"):  # JSON text, printed as a STANDARD execution's output is
        console.print("output:    " + json.dumps(json.loads(response["output"])))
    if response.get("error"):
        console.print(f"error:     {response['error']}: {response.get('cause')}")
    console.print("history:   EXPRESS workflows log their transitions to CloudWatch Logs, not to an execution history")
    return 0 if response["status"] == "SUCCEEDED" else 1


def cmd_order(args: argparse.Namespace) -> int:
    found = orders.lookup(target_from(args), stack_name_from(args.stack_name), args.order_id)
    if args.json:
        print(json.dumps(found))
    else:
        for line in orders.describe(found):
            console.print(line)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    sfn = target_from(args).client("stepfunctions")
    result = describe(sfn, args.execution_arn)
    if args.json:
        print(json.dumps({"status": result.status, "path": result.path, "events": event_rows(result.events)}))
        return 0
    print_history(result)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    target = target_from(args)
    stack_name = stack_name_from(args.stack_name)
    resources = find_stack(target, stack_name)
    dynamodb = target.client("dynamodb")
    if args.service:
        breakers = [read(dynamodb, resources.table_name, args.service)]
        default = resources.parameters.get("ServiceName")
        if not breakers[0].exists and args.service != default and not args.json:
            known = ", ".join(b.service for b in read_all(dynamodb, resources.table_name)) or "none"
            raise BreakwaterError(
                f"{args.service} has no breaker record: no order has named this service (records: {known};"
                f" the stack's own ServiceName is {default})"
            )
    else:
        breakers = read_all(dynamodb, resources.table_name)
    if args.json:
        print(json.dumps([b.as_dict() for b in breakers]))
        return 0
    if not breakers:
        console.print("no breaker records yet: every service is CLOSED with zero counts")
        return 0
    history = stream_transitions(dynamodb, target.client("dynamodbstreams"), resources.table_name)
    history = ending_as_recorded(history, breakers)
    services = {b.service for b in breakers}
    transitions = [t for t in history.transitions if t.service in services]
    print_status(console, breakers, transitions, history.problem, int(dt.datetime.now(tz=dt.UTC).timestamp() * 1000))
    return 0


def cmd_override(args: argparse.Namespace) -> int:
    target = target_from(args)
    stack_name = stack_name_from(args.stack_name)
    resources = find_stack(target, stack_name)
    # A breaker with no record yet exists only for the stack's own ServiceName (or on purpose, --create):
    # anything else is most likely a typo, and an override would create a breaker no order uses.
    create = args.create or args.service == stack_service_name(target, stack_name)
    before, after = override(
        target.client("dynamodb"), resources.table_name, args.service, OVERRIDES[args.command], create=create
    )
    console.print(Text.assemble(f"{args.service}: ", styled_state(before.state), " -> ", styled_state(after.state)))
    return 0


def cmd_mode(args: argparse.Namespace) -> int:
    target = target_from(args)
    resources = find_stack(target, stack_name_from(args.stack_name))
    before, after = set_mode(target.client("dynamodb"), resources.table_name, args.service, MODES[args.command])
    console.print(
        Text.assemble(
            f"{args.service}: mode {before.mode or 'default'} -> {after.mode} (state ", styled_state(after.state), ")"
        )
    )
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    target = target_from(args)
    resources = find_stack(target, stack_name_from(args.stack_name))
    gone = forget(target.client("dynamodb"), resources.table_name, args.service)
    console.print(
        Text.assemble(
            f"{args.service}: record deleted (was ",
            styled_state(gone.state),
            f", version {gone.version}); with no record a breaker is CLOSED with zero counts",
        )
    )
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from breakwater.invoke import function_spec, run
    from breakwater.local.provider import FakeProvider
    from breakwater.template import check_overrides, load_template

    event = load_json_argument(args.event, "--event") if args.event else {}
    env_vars = load_json_argument(args.env_vars, "--env-vars") if args.env_vars else None
    overrides = check_overrides(key_values(args.parameter_overrides, "--parameter-overrides"), load_template())
    provider = None
    if args.function == "PaymentFunction" and "PaymentApiUrl" not in overrides:
        # PaymentApiUrl has no default: without one, the documented command charges the fake provider.
        provider = FakeProvider()
        overrides["PaymentApiUrl"] = provider.start()
        err_console.print(f"PaymentApiUrl not given: charging the fake provider at {provider.url}", style="dim")
    try:
        spec, warnings = function_spec(args.function, overrides=overrides, env_vars=env_vars)
        for warning in warnings:
            err_console.print(f"warning: {warning}")
        result = run(spec, event)
    finally:
        if provider is not None:
            provider.stop()
    if result.logs:
        sys.stderr.write(result.logs if result.logs.endswith("\n") else result.logs + "\n")
    err_console.print(f"{spec.name}: {result.duration_ms:.0f} ms (timeout {spec.timeout_seconds:g} s)", style="dim")
    print(json.dumps(result.payload))
    return 1 if result.failed else 0


def cmd_graph(args: argparse.Namespace) -> int:
    from breakwater import graph
    from breakwater.template import load_definition

    out = Path(args.output) if args.output else None
    kind = args.format or ("mermaid" if out is not None and out.suffix.lower() in MERMAID_SUFFIXES else "picture")
    if kind == "picture":
        out = out or Path(DEFAULT_GRAPH)
        if out.suffix.lower() not in graph.PICTURE_FORMATS:
            raise UsageError(
                f"-o {out}: a picture is {' or '.join(graph.PICTURE_FORMATS)}; for Mermaid text use"
                f" --format mermaid (or a {' or '.join(MERMAID_SUFFIXES)} file)"
            )
    definition = load_definition()
    paths: list[list[str]] = []
    if args.execution_arn:
        sfn = target_from(args).client("stepfunctions")
        paths.append(describe(sfn, args.execution_arn).path)
    state_counts, edge_counts = graph.counts_from_paths(paths)
    if kind == "mermaid":
        text = graph.to_mermaid(definition, state_counts or None, highlight=state_counts)
        if out is None:
            print(text)
        else:
            out.write_text(text if text.endswith("\n") else text + "\n")
            err_console.print(f"wrote {out}")
        return 0
    assert out is not None
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


def console_module() -> ModuleType | None:
    """``breakwater.console`` where it is installed (it adds a command and a page to ``local up``)."""
    if importlib.util.find_spec("breakwater.console") is None:
        return None
    return importlib.import_module("breakwater.console")


def print_activity(line: str) -> None:
    console.print(line)


def cmd_local_up(args: argparse.Namespace) -> int:
    from breakwater.local.server import LocalServer

    server = LocalServer(
        port=args.port,
        provider_port=args.provider_port,
        stack_name=stack_name_from(args.stack_name),
        parameters=key_values(args.parameter_overrides, "--parameter-overrides"),
        replay=not args.no_replay,
        lambda_endpoint=args.lambda_endpoint,
        on_activity=None if args.quiet else print_activity,
        aws_limits=aws_limits_of(args),
        allowed_hosts=frozenset(host.lower() for host in args.allow_host or ()),
    )
    stop, ready = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C while stopping: leave now
            sys.stdout.flush()
            os._exit(EXIT_INTERRUPTED)
        stop.set()
        if not ready.is_set():  # still starting: abandon the start-up where it is
            raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    console.print(f"Starting the local stack on {server.endpoint}: deploying template.yaml (Ctrl-C stops it)")
    if server.aws_limits is not None:
        limits = server.aws_limits.limits
        raised = "".join(f", {key}={value:g}" for key, value in limits.overrides.items())
        console.print(f"AWS limits on (docs/SCALING.md): scale {limits.scale:g}{raised}")
    try:
        stack = server.start()
        ready.set()
        serve_until(stop, server, stack)
    finally:
        started = ready.is_set()
        ready.set()  # from here a signal only asks to stop (a second one leaves at once)
        server.stop()
        if started:
            console.print("stopped")
    return 0


def aws_limits_of(args: argparse.Namespace) -> Any:
    """The limits ``--aws-limits``, ``--scale`` and ``--quota`` ask for (None: off); one clear error if they are bad."""
    from breakwater.local.aws_limits import AwsLimits, Limits, UnknownQuota, parse_overrides

    if not args.aws_limits:
        if args.scale is not None or args.quota:
            raise BreakwaterError("--scale and --quota need --aws-limits")
        return None
    try:
        scale = 1.0 if args.scale is None else args.scale
        return AwsLimits(Limits(scale=scale, overrides=parse_overrides(args.quota or [])))
    except (UnknownQuota, ValueError) as exc:
        raise BreakwaterError(str(exc)) from None


def serve_until(stop: threading.Event, server: Any, stack: Any) -> None:
    """Print the banner (outputs, exports, links), then serve until ``stop`` is set."""
    module = console_module()
    console_url = module.mount_local(server) if module is not None and hasattr(module, "mount_local") else None
    console.print(Text.assemble("Breakwater local stack on ", (server.endpoint, "bold"), f" (stack {stack.name})"))
    for key, value in stack.outputs.items():
        console.print(f"  {key:<28} {value}")
    console.print(f"  {'FakeProviderUrl':<28} {server.provider.url}")
    console.print(f"  {'PaymentApiKeySecretArn':<28} {stack.parameters.get('PaymentApiKeySecretArn', '')}")
    console.print(f"  replay of queued orders: {'on (every second)' if server.replay else 'off'}")
    if stack.outputs.get("CheckoutApiId"):
        from breakwater.local.http_api import local_url

        url = local_url(stack.outputs["CheckoutApiId"], server.port)
        console.print(
            f"  checkout API: {url}/orders (SigV4: curl --aws-sigv4 aws:amz:{server.region}:execute-api"
            " --user testing:testing); its AWS host too where --allow-host names it"
        )
    console.print(f'  switch faults: curl -X POST {server.provider.url}/_control -d \'{{"mode": "down"}}\'')
    if server.lambda_endpoint:
        console.print(f"  Lambda invokes go to {server.lambda_endpoint}")
    if console_url:
        console.print(f"  console: {console_url}")
    console.print("\nPoint the AWS CLI, boto3 and breakwater at it:")
    exports = " ".join(f"{k}={v}" for k, v in server.environment().items())
    print(f"export {exports}", flush=True)
    console.print("(aws sqs: add --endpoint-url $AWS_ENDPOINT_URL; AWS CLI v1 sends SQS in us-east-1 to AWS itself)")
    quiet = "" if server.on_activity else " (--quiet: executions are not listed)"
    console.print(f"\nReady. Ctrl-C stops it.{quiet}")
    stop.wait()


def cmd_demo(args: argparse.Namespace) -> int:
    from breakwater.demo import run_demo

    if args.story == "rate" and args.out is not None:
        raise UsageError(
            "--out: the rate story draws no picture (it prints its table); keep its figures with --summary-json FILE"
        )
    # The demo prints its own scripted lines, styled with rich markup.
    demo_console = Console(highlight=False, soft_wrap=True, emoji=False, width=console.width)
    if args.story == "rate":
        from breakwater.demo import run_rate_demo

        summary = run_rate_demo(console=demo_console)
    else:
        summary = run_demo(out_dir=Path(args.out or DEFAULT_DEMO_OUT), console=demo_console)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps(summary, indent=2))
    return 0


# -- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    aws = argparse.ArgumentParser(add_help=False)
    group = aws.add_argument_group("AWS options")
    group.add_argument(
        "--endpoint-url", type=endpoint_url, help="endpoint of the local stack (default: AWS_ENDPOINT_URL or AWS)"
    )
    group.add_argument("--region", type=region_name, help="AWS region (default: the boto3 configuration)")
    group.add_argument("--profile", help="AWS profile")
    group.add_argument(
        "--stack-name", help="stack whose outputs name the resources (default: $BREAKWATER_STACK or breakwater)"
    )

    # The module's first line, without its reStructuredText markup (``breakwater`` reads as breakwater).
    summary = (__doc__ or "").splitlines()[0].replace("``", "")
    parser = argparse.ArgumentParser(prog="breakwater", description=summary)
    parser.add_argument("--version", action="version", version=f"breakwater {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="an outage scenario on the embedded local stack, as a live timeline")
    demo.add_argument("--out", help=f"folder for the picture of the outage story's run (default: {DEFAULT_DEMO_OUT})")
    demo.add_argument("--summary-json", help="also write the summary figures as JSON to this file")
    demo.add_argument(
        "--story",
        choices=("outage", "rate"),
        default="outage",
        help="outage (default): trip, probes, recovery; rate: a failure-rate trip the count rule would not make",
    )
    demo.set_defaults(handler=cmd_demo)

    local = commands.add_parser("local", help="the local stack")
    local_commands = local.add_subparsers(dest="local_command", metavar="ACTION", required=True)
    up = local_commands.add_parser("up", help="serve the local stack on 127.0.0.1 with template.yaml deployed")
    up.add_argument("--port", type=port_number, default=4566, help="port of the AWS endpoint (default: 4566)")
    up.add_argument("--provider-port", type=port_number, default=4567, help="port of the fake provider (default: 4567)")
    up.add_argument("--stack-name", help="stack name (default: breakwater)")
    up.add_argument("--parameter-overrides", nargs="+", metavar="KEY=VALUE", help="template parameters")
    up.add_argument("--no-replay", action="store_true", help="do not poll the fallback queue with the replay function")
    up.add_argument("--quiet", action="store_true", help="do not print a line per execution and per replay batch")
    up.add_argument(
        "--lambda-endpoint",
        metavar="URL",
        help="send every Lambda invoke of the local stack to this Lambda endpoint, e.g. sam local start-lambda;"
        " FunctionName is the logical id",
    )
    up.add_argument(
        "--aws-limits",
        action="store_true",
        help="enforce AWS's throughput and concurrency limits (DynamoDB, Step Functions, Lambda): docs/SCALING.md",
    )
    up.add_argument(
        "--scale",
        type=float,
        metavar="K",
        help="with --aws-limits: divide every rate and capacity by K (a run at R/K orders/s models R)",
    )
    up.add_argument(
        "--quota",
        action="append",
        metavar="KEY=VALUE",
        help="with --aws-limits: a raised quota, e.g. lambda.account_concurrency=3000 (repeatable)",
    )
    up.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="also answer requests whose Host is NAME (e.g. a name of this machine that Docker containers use);"
        " by default only loopback names: other web pages are refused",
    )
    up.set_defaults(handler=cmd_local_up)

    start_cmd = commands.add_parser("start", parents=[aws], help="start an execution, wait, print output and path")
    start_cmd.add_argument(
        "--input", default=str(DEFAULT_EVENT), help="JSON, a file, or - (default: events/order.json)"
    )
    start_cmd.add_argument("--name", help="execution name (default: a unique one)")
    start_cmd.add_argument(
        "--no-wait", action="store_true", help="print the execution ARN and return (STANDARD only: EXPRESS waits)"
    )
    start_cmd.add_argument(
        "--timeout", type=positive_seconds, default=120, help="seconds to wait, above 0 (default: 120)"
    )
    start_cmd.set_defaults(handler=cmd_start)

    hist = commands.add_parser("history", parents=[aws], help="an execution's transitions, as the console shows them")
    hist.add_argument("execution_arn", metavar="EXECUTION_ARN", type=execution_arn)
    hist.add_argument("--json", action="store_true", help="machine-readable output")
    hist.set_defaults(handler=cmd_history)

    order_cmd = commands.add_parser(
        "order", parents=[aws], help="an order's current state after it was queued: its record (charged, ...)"
    )
    order_cmd.add_argument("order_id", metavar="ORDER_ID", type=order_id)
    order_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    order_cmd.set_defaults(handler=cmd_order)

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
        sub.add_argument(
            "--create",
            action="store_true",
            help="also when SERVICE has no record yet (without it, only the stack's ServiceName may be new)",
        )
        sub.set_defaults(handler=cmd_override)
    for name, text in (
        ("shadow", "shadow mode: decide and record as usual, but call where enforcing would queue"),
        ("enforce", "enforce mode: queue where the breaker says so (the usual behaviour)"),
    ):
        mode_cmd = commands.add_parser(name, parents=[aws], help=text)
        mode_cmd.add_argument("service", metavar="SERVICE")
        mode_cmd.set_defaults(handler=cmd_mode)
    forget_cmd = commands.add_parser(
        "forget", parents=[aws], help="delete a breaker's record, unless it changed since it was read"
    )
    forget_cmd.add_argument("service", metavar="SERVICE")
    forget_cmd.set_defaults(handler=cmd_forget)

    inv = commands.add_parser("invoke", help="run one function's handler as sam local invoke does, without Docker")
    inv.add_argument("function", metavar="FUNCTION", help="logical id in template.yaml, e.g. PaymentFunction")
    inv.add_argument("-e", "--event", help="event JSON, a file, or - for standard input")
    inv.add_argument("-n", "--env-vars", help="JSON (sam format) of environment variables per function")
    inv.add_argument("--parameter-overrides", nargs="+", metavar="KEY=VALUE", help="template parameters")
    inv.set_defaults(handler=cmd_invoke)

    gr = commands.add_parser("graph", parents=[aws], help="the state machine as a picture, the path taken highlighted")
    gr.add_argument("execution_arn", nargs="?", metavar="EXECUTION_ARN", type=execution_arn)
    gr.add_argument(
        "-o",
        "--output",
        help=f"an .svg or .png picture (default: {DEFAULT_GRAPH}), or with --format mermaid a text file"
        " (default: standard output)",
    )
    gr.add_argument(
        "--format", choices=("picture", "mermaid"), help="default: from the -o suffix (.mmd is mermaid), else picture"
    )
    gr.set_defaults(handler=cmd_graph)

    module = console_module()
    if module is not None and hasattr(module, "add_parser"):
        module.add_parser(commands, aws)
    return parser


def error(message: object) -> None:
    """One line on standard error, however long, whatever the message holds (newlines, markup)."""
    err_console.print("breakwater: error: " + " ".join(str(message).split()), style="red")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # usage errors: argparse prints them and exits 2
    try:
        code = int(args.handler(args))
        sys.stdout.flush()
        return code
    except UsageError as exc:
        error(exc)
        return EXIT_USAGE
    except BreakwaterError as exc:
        error(exc)
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        error(aws_failure(exc, getattr(args, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL")))
    except BrokenPipeError:
        # The reader went away (`breakwater history --json | head`): stop quietly, and keep Python
        # from complaining when it flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as exc:
        error(exc)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return EXIT_INTERRUPTED
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
