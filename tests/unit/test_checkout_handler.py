"""The checkout function's answers (stub clients): the status of every outcome, and of every way to fail."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from tests.function_modules import load

checkout = load("checkout")


class Sfn:
    def __init__(self, answer: Any) -> None:
        self.answer, self.requests = answer, []

    def start_sync_execution(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if isinstance(self.answer, Exception):
            raise self.answer
        return dict(self.answer)


class Table:
    def __init__(self, item: dict[str, Any] | None = None) -> None:
        self.item, self.puts = item, []

    def get_item(self, **request: Any) -> dict[str, Any]:
        return {"Item": self.item} if self.item else {}

    def put_item(self, **request: Any) -> None:
        self.puts.append(request)


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv(checkout.STATE_MACHINE_ENV, "arn:aws:states:us-east-1:1:stateMachine:sm")
    monkeypatch.setenv(checkout.ORDERS_ENV, "orders")


def post(
    monkeypatch, answer: Any, body: str | None = None, table: Table | None = None, **event: Any
) -> tuple[dict, Sfn]:
    """POST /orders with ``body`` as the event carries it (default: a JSON order)."""
    sfn = Sfn(answer)
    monkeypatch.setattr(checkout, "_clients", {"stepfunctions": sfn, "dynamodb": table or Table()})
    request = {
        "routeKey": "POST /orders",
        "body": body if body is not None else json.dumps({"orderId": "o-1"}),
        "requestContext": {"requestId": "Ab1=="},
        **event,
    }
    return checkout.handler(request, None), sfn


def succeeded(output: dict[str, Any]) -> dict[str, Any]:
    return {"status": "SUCCEEDED", "output": json.dumps(output)}


@pytest.mark.parametrize(
    ("output", "status"),
    [
        ({"status": "charged", "orderId": "o-1", "serviceName": "s", "chargeId": "ch_1"}, 201),
        ({"status": "declined", "orderId": "o-1", "serviceName": "s", "reason": "card_declined"}, 402),
        ({"status": "queued", "orderId": "o-1", "serviceName": "s", "reason": "circuit_open", "messageId": "m"}, 202),
    ],
)
def test_each_outcome_has_its_status_and_the_output_as_body(env, monkeypatch, output, status):
    answer, sfn = post(monkeypatch, succeeded(output))

    assert answer["statusCode"] == status
    assert json.loads(answer["body"]) == output
    assert sfn.requests[0]["name"] == "checkout-Ab1__"  # the API request id, as an execution name allows it


def test_a_queued_order_is_noted_so_a_lookup_says_queued_at_once(env, monkeypatch):
    table = Table()
    queued = {"status": "queued", "orderId": "o-1", "serviceName": "s", "reason": "call_failed", "messageId": "m"}

    answer, _ = post(monkeypatch, succeeded(queued), table=table)

    assert answer["headers"]["Location"] == "/orders/o-1"
    (put,) = table.puts
    assert (put["Item"]["status"], put["Item"]["reason"]) == ({"S": "queued"}, {"S": "call_failed"})
    assert put["ConditionExpression"] == "attribute_not_exists(#key) OR #status = :status"


@pytest.mark.parametrize(
    ("result", "status"),
    [
        ({"status": "FAILED", "error": "InvalidOrder", "cause": "amount: must be a whole number"}, 400),
        ({"status": "FAILED", "error": "FallbackUnavailable", "cause": "order o-1 could not be charged"}, 503),
        ({"status": "FAILED", "error": "States.Runtime", "cause": "boom"}, 502),
        ({"status": "TIMED_OUT"}, 502),
    ],
)
def test_a_failed_execution_is_answered_with_its_error_and_cause(env, monkeypatch, result, status):
    answer, _ = post(monkeypatch, result)

    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["error"] == result.get("error", result["status"])
    assert ("Retry-After" in answer["headers"]) == (status == 503)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ReadTimeoutError(endpoint_url="https://sync-states"), 503),
        (ClientError({"Error": {"Code": "ExecutionLimitExceeded", "Message": "x"}}, "StartSyncExecution"), 503),
        (ClientError({"Error": {"Code": "ThrottlingException", "Message": "x"}}, "StartSyncExecution"), 503),
        (EndpointConnectionError(endpoint_url="https://sync-states"), 503),
        (ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "StartSyncExecution"), 502),
    ],
    ids=["read-timeout", "execution-limit", "throttled", "unreachable", "denied"],
)
def test_an_order_not_run_to_its_end_says_whether_to_send_it_again(env, monkeypatch, error, status):
    answer, _ = post(monkeypatch, error)

    assert answer["statusCode"] == status
    assert ("Retry-After" in answer["headers"]) == (status == 503)


def test_a_base64_body_is_read_and_a_body_that_is_not_json_is_400(env, monkeypatch):
    encoded = base64.b64encode(json.dumps({"orderId": "o-1"}).encode()).decode()
    charged = succeeded({"status": "charged", "orderId": "o-1", "serviceName": "s", "chargeId": "ch"})

    ok, sfn = post(monkeypatch, charged, isBase64Encoded=True, body=encoded)
    bad, unused = post(monkeypatch, charged, body="{")

    assert (ok["statusCode"], json.loads(sfn.requests[0]["input"])) == (201, {"orderId": "o-1"})
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["message"].startswith("body:")
    assert unused.requests == []


def test_a_lookup_answers_the_record_or_404_with_why(env, monkeypatch):
    record = {"orderId": {"S": "o-1"}, "status": {"S": "charged"}, "chargeId": {"S": "ch_1"}}
    monkeypatch.setattr(checkout, "_clients", {"dynamodb": Table(record)})
    found = checkout.handler({"routeKey": "GET /orders/{orderId}", "pathParameters": {"orderId": "o-1"}}, None)
    monkeypatch.setattr(checkout, "_clients", {"dynamodb": Table()})
    missing = checkout.handler({"routeKey": "GET /orders/{orderId}", "pathParameters": {"orderId": "o-2"}}, None)
    invalid = checkout.handler({"routeKey": "GET /orders/{orderId}", "pathParameters": {"orderId": "a b"}}, None)

    assert (found["statusCode"], json.loads(found["body"])["chargeId"]) == (200, "ch_1")
    assert (missing["statusCode"], json.loads(missing["body"])["status"]) == (404, "unknown")
    assert invalid["statusCode"] == 400
