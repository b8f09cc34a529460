"""The optional checkout API in the template: off by default, IAM on every route, timeouts that nest, logs, roles."""

from __future__ import annotations

from typing import Any

import pytest

from breakwater.errors import TemplateError
from breakwater.template import CHECKOUT_LONGEST_CALL_SECONDS, resolve_parameters

HTTP_API_INTEGRATION_LIMIT_MS = 30_000  # API Gateway's quota for HTTP APIs ("Maximum integration timeout", fixed)
URL = {"PaymentApiUrl": "http://127.0.0.1:4567"}


def checkout_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v.get("Condition") == "HasCheckoutApi"}


def test_the_api_is_off_by_default_and_every_part_of_it_hangs_on_the_parameter(template):
    assert template["Parameters"]["CheckoutApi"]["Default"] == "false"
    assert template["Conditions"]["HasCheckoutApi"] == {"Fn::Equals": [{"Ref": "CheckoutApi"}, "true"]}
    assert {v["Type"] for v in checkout_resources(template).values()} >= {
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Stage",
        "AWS::Serverless::Function",
        "AWS::Lambda::Permission",
    }
    outputs = {k for k, v in template["Outputs"].items() if v.get("Condition") == "HasCheckoutApi"}
    assert outputs == {"CheckoutApiUrl", "CheckoutApiId", "CheckoutFunctionArn", "CheckoutCallerPolicyArn"}


def test_both_routes_need_a_sigv4_signature(template):
    routes = {
        v["Properties"]["RouteKey"]: v["Properties"]["AuthorizationType"]
        for v in checkout_resources(template).values()
        if v["Type"] == "AWS::ApiGatewayV2::Route"
    }

    assert routes == {"POST /orders": "AWS_IAM", "GET /orders/{orderId}": "AWS_IAM"}


def test_the_timeouts_nest_below_the_http_api_limit(template):
    resources = template["Resources"]
    integration = resources["CheckoutIntegration"]["Properties"]
    function = resources["CheckoutFunction"]["Properties"]

    assert integration["TimeoutInMillis"] < HTTP_API_INTEGRATION_LIMIT_MS
    assert function["Timeout"] * 1000 < integration["TimeoutInMillis"]
    assert integration["PayloadFormatVersion"] == "2.0"


def test_the_stage_writes_access_logs_and_is_throttled(template):
    stage = template["Resources"]["CheckoutStage"]["Properties"]

    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["CheckoutApiLogs", "Arn"]}
    for variable in ("requestId", "routeKey", "status", "identity.userArn", "integrationStatus"):
        assert f"$context.{variable}" in stage["AccessLogSettings"]["Format"]
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_the_caller_policy_grants_the_two_routes_only(template):
    (statement,) = template["Resources"]["CheckoutCallerPolicy"]["Properties"]["PolicyDocument"]["Statement"]

    assert statement["Action"] == "execute-api:Invoke"
    assert [r["Fn::Sub"].rsplit("}/", 1)[1] for r in statement["Resource"]] == [
        "$default/POST/orders",
        "$default/GET/orders/*",
    ]


def test_the_checkout_role_runs_orders_and_reads_records_only(translated):
    statements = translated["Resources"]["CheckoutFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    grants = {
        (action, str(statement["Resource"]))
        for statement in statements["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
        if not action.startswith(("logs:", "xray:"))
    }

    assert grants == {
        ("states:StartSyncExecution", "{'Ref': 'CircuitBreakerStateMachine'}"),
        ("dynamodb:GetItem", "{'Fn::GetAtt': ['OrdersTable', 'Arn']}"),
        ("dynamodb:PutItem", "{'Fn::GetAtt': ['OrdersTable', 'Arn']}"),
    }


def test_the_rule_asks_for_express(template):
    rule = template["Rules"]["CheckoutApiNeedsExpress"]

    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "CheckoutApi"}, "true"]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "WorkflowType"}, "EXPRESS"]}


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"CheckoutApi": "true"}, "parameter CheckoutApi: .* only EXPRESS"),
        (
            {"CheckoutApi": "true", "WorkflowType": "EXPRESS", "CallTimeoutSeconds": CHECKOUT_LONGEST_CALL_SECONDS + 1},
            f"parameter CallTimeoutSeconds: {CHECKOUT_LONGEST_CALL_SECONDS + 1} is too long for the checkout API",
        ),
    ],
)
def test_a_local_deploy_refuses_what_the_api_cannot_serve(values, problem):
    with pytest.raises(TemplateError, match=problem):
        resolve_parameters({**URL, "ProbeLeaseSeconds": 60, **values})


def test_the_longest_call_the_api_allows_is_the_one_its_parameter_states(template):
    allowed = {"CheckoutApi": "true", "WorkflowType": "EXPRESS", "CallTimeoutSeconds": CHECKOUT_LONGEST_CALL_SECONDS}

    assert resolve_parameters({**URL, **allowed})["CheckoutApi"] == "true"
    description = template["Parameters"]["CheckoutApi"]["Description"]
    assert f"CallTimeoutSeconds {CHECKOUT_LONGEST_CALL_SECONDS} or less" in description
