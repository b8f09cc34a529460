"""Tests of breakwater/local/compat/stop_execution.py: StopExecution as AWS answers it, and that the patch is needed
(the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any

from breakwater.aws import Stack
from breakwater.executions import describe
from breakwater.local import compat
from breakwater.local.stack import EmbeddedStack
from tests.compat.helpers import held_execution
from tests.eventually import WAIT_SECONDS, eventually


def test_stop_aborts_at_once_with_its_error_and_cause(embedded: EmbeddedStack, stack: Stack, provider: Any) -> None:
    sfn = embedded.client("stepfunctions")
    with provider.holding(limit_seconds=20):
        arn = held_execution(embedded, stack)
        # when: stopped while the Lambda task waits on the provider
        stopped = sfn.stop_execution(executionArn=arn, error="Manual", cause="operator stopped it")
        # then: ABORTED at once, error and cause kept
        described = sfn.describe_execution(executionArn=arn)
        assert (described["status"], described.get("error"), described.get("cause")) == (
            "ABORTED",
            "Manual",
            "operator stopped it",
        )
        assert described["stopDate"] == stopped["stopDate"]
    # and nothing the task does after the stop is recorded
    embedded.runtime.wait_idle(timeout=WAIT_SECONDS)
    events = describe(sfn, arn).events
    assert events[-1]["type"] == "ExecutionAborted"
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Manual", "cause": "operator stopped it"}
    calls = [event["taskSucceededEventDetails"]["resource"] for event in events if event["type"] == "TaskSucceeded"]
    assert calls == ["getItem"]  # the breaker's read; the payment call's answer came after the stop
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


def test_without_the_stop_patch_the_execution_runs_on_and_loses_the_cause(
    embedded: EmbeddedStack, stack: Stack, provider: Any
) -> None:
    sfn = embedded.client("stepfunctions")
    with compat.disabled("stop_execution"):
        with provider.holding(limit_seconds=20):
            arn = held_execution(embedded, stack)
            sfn.stop_execution(executionArn=arn, error="Manual", cause="operator stopped it")
            assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        embedded.runtime.wait_idle(timeout=WAIT_SECONDS)
        eventually(
            lambda: sfn.describe_execution(executionArn=arn)["status"],
            "the execution run on without the patch to end",
            until=lambda status: status != "RUNNING",
        )
        described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "ABORTED"
    assert not described.get("cause")
