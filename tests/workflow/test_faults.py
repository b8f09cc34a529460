"""Fault injection: whatever breaks, no order is lost and the failure is visible.

Each test's expected outcome is listed in docs/replay.md ("Faults and what happens").
"""

from __future__ import annotations

import types
from unittest import mock

import pytest
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.sqs.models import SQSBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from tests.workflow.helpers import ROOMY_CALL_TIMEOUT_S, breaker, order, queued


@pytest.fixture
def retry_waits(clock, monkeypatch):
    """Retrier waits move the clock instead of sleeping; the waits are recorded."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(retrier_decl, "time", types.SimpleNamespace(sleep=sleep))
    return waits


@pytest.fixture
def stack(embedded, provider):
    return embedded.deploy(FailureThreshold=2)


def failing(error: str, message: str = "injected fault"):
    def fail(*args, **kwargs):
        raise JsonRESTError(error, message)

    return fail


def scheduled(result, resource: str) -> int:
    return result.scheduled()[resource]


# -- the breaker table -----------------------------------------------------------------------


def test_breaker_write_failing_still_queues_the_failed_order_and_says_so(embedded, stack, provider, retry_waits):
    provider.configure(mode="down")
    with mock.patch.object(DynamoDBBackend, "update_item", failing("AccessDeniedException")):
        result = embedded.run(stack, order())

    assert result.output["status"] == "queued"
    assert result.output["reason"] == "call_failed"
    # An error the DynamoDB model does not declare is the SDK's base class, as AWS names it (compat service_errors).
    assert result.output["bookkeepingError"] == "DynamoDB.AmazonDynamoDBException"
    assert len(queued(embedded, stack)) == 1


def test_breaker_write_throttled_is_retried_then_the_order_is_still_queued(embedded, stack, provider, retry_waits):
    provider.configure(mode="down")
    with mock.patch.object(DynamoDBBackend, "update_item", failing("ProvisionedThroughputExceededException")):
        result = embedded.run(stack, order())

    assert scheduled(result, "dynamodb:updateItem") == 3  # one try and two retries
    assert len(retry_waits) == 2
    assert result.output["bookkeepingError"] == "DynamoDB.ProvisionedThroughputExceededException"
    assert result.output["status"] == "queued"


def test_breaker_write_failing_after_a_success_still_reports_the_charge(embedded, stack, provider, retry_waits):
    provider.configure(mode="down")
    embedded.run(stack, order())
    provider.configure(mode="healthy")
    with mock.patch.object(DynamoDBBackend, "update_item", failing("AccessDeniedException")):
        result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert result.output["bookkeepingError"] == "DynamoDB.AmazonDynamoDBException"
    assert breaker(embedded, stack)["failureCount"] == 1


def test_breaker_read_failing_is_retried_then_fails_open(embedded, stack, provider, retry_waits):
    # DynamoDB's code is InternalServerError; the SDK's class, and so the Task's error, InternalServerErrorException.
    with mock.patch.object(DynamoDBBackend, "get_item", failing("InternalServerError")):
        result = embedded.run(stack, order())

    assert scheduled(result, "dynamodb:getItem") == 3
    assert result.output["status"] == "charged"
    assert result.output["breaker"] == "UNKNOWN"
    assert result.output["bookkeepingError"] == "DynamoDB.InternalServerErrorException"


# DynamoDB's error code -> the Task's error: the SDK's class name (compat service_errors, docs/local-parity.md).
THROTTLES = {
    "ProvisionedThroughputExceededException": "DynamoDB.ProvisionedThroughputExceededException",
    "ThrottlingException": "DynamoDB.ThrottlingException",
    "RequestLimitExceeded": "DynamoDB.RequestLimitExceededException",
}


@pytest.mark.parametrize(
    "error",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ],
)
def test_breaker_read_throttled_queues_the_order_at_once_and_calls_nothing(
    embedded, stack, provider, retry_waits, error
):
    with mock.patch.object(DynamoDBBackend, "get_item", failing(error)):
        result = embedded.run(stack, order())

    assert scheduled(result, "dynamodb:getItem") == 1  # a throttled read is not retried: it is the hot key again
    assert result.output["status"] == "queued"
    assert result.output["reason"] == "breaker_busy"
    assert result.output["bookkeepingError"] == THROTTLES[error]
    assert provider.calls == []
    assert [body["reason"] for body in queued(embedded, stack)] == ["breaker_busy"]


def test_invalid_order_is_rejected_not_queued_when_the_breaker_read_is_throttled(
    embedded, stack, provider, retry_waits
):
    with mock.patch.object(DynamoDBBackend, "get_item", failing("ThrottlingException")):
        result = embedded.run(stack, {"orderId": "x y"})

    assert result.error == "InvalidOrder"
    assert queued(embedded, stack) == []


def test_invalid_order_is_still_rejected_when_the_table_is_unreadable(embedded, stack, provider, retry_waits):
    with mock.patch.object(DynamoDBBackend, "get_item", failing("AccessDeniedException")):
        result = embedded.run(stack, {"orderId": "x y"})

    assert result.error == "InvalidOrder"
    assert provider.calls == []


# -- the fallback queue ----------------------------------------------------------------------------


def test_fallback_queue_failing_is_retried_then_fails_with_fallback_unavailable(embedded, stack, provider, retry_waits):
    provider.configure(mode="down")
    with mock.patch.object(SQSBackend, "send_message", failing("InternalError", "SQS is having a bad day")):
        result = embedded.run(stack, order(orderId="ord-nowhere"))

    assert result.status == "FAILED"
    assert result.error == "FallbackUnavailable"
    assert "ord-nowhere" in result.cause
    assert "call_failed" in result.cause
    assert scheduled(result, "sqs:sendMessage") == 4  # one try and three retries
    assert len(retry_waits) == 3
    assert all(0 <= wait <= 4 for wait in retry_waits)  # backoff 1, 2, 4 s with full jitter


# -- the provider ----------------------------------------------------------------------------------

PROVIDER_FAULTS = [
    # (mode settings, customer, expected status, expected reason or None, lastError on the queue)
    ({"mode": "down"}, "cus_1", "queued", "call_failed", "PaymentServiceUnavailable"),
    ({"mode": "ratelimited", "retry_after_seconds": 7}, "cus_1", "queued", "call_failed", "PaymentServiceUnavailable"),
    ({"mode": "slow", "delay_seconds": 1.6}, "cus_1", "queued", "call_failed", None),
    ({"mode": "flaky", "failure_rate": 1.0}, "cus_1", "queued", "call_failed", "PaymentServiceUnavailable"),
    ({"mode": "flaky", "failure_rate": 0.0}, "cus_1", "charged", None, None),
    ({"mode": "healthy"}, "cus_card_declined", "declined", "card_declined", None),
]


@pytest.mark.parametrize(
    ("settings", "customer", "status", "reason", "last_error"),
    PROVIDER_FAULTS,
    ids=["down", "rate-limited", "slow", "flaky-failing", "flaky-passing", "declining"],
)
def test_provider_faults_end_in_the_documented_outcome(
    embedded, provider, settings, customer, status, reason, last_error
):
    # Only the slow provider meets the call timeout; every other case gives the call room.
    timeout = 1 if settings["mode"] == "slow" else ROOMY_CALL_TIMEOUT_S
    stack = embedded.deploy(FailureThreshold=5, CallTimeoutSeconds=timeout)
    provider.configure(**settings)

    result = embedded.run(stack, order(customerId=customer))

    assert result.output["status"] == status
    assert result.output.get("reason") == reason
    if status == "queued":
        body = queued(embedded, stack)[0]
        assert body["reason"] == "call_failed"
        if last_error:
            assert body["lastError"] == last_error
        else:  # a slow call ends by the task timeout or the function's own timeout
            assert body["lastError"] in {"States.Timeout", "Sandbox.Timedout", "PaymentServiceUnavailable"}
        assert breaker(embedded, stack)["failureCount"] == 1
    else:
        assert breaker(embedded, stack) == {}


def test_a_flaky_provider_loses_no_order(embedded, provider):
    stack = embedded.deploy(FailureThreshold=50)
    provider.configure(mode="flaky", failure_rate=0.3)

    results = [embedded.run(stack, order()) for _ in range(20)]

    statuses = [r.output["status"] for r in results]
    assert set(statuses) <= {"charged", "queued"}
    assert statuses.count("charged") == len(provider.charges)
    assert statuses.count("queued") == len(queued(embedded, stack))
    assert 0 < statuses.count("queued") < 20


def test_a_trip_written_on_a_retry_is_a_transition_of_that_execution(embedded, provider, retry_waits):
    # given: the trip's first write is throttled, its retry goes through
    stack = embedded.deploy(FailureThreshold=1)
    provider.configure(mode="down")
    original = DynamoDBBackend.update_item
    calls: list[int] = []

    def throttle_the_second_write(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first is the count, the second the trip
            raise JsonRESTError("ThrottlingException", "slow down")
        return original(self, *args, **kwargs)

    # when
    with mock.patch.object(DynamoDBBackend, "update_item", throttle_the_second_write):
        result = embedded.run(stack, order())

    # then: the trip is the execution's, as the breaker's record says
    assert scheduled(result, "dynamodb:updateItem") == 3
    assert [(before, after) for _, before, after in result.transitions()] == [("CLOSED", "OPEN")]
    assert breaker(embedded, stack)["state"] == "OPEN"
