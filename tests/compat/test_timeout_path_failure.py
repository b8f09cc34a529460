"""Tests of breakwater/local/compat/timeout_path_failure.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import events_of, machine

TIMEOUT_PATH = {
    "StartAt": "task",
    "States": {
        "task": {
            "Type": "Task",
            "TimeoutSecondsPath": "$.NoSuchTimeoutSecondsPath",
            "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
            "Parameters": {},
            "End": True,
        }
    },
}


def test_a_timeout_path_that_finds_nothing_fails_the_execution_once(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, TIMEOUT_PATH), {"int-literal": 0})

    # AWS's answer, recorded 2025-01-02 (test_invalid_jsonpath[ST.INVALID_JSONPATH_IN_TIMEOUTSECONDSPATH])
    assert [e["type"] for e in result.events] == ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]
    assert (result.error, result.cause) == (
        "States.Runtime",
        "An error occurred while executing the state 'task' (entered at the event id #2). Invalid path "
        "'$.NoSuchTimeoutSecondsPath' : No results for path: $['NoSuchTimeoutSecondsPath']",
    )


def test_without_the_patch_the_execution_fails_twice(embedded):
    with compat.disabled("timeout_path_failure"):
        result = run(embedded.client("stepfunctions"), machine(embedded, TIMEOUT_PATH), {"int-literal": 0})

    assert len(events_of(result, "ExecutionFailed")) == 2
