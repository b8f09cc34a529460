"""Patch ``start_sync_execution``: StartSyncExecution (EXPRESS) answers "Not yet implemented"; it starts, waits and
returns the result. Served by ``local up`` (clients send it to the same endpoint, without the ``sync-`` prefix).
As on AWS, a STANDARD state machine refuses it (``StateMachineTypeNotSupported``).
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import AWSError
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from breakwater.local.compat.base import Patch

SYNC_TIMEOUT_SECONDS = 300.0


class StateMachineTypeNotSupported(AWSError):
    """AWS's answer to StartSyncExecution on a STANDARD state machine."""

    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400


def _start_sync_execution(self: Any) -> Any:
    """StartSyncExecution: start, wait for the end, answer with the result (EXPRESS workflows)."""
    import time as _time

    from moto.core.responses import ActionResult

    backend = self.stepfunction_backend
    arn = self._get_param("stateMachineArn")
    if getattr(backend.describe_state_machine(arn), "type", "STANDARD") != "EXPRESS":
        raise StateMachineTypeNotSupported("This operation is not supported by this type of state machine")
    name = self._get_param("name") or f"sync-{_time.time_ns()}"
    execution = backend.start_execution(arn, name, self._get_param("input", if_none="{}"))
    deadline = _time.monotonic() + SYNC_TIMEOUT_SECONDS
    while execution.status == "RUNNING" and _time.monotonic() < deadline:
        _time.sleep(0.01)
    response: dict[str, Any] = {
        "executionArn": execution.execution_arn,
        "stateMachineArn": arn,
        "name": name,
        "startDate": execution.start_date,
        "stopDate": execution.stop_date,
        "status": execution.status if execution.status != "RUNNING" else "TIMED_OUT",
        "input": execution.execution_input,
        "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": 100},
    }
    if execution.status == "SUCCEEDED":
        response["output"] = to_json_str(execution.output, separators=(",", ":"))
    if execution.error is not None:
        response["error"] = execution.error
    if execution.cause is not None:
        response["cause"] = execution.cause
    return ActionResult(response)


PATCH = Patch(
    "start_sync_execution",
    "StartSyncExecution for EXPRESS workflows (served over HTTP by local up)",
    [(sfn_responses.StepFunctionResponse, "start_sync_execution", _start_sync_execution)],
)
