"""Tests of breakwater/local/compat/lambda_task_cause.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine
from tests.workflow.helpers import python_function


def raising_function(embedded: Any) -> str:
    return python_function(embedded, 'def handler(event, context):\n    raise ValueError("no")\n')


def function_arn_task(arn: str) -> dict[str, Any]:
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": arn, "End": True}}}


def test_a_function_arn_tasks_cause_is_the_payload_as_the_function_wrote_it(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, function_arn_task(raising_function(embedded))), {})

    assert result.error == "ValueError"
    assert (result.cause or "").startswith('{"errorMessage": "no", "errorType": "ValueError", "requestId": "')


def test_without_the_patch_the_cause_is_re_encoded_compactly(embedded):
    arn = raising_function(embedded)
    with compat.disabled("lambda_task_cause"):
        result = run(embedded.client("stepfunctions"), machine(embedded, function_arn_task(arn)), {})

    assert (result.cause or "").startswith('{"errorMessage":"no","errorType":"ValueError"')
