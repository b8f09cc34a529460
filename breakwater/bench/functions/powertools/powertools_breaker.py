"""The benchmark's ``powertools`` policy: the payment function wrapped in Powertools' circuit breaker.

This module is added to the payment function's own build (its ``app`` module, its pinned
``aws-lambda-powertools``), so the call it protects is exactly the one Breakwater's workflow makes.
Each execution environment has Powertools' own per-process state (``_LOCAL_FAILURES`` and the
persistence layer's local cache), as on Lambda. A call the breaker refuses, or one that fails, is
queued on the stack's fallback queue, as the other policies do.

The answer tells the benchmark what the invocation did: the outcome, the DynamoDB requests the breaker
made (counted by a botocore hook on its client), the transitions it performed, and whether the call
was a half-open probe.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import app as payment
import boto3
from aws_lambda_powertools.utilities.circuit_breaker import (
    CircuitBreakerConfig,
    CircuitBreakerOpenError,
    circuit_breaker,
)
from aws_lambda_powertools.utilities.circuit_breaker import base as breaker_base
from aws_lambda_powertools.utilities.circuit_breaker.persistence import CircuitBreakerDynamoDBPersistence

TABLE = os.environ["CIRCUIT_TABLE"]
QUEUE_URL = os.environ["FALLBACK_QUEUE_URL"]
READS = ("GetItem", "Query", "Scan", "BatchGetItem")

_counts = {"reads": 0, "writes": 0}
_transitions: list[list[Any]] = []


def _count(model: Any, **_: Any) -> None:
    _counts["reads" if model.name in READS else "writes"] += 1


_dynamodb = boto3.client("dynamodb")
_dynamodb.meta.events.register("before-call.dynamodb.*", _count)
_sqs = boto3.client("sqs")
persistence = CircuitBreakerDynamoDBPersistence(table_name=TABLE, boto3_client=_dynamodb)
config = CircuitBreakerConfig(
    failure_threshold=int(os.environ["FAILURE_THRESHOLD"]),
    recovery_timeout=int(os.environ["RECOVERY_TIMEOUT_SECONDS"]),
    success_threshold=int(os.environ["SUCCESS_THRESHOLD"]),
    handled_exceptions=payment.PaymentServiceUnavailable,
)


def _transition(change: Any) -> None:
    _transitions.append([time.time(), str(change.from_state.value), str(change.to_state.value)])


def _queue(order: Any, reason: str) -> None:
    body = json.dumps({"order": order, "reason": reason, "queuedBy": "powertools"})
    _sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=body)


def handler(event: Any, context: Any) -> dict[str, Any]:
    _counts.update(reads=0, writes=0)
    _transitions.clear()
    service = str(event.get("serviceName") or "payment-api")
    facts: dict[str, Any] = {}

    @circuit_breaker(name=service, persistence_store=persistence, config=config, on_transition=_transition)
    def charge() -> Any:
        seen = breaker_base._LAST_OBSERVED_STATE.get(service)
        facts["probe"] = seen is not None and seen.value != "CLOSED"
        facts["started"] = time.time()
        try:
            return payment.handler(event, context)
        finally:
            facts["reported"] = time.time()

    answer: dict[str, Any]
    try:
        result = charge()
        answer = {"status": "charged", "chargeId": result.get("chargeId")}
    except CircuitBreakerOpenError:
        _queue(event, "circuit_open")
        answer = {"status": "queued", "reason": "circuit_open"}
    except payment.PaymentServiceUnavailable:
        _queue(event, "call_failed")
        answer = {"status": "queued", "reason": "call_failed"}
    except payment.PaymentDeclined:
        answer = {"status": "declined"}
    except payment.InvalidOrder:
        answer = {"status": "invalid"}
    return {**answer, **facts, "dynamodb": dict(_counts), "transitions": list(_transitions)}
