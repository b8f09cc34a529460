"""Patch ``lambda_task_cause``: a Task whose ``Resource`` is a function's ARN (not ``lambda:invoke``) gave, as
the cause of the function's error, its error payload re-encoded compactly; AWS gives it as the function wrote it.

Recorded (tests/parity/recordings/lambda_task_errors.json): the cause is ``{"errorMessage": "Some exception
was raised.", "errorType": "Exception", ...}``, spaced as the Python runtime writes it, where a
``lambda:invoke`` Task's cause (same function, same error) is compact. The local runtime is the Python
runtime and writes its payloads so (``InvocationResult.payload_bytes``).
"""

from __future__ import annotations

import json
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

from breakwater.local.compat.base import Patch

_original_from_error = StateTaskLambda._from_error


def as_written(payload: str) -> str:
    """The error payload as the Python runtime wrote it (``json.dumps`` with its default separators)."""
    try:
        return json.dumps(json.loads(payload))
    except ValueError:
        return payload


def _from_error(self: Any, env: Any, ex: Exception) -> Any:
    if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException):
        ex.payload = as_written(ex.payload)  # type: ignore[misc]
    return _original_from_error(self, env, ex)


PATCH = Patch(
    "lambda_task_cause",
    "a function-ARN Task's error cause is the function's error payload as written, as on AWS",
    [(StateTaskLambda, "_from_error", _from_error)],
)
