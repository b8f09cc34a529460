"""Tests of breakwater/local/compat/redrive_execution.py: RedriveExecution as AWS runs it, and that the patch is
needed (the behaviour breaks without it)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from breakwater.aws import Stack
from breakwater.executions import describe, start, unique_name, wait
from breakwater.local import compat
from breakwater.local.stack import EmbeddedStack
from tests.compat.helpers import ROLE, held_execution, stopped_execution
from tests.eventually import WAIT_SECONDS, eventually
from tests.workflow.helpers import order


def test_an_aborted_execution_is_redriven_from_the_state_it_was_in(
    embedded: EmbeddedStack, stack: Stack, provider: Any
) -> None:
    sfn = embedded.client("stepfunctions")
    arn = stopped_execution(embedded, stack, error="Manual", cause="stopped")
    assert sfn.describe_execution(executionArn=arn)["redriveStatus"] == "REDRIVABLE"
    # when
    answer = sfn.redrive_execution(executionArn=arn)
    # then: the same ARN runs again from the call, and is charged this time
    result = wait(sfn, arn, timeout=WAIT_SECONDS)
    assert (result.status, result.error, result.cause) == ("SUCCEEDED", None, None)
    assert result.output["status"] == "charged"
    described = sfn.describe_execution(executionArn=arn)
    assert described["redriveCount"] == 1
    assert described["redriveDate"] == answer["redriveDate"]
    assert (described.get("error"), described.get("cause")) == (None, None)
    kinds = [event["type"] for event in result.events]
    assert kinds.count("ExecutionRedriven") == 1
    assert result.events[kinds.index("ExecutionRedriven")]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    # the states that succeeded before the stop are not run again
    assert result.path.count("Read breaker state") == 1
    assert kinds.index("ExecutionAborted") < kinds.index("ExecutionRedriven") < kinds.index("ExecutionSucceeded")


def test_a_redrive_right_after_a_stop_is_not_disturbed_by_the_stopped_call_answering_later(
    embedded: EmbeddedStack, stack: Stack, provider: Any
) -> None:
    sfn = embedded.client("stepfunctions")
    with provider.holding(limit_seconds=20):
        arn = held_execution(embedded, stack)
        sfn.stop_execution(executionArn=arn)
        # when: redriven while the stopped run's call is still held, so both calls are answered together
        sfn.redrive_execution(executionArn=arn)
        eventually(provider.in_flight, "both calls held by the provider", until=lambda calls: calls == 2)
    # then: the redriven run ends the execution, once
    result = wait(sfn, arn, timeout=WAIT_SECONDS)
    embedded.runtime.wait_idle(timeout=WAIT_SECONDS)
    result = describe(sfn, arn)
    assert (result.status, result.output["status"]) == ("SUCCEEDED", "charged")
    kinds = [event["type"] for event in result.events]
    assert [kinds.count(kind) for kind in ("ExecutionAborted", "ExecutionRedriven", "ExecutionSucceeded")] == [1, 1, 1]
    assert kinds[-1] == "ExecutionSucceeded"
    assert [event["id"] for event in result.events] == list(range(1, len(kinds) + 1))


def test_a_failed_execution_is_redriven_from_its_failed_task_with_the_same_input(embedded: EmbeddedStack) -> None:
    # given: a Pass, then a DynamoDB read of a table that does not exist yet: the execution fails at the read
    sfn, dynamodb = embedded.client("stepfunctions"), embedded.client("dynamodb")
    table = f"redrive-{uuid.uuid4().hex[:8]}"
    definition = {
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": {"k": "a"}, "ResultPath": "$.key", "Next": "Read"},
            "Read": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": table, "Key": {"k": {"S.$": "$.key.k"}}},
                "End": True,
            },
        },
    }
    machine = sfn.create_state_machine(name=unique_name("m"), definition=json.dumps(definition), roleArn=ROLE)
    arn = start(sfn, machine["stateMachineArn"], {"order": 1})
    failed = wait(sfn, arn, timeout=WAIT_SECONDS)
    assert failed.status == "FAILED"
    assert failed.path == ["Prepare", "Read"]
    # when: the table exists, and the execution is redriven
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"k": {"S": "a"}, "v": {"S": "found"}})
    sfn.redrive_execution(executionArn=arn)
    # then: Read runs again with the input it had (the Pass's result in it), Prepare does not
    result = wait(sfn, arn, timeout=WAIT_SECONDS)
    assert result.status == "SUCCEEDED"
    assert result.path == ["Prepare", "Read", "Read"]
    assert result.output["Item"]["v"] == {"S": "found"}


def test_a_succeeded_or_running_execution_is_not_redrivable(
    embedded: EmbeddedStack, stack: Stack, provider: Any
) -> None:
    sfn = embedded.client("stepfunctions")
    done = wait(sfn, start(sfn, stack.state_machine_arn, order()), timeout=WAIT_SECONDS)
    described = sfn.describe_execution(executionArn=done.arn)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is SUCCEEDED and cannot be redriven.",
    )
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=done.arn)
    assert refused.value.response["Error"]["Code"] == "ExecutionNotRedrivable"
    assert "SUCCEEDED" in refused.value.response["Error"]["Message"]


def test_without_the_redrive_patch_redrive_is_not_implemented(
    embedded: EmbeddedStack, stack: Stack, provider: Any
) -> None:
    sfn = embedded.client("stepfunctions")
    arn = stopped_execution(embedded, stack)
    with compat.disabled("redrive_execution"):
        assert "redriveStatus" not in sfn.describe_execution(executionArn=arn)
        with pytest.raises(NotImplementedError):
            sfn.redrive_execution(executionArn=arn)
