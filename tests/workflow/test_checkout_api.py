"""The synchronous checkout API on the embedded stack: each outcome with its status, IAM, the record, the log.

The API is the stack's own (``CheckoutApi=true``), served by the local stack on the host API Gateway gives it;
the requests are SigV4-signed by a plain HTTP client (``checkout_client``), as a web backend's would be.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.credentials import Credentials

from breakwater.aws import Stack
from breakwater.local import compat
from tests.workflow.checkout_client import Reply, call
from tests.workflow.helpers import order, put_breaker


@pytest.fixture(scope="module")
def stack(embedded: Any) -> Stack:
    return embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS", FailureThreshold=50)


def checkout(stack: Stack, method: str, path: str, body: Any = None, **options: Any) -> Reply:
    return call(compat.function_endpoint(), stack.outputs["CheckoutApiId"], method, path, body, **options)


def test_a_charged_order_is_201_with_its_charge_and_where_to_find_it(stack, provider):
    reply = checkout(stack, "POST", "/orders", order(orderId="ord-api-1"))

    assert reply.status == 201
    assert reply.body["status"] == "charged"
    assert reply.body["chargeId"] == provider.charges["ord-api-1"]["id"]
    assert reply.headers["location"] == "/orders/ord-api-1"
    assert reply.headers["content-type"] == "application/json"


def test_a_declined_order_is_402_with_the_reason(stack, provider):
    reply = checkout(stack, "POST", "/orders", order(customerId="cus_card_declined"))

    assert (reply.status, reply.body["status"], reply.body["reason"]) == (402, "declined", "card_declined")


def test_a_queued_order_is_202_with_its_id_and_its_record_says_queued(embedded, stack, provider):
    provider.configure(mode="down")

    reply = checkout(stack, "POST", "/orders", order(orderId="ord-api-q"))
    later = checkout(stack, "GET", "/orders/ord-api-q")

    assert (reply.status, reply.body["status"], reply.body["reason"]) == (202, "queued", "call_failed")
    assert (reply.body["orderId"], reply.headers["location"]) == ("ord-api-q", "/orders/ord-api-q")
    assert later.status == 200
    assert (later.body["status"], later.body["reason"], later.body["attempts"]) == ("queued", "call_failed", 0)


def test_an_order_queued_because_the_circuit_is_open_is_202(embedded, stack, provider, clock):
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, version=1)
    try:
        reply = checkout(stack, "POST", "/orders", order())
    finally:
        put_breaker(embedded, stack, state="CLOSED", failureCount=0, version=2)

    assert (reply.status, reply.body["reason"]) == (202, "circuit_open")
    assert provider.calls == []


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("amount", 10.5, "amount"), ("currency", "usd", "currency"), ("orderId", "no spaces", "orderId")],
)
def test_an_invalid_order_is_400_naming_the_field(stack, provider, field, value, named):
    reply = checkout(stack, "POST", "/orders", order(**{field: value}))

    assert reply.status == 400
    assert reply.body["error"] == "InvalidOrder"
    assert reply.body["message"].startswith(f"{named}:")
    assert provider.calls == []


def test_a_body_that_is_not_json_is_400(stack, provider):
    reply = checkout(stack, "POST", "/orders", raw=b"orderId=1&amount=2")

    assert (reply.status, reply.body["error"]) == (400, "InvalidOrder")
    assert reply.body["message"].startswith("body:")


def test_an_order_id_reused_with_another_amount_is_400(stack, provider):
    checkout(stack, "POST", "/orders", order(orderId="ord-api-twice", amount=100))

    reply = checkout(stack, "POST", "/orders", order(orderId="ord-api-twice", amount=200))

    assert (reply.status, reply.body["error"]) == (400, "InvalidOrder")
    assert "idempotency" in reply.body["message"].lower()
    assert [c["amount"] for c in provider.charges.values()] == [100]


def test_an_order_that_could_be_neither_charged_nor_queued_is_503(embedded, provider):
    stack = embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")
    embedded.client("sqs").delete_queue(QueueUrl=stack.queue_url)
    provider.configure(mode="down")

    reply = checkout(stack, "POST", "/orders", order())

    assert (reply.status, reply.body["error"]) == (503, "FallbackUnavailable")
    assert reply.headers["retry-after"] == "5"


def test_an_unsigned_request_is_forbidden_and_runs_nothing(stack, provider):
    reply = checkout(stack, "POST", "/orders", order(), credentials=None)

    assert (reply.status, reply.body) == (403, {"message": "Forbidden"})
    assert provider.calls == []


def test_a_request_signed_with_another_secret_is_refused(stack, provider):
    reply = checkout(stack, "POST", "/orders", order(), credentials=Credentials("testing", "not-the-secret"))

    assert reply.status == 403
    assert reply.body["message"].startswith("The request signature we calculated does not match")
    assert provider.calls == []


def test_an_order_without_a_record_is_404_unknown_with_why(stack, provider):
    charged = checkout(stack, "POST", "/orders", order(orderId="ord-api-fast"))

    reply = checkout(stack, "GET", "/orders/ord-api-fast")

    assert charged.status == 201  # answered at once: the healthy path writes no record
    assert (reply.status, reply.body["status"]) == (404, "unknown")
    assert "first execution answered its caller" in reply.body["message"]


def test_a_route_the_api_does_not_have_is_404(stack):
    assert checkout(stack, "DELETE", "/orders/x").status == 404
    assert checkout(stack, "GET", "/orders").status == 404


def test_every_request_is_in_the_access_log(embedded, stack, provider):
    reply = checkout(stack, "POST", "/orders", order(customerId="cus_card_declined"))
    request_id = reply.headers["apigw-requestid"]
    logs = embedded.client("logs")
    (group,) = [
        g["logGroupName"]
        for g in logs.describe_log_groups(logGroupNamePrefix=f"{stack.name}-CheckoutApiLogs")["logGroups"]
    ]

    lines = [json.loads(e["message"]) for e in logs.filter_log_events(logGroupName=group)["events"]]

    (line,) = [entry for entry in lines if entry["requestId"] == request_id]
    assert (line["routeKey"], line["status"], line["integrationStatus"]) == ("POST /orders", "402", "200")
    assert line["caller"].endswith("/testing")


def test_the_api_answers_in_well_under_its_integration_timeout(stack, provider):
    started = time.monotonic()

    reply = checkout(stack, "POST", "/orders", order())

    assert reply.status == 201
    assert time.monotonic() - started < 29  # the integration's TimeoutInMillis; a hang fails here, not later


def test_a_function_error_is_500_as_api_gateway_answers_it(embedded, provider):
    broken = embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")
    embedded.client("lambda").update_function_configuration(
        FunctionName=broken.outputs["CheckoutFunctionArn"], Environment={"Variables": {}}
    )

    reply = checkout(broken, "GET", "/orders/ord-1")

    assert (reply.status, reply.body) == (500, {"message": "Internal Server Error"})


def test_an_integration_slower_than_its_timeout_is_503(embedded, provider):
    slow = embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")
    api = embedded.client("apigatewayv2")
    (integration,) = api.get_integrations(ApiId=slow.outputs["CheckoutApiId"])["Items"]
    api.update_integration(
        ApiId=slow.outputs["CheckoutApiId"], IntegrationId=integration["IntegrationId"], TimeoutInMillis=50
    )
    provider.configure(mode="slow", delay_seconds=1)

    reply = checkout(slow, "POST", "/orders", order())

    assert (reply.status, reply.body) == (503, {"message": "Service Unavailable"})


def test_checkout_api_adds_the_api_only_when_asked(embedded, stack, provider):
    without = embedded.deploy(WorkflowType="EXPRESS")

    assert not {k for k in without.outputs if k.startswith("Checkout")}
    assert checkout(stack, "POST", "/orders", order()).status == 201
