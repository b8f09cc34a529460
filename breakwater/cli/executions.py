"""The execution commands: ``start`` (run an order and print its path), ``history`` and ``order``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from breakwater import orders
from breakwater.aws import find_stack, stack_name_from
from breakwater.cli import render
from breakwater.cli.options import UsageError, load_json_argument, target_from
from breakwater.cli.render import print_history, print_result
from breakwater.executions import describe, event_rows, start, wait

DEFAULT_EVENT = Path("events/order.json")


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
        render.console.print(arn)
        return 0
    result = wait(sfn, arn, timeout=args.timeout)
    print_result(result)
    render.console.print("path:      " + " -> ".join(result.path))
    return 0 if result.status == "SUCCEEDED" else 1


def start_express(sfn: Any, state_machine_arn: str, order: Any, name: str | None) -> int:
    """EXPRESS executions keep no history to describe: run them with StartSyncExecution."""
    response = sfn.start_sync_execution(
        stateMachineArn=state_machine_arn, input=json.dumps(order), **({"name": name} if name else {})
    )
    render.console.print(f"execution: {response['executionArn']} (EXPRESS, synchronous)")
    render.console.print(f"status:    {response['status']}")
    if response.get("output"):  # JSON text, printed as a STANDARD execution's output is
        render.console.print("output:    " + json.dumps(json.loads(response["output"])))
    if response.get("error"):
        render.console.print(f"error:     {response['error']}: {response.get('cause')}")
    render.console.print(
        "history:   EXPRESS workflows log their transitions to CloudWatch Logs, not to an execution history"
    )
    return 0 if response["status"] == "SUCCEEDED" else 1


def cmd_order(args: argparse.Namespace) -> int:
    found = orders.lookup(target_from(args), stack_name_from(args.stack_name), args.order_id)
    if args.json:
        print(json.dumps(found))
    else:
        for line in orders.describe(found):
            render.console.print(line)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    sfn = target_from(args).client("stepfunctions")
    result = describe(sfn, args.execution_arn)
    if args.json:
        print(json.dumps({"status": result.status, "path": result.path, "events": event_rows(result.events)}))
        return 0
    print_history(result)
    return 0
