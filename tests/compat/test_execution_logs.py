"""The ``execution_logs`` patch: executions write their history events to the state machine's log group, at its
log level, in AWS's log event format (recorded: docs/console.md)."""

from __future__ import annotations

import json
from typing import Any

from breakwater.aws import Stack
from breakwater.executions import run
from breakwater.local import compat
from breakwater.local.stack import EmbeddedStack
from tests.workflow.helpers import order

# The keys of an AWS execution log event, in AWS's order (a recording of AWS's: docs/console.md).
LOG_EVENT_KEYS = ["id", "type", "details", "previous_event_id", "event_timestamp", "execution_arn", "redrive_count"]


def log_events(embedded: EmbeddedStack, stack: Stack) -> list[dict[str, Any]]:
    """Every log event of the stack's state machine, oldest first, its message parsed."""
    sfn, logs = embedded.client("stepfunctions"), embedded.client("logs")
    configuration = sfn.describe_state_machine(stateMachineArn=stack.state_machine_arn)["loggingConfiguration"]
    group = configuration["destinations"][0]["cloudWatchLogsLogGroup"]["logGroupArn"].split(":")[6]
    events = logs.filter_log_events(logGroupName=group)["events"]
    return [{**event, "message": json.loads(event["message"])} for event in events]


def test_at_level_all_every_history_event_is_logged_in_aws_format(embedded: EmbeddedStack, provider: Any) -> None:
    stack = embedded.deploy(ExecutionLogLevel="ALL", ExecutionLogIncludesData="true")
    result = embedded.run(stack, order(orderId="ord-logged"))
    events = log_events(embedded, stack)
    messages = [event["message"] for event in events]
    assert [m["type"] for m in messages] == [e["type"] for e in result.events]
    assert all(list(m) == LOG_EVENT_KEYS for m in messages)
    first = messages[0]
    assert (first["id"], first["previous_event_id"], first["execution_arn"], first["redrive_count"]) == (
        "1",
        "0",
        result.arn,
        "0",
    )
    assert "ord-logged" in first["details"]["input"]
    assert all(event["timestamp"] == int(event["message"]["event_timestamp"]) for event in events)
    name = result.arn.split(":")[6]
    assert {event["logStreamName"].rsplit("/", 2)[0] for event in events} == {f"states/{name}"}


def test_without_execution_data_inputs_and_outputs_are_left_out(embedded: EmbeddedStack, provider: Any) -> None:
    stack = embedded.deploy(ExecutionLogLevel="ALL", ExecutionLogIncludesData="false")
    embedded.run(stack, order(orderId="ord-private"))
    messages = [event["message"] for event in log_events(embedded, stack)]
    assert messages
    assert not any("ord-private" in json.dumps(m) for m in messages)
    assert not any({"input", "output"} & set(m.get("details", {})) for m in messages)


def test_at_level_error_only_failures_are_logged(embedded: EmbeddedStack, provider: Any) -> None:
    stack = embedded.deploy(ExecutionLogLevel="ERROR")
    embedded.run(stack, order())
    assert log_events(embedded, stack) == []
    failed = embedded.run(stack, order(amount="a lot"))
    assert failed.error == "InvalidOrder"
    assert [e["message"]["type"] for e in log_events(embedded, stack)] == ["FailStateEntered", "ExecutionFailed"]


def test_without_the_patch_nothing_is_logged(embedded: EmbeddedStack, provider: Any) -> None:
    stack = embedded.deploy(ExecutionLogLevel="ALL")
    with compat.disabled("execution_logs"):
        result = run(embedded.client("stepfunctions"), stack.state_machine_arn, order())
    assert result.status == "SUCCEEDED"
    assert log_events(embedded, stack) == []
