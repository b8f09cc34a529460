"""Patch ``task_null_members``: a DynamoDB or SQS Task whose parameters hold ``null`` (``"Item": null``) failed
inside boto3, which cannot write a null map (``'NoneType' object has no attribute 'items'``, a
``States.Runtime`` or a bogus service error), before the service was asked.

Step Functions' SDK sends the null and the service refuses the request (``ValidationException`` "Value null
at 'item' ... Member must not be null", recorded; tests/parity/recordings/dynamodb_errors.json). A member
left out reads as null to the service, so the task leaves null members out and the service answers.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
    StateTaskServiceDynamoDB,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs import (
    StateTaskServiceSqs,
)

from breakwater.local.compat.base import Patch

TASKS = (StateTaskServiceDynamoDB, StateTaskServiceSqs)


def _without_nulls(original: Any) -> Any:
    def task(self: Any, **kwargs: Any) -> Any:
        kwargs["normalised_parameters"] = {k: v for k, v in kwargs["normalised_parameters"].items() if v is not None}
        return original(self, **kwargs)

    return task


PATCH = Patch(
    "task_null_members",
    "a DynamoDB or SQS Task leaves null members out, so the service (not boto3) answers",
    [(task, "_eval_service_task", _without_nulls(task._eval_service_task)) for task in TASKS],
)
