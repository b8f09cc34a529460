"""Patch ``sdk_http_metadata``: the result of a Lambda, DynamoDB or SQS Task lacked the ``SdkHttpMetadata`` and
``SdkResponseMetadata`` AWS adds to it, so every such task's output (and the console's view of it) differed.

AWS adds the service's HTTP response to an optimized integration's result (recorded; tests/parity/recordings
``lambda.json``, ``dynamodb.json``, ``sqs.json``)::

    "SdkHttpMetadata": {"AllHttpHeaders": {"Content-Length": ["2"], ...}, "HttpHeaders": {"Content-Length": "2",
                        ...}, "HttpStatusCode": 200},
    "SdkResponseMetadata": {"RequestId": "..."}

The headers are each service's, as recorded: their names, and for each response its length, date, request id
(and DynamoDB's CRC32, Lambda's executed version and log tail). The request id is the local service's own.
"""

from __future__ import annotations

import email.utils
import json
import threading
import uuid
import zlib
from typing import Any

from botocore.client import BaseClient
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb import (
    StateTaskServiceDynamoDB,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs import (
    StateTaskServiceSqs,
)

from breakwater.local.compat.base import Patch

_LAST_RESPONSE = threading.local()
"""The ResponseMetadata of this thread's last AWS call (a task's call and its result stay on one thread)."""

_original_make_api_call = BaseClient._make_api_call


def _make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
    response = _original_make_api_call(self, operation_name, api_params)
    _LAST_RESPONSE.metadata = response.get("ResponseMetadata") if isinstance(response, dict) else None
    return response


def _http_date() -> str:
    return email.utils.formatdate(usegmt=True)


def _trace_id() -> str:
    return f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"


def _body_length(response: dict[str, Any]) -> str:
    body = {k: v for k, v in response.items() if not k.startswith("Sdk")}
    return str(len(json.dumps(body, separators=(",", ":")).encode()))


def _lambda_headers(response: dict[str, Any], http: dict[str, str], request_id: str) -> list[tuple[str, str]]:
    payload = response.get("Payload")
    length = http.get("content-length") or str(len(json.dumps(payload, separators=(",", ":")).encode()))
    headers = []
    if response.get("LogResult"):
        headers.append(("X-Amz-Log-Result", str(response["LogResult"])))
    headers += [
        ("X-Amz-Executed-Version", str(response.get("ExecutedVersion", "$LATEST"))),
        ("x-amzn-Remapped-Content-Length", "0"),
        ("Connection", "keep-alive"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", length),
        ("Date", _http_date()),
        ("X-Amzn-Trace-Id", _trace_id()),
        ("Content-Type", "application/json"),
    ]
    return headers


def _dynamodb_headers(response: dict[str, Any], http: dict[str, str], request_id: str, read: bool) -> list[Any]:
    body = json.dumps({k: v for k, v in response.items() if not k.startswith("Sdk")}, separators=(",", ":")).encode()
    # DynamoDB's read path writes the request id header in lower case (recorded for every getItem).
    return [
        ("Server", "Server"),
        ("x-amzn-requestid" if read else "x-amzn-RequestId", request_id),
        ("Connection", "keep-alive"),
        ("x-amz-crc32", str(zlib.crc32(body))),
        ("Content-Length", str(len(body))),
        ("Date", _http_date()),
        ("Content-Type", "application/x-amz-json-1.0"),
    ]


def _sqs_headers(response: dict[str, Any], request_id: str) -> list[tuple[str, str]]:
    return [
        ("x-amzn-RequestId", request_id),
        ("connection", "keep-alive"),
        ("Content-Length", _body_length(response)),
        ("Date", _http_date()),
        ("Content-Type", "application/x-amz-json-1.0"),
    ]


def sdk_metadata(task: Any, response: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
    """The two fields AWS adds to a task's result, from the service's answer."""
    request_id = str(metadata.get("RequestId") or uuid.uuid4())
    http = {str(k).lower(): str(v) for k, v in (metadata.get("HTTPHeaders") or {}).items()}
    if isinstance(task, StateTaskServiceLambda):
        headers = _lambda_headers(response, http, request_id)
    elif isinstance(task, StateTaskServiceDynamoDB):
        headers = _dynamodb_headers(response, http, request_id, task.resource.api_action.lower() == "getitem")
    else:
        headers = _sqs_headers(response, request_id)
    return {
        "SdkHttpMetadata": {
            "AllHttpHeaders": {name: [value] for name, value in headers},
            "HttpHeaders": {name: value for name, value in sorted(headers, key=lambda pair: pair[0].lower())},
            "HttpStatusCode": int(metadata.get("HTTPStatusCode") or 200),
        },
        "SdkResponseMetadata": {"RequestId": request_id},
    }


_original_normalise_response = StateTaskService._normalise_response
_original_eval_execution = StateTaskService._eval_execution


def _eval_execution(self: Any, env: Any) -> None:
    """A task starts with no service answer seen: a mocked one (TestState) carries no HTTP metadata."""
    _LAST_RESPONSE.metadata = None
    _original_eval_execution(self, env)


_TASKS = (StateTaskServiceLambda, StateTaskServiceDynamoDB, StateTaskServiceSqs)


def _normalise_response(self: Any, response: Any, *args: Any, **kwargs: Any) -> None:
    _original_normalise_response(self, response, *args, **kwargs)
    metadata = getattr(_LAST_RESPONSE, "metadata", None)
    _LAST_RESPONSE.metadata = None
    if isinstance(self, _TASKS) and isinstance(response, dict) and metadata:
        response.update(sdk_metadata(self, response, metadata))


PATCH = Patch(
    "sdk_http_metadata",
    "Lambda, DynamoDB and SQS task results carry SdkHttpMetadata and SdkResponseMetadata, as on AWS",
    [
        (BaseClient, "_make_api_call", _make_api_call),
        (StateTaskService, "_normalise_response", _normalise_response),
        (StateTaskService, "_eval_execution", _eval_execution),
    ],
)
