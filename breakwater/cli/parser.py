"""The ``breakwater`` command line: :func:`build_parser` builds the argparse parser, one sub-command per command
(the console adds its own). ``breakwater.docgen`` reads it for the CLI table of the docs."""

from __future__ import annotations

import argparse

from breakwater import __version__
from breakwater.arguments import endpoint_url, execution_arn, order_id, port_number, positive_seconds, region_name
from breakwater.cli.breakers import cmd_forget, cmd_mode, cmd_override, cmd_status
from breakwater.cli.executions import DEFAULT_EVENT, cmd_history, cmd_order, cmd_start
from breakwater.cli.local import cmd_invoke, cmd_local_up
from breakwater.cli.pictures import DEFAULT_DEMO_OUT, DEFAULT_GRAPH, cmd_demo, cmd_graph
from breakwater.console import add_parser as add_console_parser

SUMMARY = "The breakwater command: the demo, the local stack, and the operator's tools."


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

    parser = argparse.ArgumentParser(prog="breakwater", description=SUMMARY)
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

    add_console_parser(commands, aws)
    return parser
