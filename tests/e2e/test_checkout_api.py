"""The checkout API under `breakwater local up`: the AWS CLI's apigatewayv2 view of it, and its answers to plain
HTTP clients (curl with its own SigV4 signing, and http.client with botocore's), on local up's own port."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from breakwater.local.http_api import local_url
from tests.e2e.conftest import LocalUp, local_up_running
from tests.requirements import unavailable
from tests.workflow.checkout_client import Reply
from tests.workflow.checkout_client import call as call_api

STACK = "checkout-e2e"


@pytest.fixture(scope="module")
def up() -> Iterator[LocalUp]:
    overrides = ["CheckoutApi=true", "WorkflowType=EXPRESS", "FailureThreshold=50"]
    with local_up_running("--no-replay", "--stack-name", STACK, "--parameter-overrides", *overrides) as running:
        yield running


@pytest.fixture(scope="module")
def api_id(up: LocalUp) -> str:
    return up.outputs(STACK)["CheckoutApiId"]


def call(endpoint: str, api_id: str, method: str, path: str, body: Any = None, **options: Any) -> Reply:
    """A request to local up's API on the host it answers (``<apiId>.execute-api.localhost:<port>``)."""
    host = local_url(api_id, int(endpoint.rsplit(":", 1)[1])).removeprefix("http://")
    return call_api(endpoint, api_id, method, path, body, host=host, **options)


def test_the_api_s_aws_host_is_refused_unless_allowed(up, api_id):
    # local up's endpoint answers only names of this machine (DNS rebinding): the AWS host needs --allow-host
    reply = call_api(up.endpoint, api_id, "GET", "/orders/ord-any")

    assert reply.status == 403


def order(order_id: str, **fields: Any) -> dict[str, Any]:
    return {"orderId": order_id, "amount": 1999, "currency": "USD", "customerId": "cus_123", **fields}


def test_the_aws_cli_sees_the_api_its_routes_integration_and_stage(up, api_id):
    outputs = up.outputs(STACK)

    (api,) = [a for a in up.aws("apigatewayv2", "get-apis")["Items"] if a["ApiId"] == api_id]
    routes = up.aws("apigatewayv2", "get-routes", "--api-id", api_id)["Items"]
    (integration,) = up.aws("apigatewayv2", "get-integrations", "--api-id", api_id)["Items"]
    (stage,) = up.aws("apigatewayv2", "get-stages", "--api-id", api_id)["Items"]

    assert (api["ProtocolType"], api["ApiEndpoint"]) == ("HTTP", outputs["CheckoutApiUrl"])
    assert sorted((r["RouteKey"], r["AuthorizationType"]) for r in routes) == [
        ("GET /orders/{orderId}", "AWS_IAM"),
        ("POST /orders", "AWS_IAM"),
    ]
    assert {r["Target"] for r in routes} == {f"integrations/{integration['IntegrationId']}"}
    assert (integration["IntegrationType"], integration["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert integration["IntegrationUri"] == outputs["CheckoutFunctionArn"]
    assert integration["TimeoutInMillis"] == 29000
    assert stage["StageName"] == "$default"
    assert stage["AccessLogSettings"]["DestinationArn"].split(":log-group:")[1].startswith(f"{STACK}-CheckoutApiLogs")


def test_local_up_says_where_the_api_answers(up, api_id):
    port = int(up.endpoint.rsplit(":", 1)[1])

    assert any(local_url(api_id, port) + "/orders" in line for line in up.lines)


def test_each_outcome_has_its_status_through_a_plain_http_client(up, api_id):
    # charged, declined, invalid, then queued (the provider down)
    charged = call(up.endpoint, api_id, "POST", "/orders", order("ord-e2e-1"))
    declined = call(up.endpoint, api_id, "POST", "/orders", order("ord-e2e-2", customerId="cus_card_declined"))
    invalid = call(up.endpoint, api_id, "POST", "/orders", order("ord-e2e-3", currency="dollars"))
    up.provider(mode="down")
    try:
        queued = call(up.endpoint, api_id, "POST", "/orders", order("ord-e2e-4"))
    finally:
        up.provider(mode="healthy")
    looked_up = call(up.endpoint, api_id, "GET", "/orders/ord-e2e-4")
    unsigned = call(up.endpoint, api_id, "POST", "/orders", order("ord-e2e-5"), credentials=None)

    assert (charged.status, charged.body["status"]) == (201, "charged")
    assert charged.body["chargeId"].startswith("ch_")
    assert (declined.status, declined.body["reason"]) == (402, "card_declined")
    assert (invalid.status, invalid.body["error"]) == (400, "InvalidOrder")
    assert invalid.body["message"].startswith("currency:")
    assert (queued.status, queued.body["status"], queued.headers["location"]) == (202, "queued", "/orders/ord-e2e-4")
    assert (looked_up.status, looked_up.body["status"]) == (200, "queued")
    assert unsigned.status == 403


def test_curl_signs_and_places_an_order(up, api_id):
    if shutil.which("curl") is None:
        unavailable("curl is not installed")
    port = int(up.endpoint.rsplit(":", 1)[1])
    result = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--max-time",
            "60",
            "--aws-sigv4",
            "aws:amz:us-east-1:execute-api",
            "--user",
            "testing:testing",
            "--header",
            "Content-Type: application/json",
            "--data",
            json.dumps(order("ord-e2e-curl")),
            "--write-out",
            "\n%{http_code}",
            f"{local_url(api_id, port)}/orders",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    body, status = result.stdout.rsplit("\n", 1)

    assert status == "201"
    assert json.loads(body)["orderId"] == "ord-e2e-curl"


def test_breakwater_order_answers_from_the_record_the_api_wrote(up, api_id):
    up.provider(mode="down")
    try:
        call(up.endpoint, api_id, "POST", "/orders", order("ord-e2e-cli"))
    finally:
        up.provider(mode="healthy")

    answer = json.loads(up.breakwater("order", "ord-e2e-cli", "--json", "--stack-name", STACK).stdout)
    text = up.breakwater("order", "ord-e2e-cli", "--stack-name", STACK).stdout

    assert (answer["status"], answer["reason"]) == ("queued", "call_failed")
    assert text.splitlines()[0] == "order ord-e2e-cli: queued"
