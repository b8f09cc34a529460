"""Checkout function: the synchronous checkout API (API Gateway HTTP API, payload format 2.0, IAM authorization).

``POST /orders``: the body is the order (the workflow's execution input). It runs as an EXPRESS execution
with StartSyncExecution, and the answer is the execution's output, with the status of its outcome:

=================================  ======  =============================================================
outcome                            status  body
=================================  ======  =============================================================
charged                            201     the output (``chargeId``); ``Location: /orders/{orderId}``
declined                           402     the output (``reason``)
queued                             202     the output (``reason``, ``messageId``); ``Location`` to ask
                                           about the order later; its record says ``queued``
invalid (``InvalidOrder``)         400     ``{"error": "InvalidOrder", "message": <the field and why>}``
``FallbackUnavailable``            503     ``{"error", "message"}``, ``Retry-After``: nothing was charged
                                           or queued; the same order may be sent again
the answer not in time, throttled  503     ``Retry-After``: send the same order again (same orderId: the
                                           provider's idempotency key never charges it twice)
any other failed execution         502     ``{"error", "message"}``
=================================  ======  =============================================================

``GET /orders/{orderId}``: the order's record (``order_record.answer``): 200, or 404 with ``status: unknown``
and why there may be none.

The wait is bounded below the API's integration timeout (29 s, under HTTP APIs' 30 s limit): the function's
own Timeout (28 s) minus a margin is StartSyncExecution's read timeout; it is never retried, since a second
call would run the order again.
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from order_record import DEFAULT_RECORD_DAYS, KEY, OrderStatus, Outcome, answer, put_item_request

logger = Logger(service="breakwater-checkout")

STATE_MACHINE_ENV = "STATE_MACHINE_ARN"
ORDERS_ENV = "ORDERS_TABLE"
RECORD_DAYS_ENV = "ORDER_RECORD_DAYS"
ANSWER_MARGIN_SECONDS = 2.0  # left to answer once StartSyncExecution has given up waiting
RETRY_AFTER_SECONDS = "5"
ORDER_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
THROTTLED = frozenset({"ThrottlingException", "ExecutionLimitExceeded", "TooManyRequestsException"})
STATUS_OF_OUTPUT = {"charged": 201, "declined": 402, "queued": 202}
STATUS_OF_ERROR = {"InvalidOrder": 400, "FallbackUnavailable": 503}

_clients: dict[str, Any] = {}


def _client(service: str, read_timeout: float | None = None) -> Any:
    if service not in _clients:
        if read_timeout is not None:
            # No retry: StartSyncExecution sent again would run the order again.
            config = Config(read_timeout=read_timeout, connect_timeout=2, retries={"total_max_attempts": 1})
            _clients[service] = boto3.client(service, config=config)  # type: ignore[call-overload]
        else:
            _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route one API request (payload format 2.0) to the order it asks for."""
    logger.thread_safe_clear_keys()
    route = event.get("routeKey")
    if route == "POST /orders":
        return place_order(event, context)
    if route == "GET /orders/{orderId}":
        return look_up((event.get("pathParameters") or {}).get("orderId", ""))
    return respond(404, {"message": "Not Found"})


def respond(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _body(event: dict[str, Any]) -> str | None:
    """The request body as text, or None when it is not JSON."""
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    try:
        json.loads(raw)
    except ValueError:
        return None
    return str(raw)


def _execution_name(event: dict[str, Any]) -> str:
    """``checkout-<API request id>``: the access log line and the execution share an id."""
    request_id = (event.get("requestContext") or {}).get("requestId") or f"{time.time_ns()}"
    return ("checkout-" + _NAME_UNSAFE.sub("_", str(request_id)))[:80]


def place_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = _body(event)
    if body is None:
        message = "body: must be a JSON object with orderId, amount, currency and customerId"
        return respond(400, {"error": "InvalidOrder", "message": message})
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    wait = (remaining() / 1000 if remaining else 28.0) - ANSWER_MARGIN_SECONDS
    sfn = _client("stepfunctions", read_timeout=max(1.0, wait))
    try:
        result = sfn.start_sync_execution(
            stateMachineArn=os.environ[STATE_MACHINE_ENV], name=_execution_name(event), input=body
        )
    except ReadTimeoutError:
        message = "the order is still running: ask GET /orders/{orderId}, or send the same order again"
        return respond(503, {"error": "Timeout", "message": message}, {"Retry-After": RETRY_AFTER_SECONDS})
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in THROTTLED:
            return respond(503, {"error": code, "message": "busy: send the same order again"}, _retry_after())
        logger.error("StartSyncExecution failed", extra={"error": code})
        return respond(502, {"error": code, "message": exc.response["Error"].get("Message", "")})
    except BotoCoreError as exc:
        logger.error("StartSyncExecution failed", extra={"error": str(exc)})
        return respond(503, {"error": type(exc).__name__, "message": "send the same order again"}, _retry_after())
    return _answer_of(result)


def _retry_after() -> dict[str, str]:
    return {"Retry-After": RETRY_AFTER_SECONDS}


def _answer_of(result: dict[str, Any]) -> dict[str, Any]:
    """The API's answer for a StartSyncExecution result."""
    if result.get("status") != "SUCCEEDED":
        error = str(result.get("error") or result.get("status"))
        status = STATUS_OF_ERROR.get(error, 502)
        headers = _retry_after() if status == 503 else {}
        return respond(status, {"error": error, "message": result.get("cause") or ""}, headers)
    output = json.loads(result.get("output") or "null")
    outcome = output.get("status") if isinstance(output, dict) else None
    if outcome not in STATUS_OF_OUTPUT:
        return respond(502, {"error": "UnexpectedOutput", "message": json.dumps(output)})
    headers = {"Location": f"/orders/{output['orderId']}"} if outcome != "declined" else {}
    if outcome == OrderStatus.QUEUED:
        _note_queued(output)
    return respond(STATUS_OF_OUTPUT[outcome], output, headers)


def _note_queued(output: dict[str, Any]) -> None:
    """The queued order's record, so GET /orders/{orderId} says queued at once (bookkeeping: failures logged)."""
    queued = Outcome(OrderStatus.QUEUED, output["orderId"], output["serviceName"], 0, reason=output.get("reason"))
    days = int(os.environ.get(RECORD_DAYS_ENV) or DEFAULT_RECORD_DAYS)
    try:
        _client("dynamodb").put_item(**put_item_request(os.environ[ORDERS_ENV], queued, int(time.time() * 1000), days))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            logger.warning("queued order not recorded", extra={"orderId": queued.order_id, "error": str(exc)})
    except BotoCoreError as exc:
        logger.warning("queued order not recorded", extra={"orderId": queued.order_id, "error": str(exc)})


def look_up(order_id: str) -> dict[str, Any]:
    if not ORDER_ID.fullmatch(order_id):
        message = "orderId: must be 1 to 128 characters from A-Z a-z 0-9 . _ : -"
        return respond(400, {"error": "InvalidOrder", "message": message})
    item = (
        _client("dynamodb")
        .get_item(TableName=os.environ[ORDERS_ENV], Key={KEY.value: {"S": order_id}}, ConsistentRead=True)
        .get("Item")
    )
    found = answer(order_id, item)
    return respond(200 if item else 404, found)
