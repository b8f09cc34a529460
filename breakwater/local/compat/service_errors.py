"""Patch ``service_errors``: a service's error reaches a Task state under the name and cause AWS gives it.

moto named a DynamoDB or Lambda error after the service's error code (``DynamoDB.ValidationException``) and
every SQS error ``SQS.SdkClientException`` with the bare message as its cause, so a Catch on
``SQS.AmazonSQSException`` missed what AWS would have caught. Step Functions names the exception class of
the AWS SDK it calls with (``Service.ClassName``) and writes its cause as that SDK does::

    <message> (Service: <service>; Status Code: <status>; Error Code: <code>; Request ID: <id>; Proxy: null)

Recorded against AWS (tests/parity/recordings): DynamoDB's ``ValidationException`` is
``DynamoDB.AmazonDynamoDBException`` (an error the service model does not declare takes the service's base
class), ``ResourceNotFoundException`` keeps its name; SQS's ``MissingParameter`` is ``SQS.AmazonSQSException``;
Lambda's ``ResourceNotFoundException`` keeps its name. The rule applied to the other codes: an error the
service's model declares is named by its shape, with ``Exception`` appended where the shape lacks it (the SDK's
class names: ``InternalServerError`` -> ``InternalServerErrorException``); any other is the base class. The
names for codes no recording shows (throttling among them) follow from that rule, not from a recording: see
docs/local-parity.md.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_dynamodb,
    state_task_service_lambda,
    state_task_service_sqs,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)

from breakwater.local.compat.base import Patch


class SdkService:
    """How Step Functions' SDK names one service's errors."""

    def __init__(
        self, prefix: str, model: str, base: str, service: str, legacy_codes: dict[str, str] | None = None
    ) -> None:
        self.prefix = prefix
        self.model = model
        self.base = base
        self.service = service
        self.legacy_codes = legacy_codes or {}
        """Codes of the service's older protocol that name a declared error (SQS's query codes)."""

    def error_name(self, code: str) -> str:
        shape = _declared_errors(self.model).get(self.legacy_codes.get(code, code))
        if shape is None:
            return f"{self.prefix}.{self.base}"
        return f"{self.prefix}.{shape if shape.endswith('Exception') else shape + 'Exception'}"

    def cause(self, error: ClientError) -> str:
        details = error.response.get("Error", {})
        metadata = error.response.get("ResponseMetadata", {})
        return (
            f"{details.get('Message', '')} (Service: {self.service}; Status Code: {metadata.get('HTTPStatusCode')}; "
            f"Error Code: {details.get('Code')}; Request ID: {metadata.get('RequestId')}; Proxy: null)"
        )

    def error_and_cause(self, error: ClientError) -> tuple[str, str]:
        return self.error_name(str(error.response.get("Error", {}).get("Code", ""))), self.cause(error)


@functools.cache
def _declared_errors(service: str) -> dict[str, str]:
    """The errors a service's model declares: each error code (and shape name) -> shape name."""
    model = botocore.session.get_session().get_service_model(service)
    declared: dict[str, str] = {}
    for name in model.shape_names:
        shape = model.shape_for(name)
        if shape.metadata.get("exception"):
            declared[name] = name
            code = shape.metadata.get("error", {}).get("code")
            if code:
                declared[code] = name
    return declared


DYNAMODB = SdkService("DynamoDB", "dynamodb", "AmazonDynamoDBException", "AmazonDynamoDBv2")
# SQS API reference, "Common errors" and each action's errors: the query protocol's code for QueueDoesNotExist.
SQS = SdkService(
    "SQS", "sqs", "AmazonSQSException", "AmazonSQS", {"AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist"}
)
LAMBDA = SdkService("Lambda", "lambda", "AWSLambdaException", "AWSLambda")


def _sqs_from_error(self: Any, env: Any, ex: Exception) -> FailureEvent:
    if not isinstance(ex, ClientError):
        return StateTaskServiceCallback._from_error(self, env, ex)
    error, cause = SQS.error_and_cause(ex)
    details = TaskFailedEventDetails(
        error=error, cause=cause, resource=self._get_sfn_resource(), resourceType=self._get_sfn_resource_type()
    )
    event_details: Any = {"taskFailedEventDetails": details}
    return FailureEvent(
        env=env, error_name=CustomErrorName(error), event_type=HistoryEventType.TaskFailed, event_details=event_details
    )


PATCH = Patch(
    "service_errors",
    "DynamoDB, SQS and Lambda errors reach a Task under the SDK's class name, with the SDK's cause",
    [
        (
            state_task_service_dynamodb.StateTaskServiceDynamoDB,
            "_error_cause_from_client_error",
            staticmethod(DYNAMODB.error_and_cause),
        ),
        (
            state_task_service_lambda.StateTaskServiceLambda,
            "_error_cause_from_client_error",
            staticmethod(LAMBDA.error_and_cause),
        ),
        (state_task_service_sqs.StateTaskServiceSqs, "_from_error", _sqs_from_error),
    ],
)
