"""Tests of breakwater/local/compat/cloudformation_apigatewayv2.py: the behaviour the patch gives the emulator, and that
the patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import re

import pytest

from breakwater.local import compat


def test_a_stack_s_http_api_is_in_api_gateway_with_its_routes_and_stage(embedded, provider):
    stack = embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")
    api = embedded.client("apigatewayv2")
    api_id = stack.outputs["CheckoutApiId"]

    routes = {r["RouteKey"]: r["AuthorizationType"] for r in api.get_routes(ApiId=api_id)["Items"]}
    (integration,) = api.get_integrations(ApiId=api_id)["Items"]
    (stage,) = api.get_stages(ApiId=api_id)["Items"]

    assert routes == {"POST /orders": "AWS_IAM", "GET /orders/{orderId}": "AWS_IAM"}
    assert (integration["IntegrationType"], integration["TimeoutInMillis"]) == ("AWS_PROXY", 29000)
    assert integration["IntegrationUri"] == stack.outputs["CheckoutFunctionArn"]
    assert stage["StageName"] == "$default" and "AccessLogSettings" in stage
    assert stack.outputs["CheckoutApiUrl"] == api.get_api(ApiId=api_id)["ApiEndpoint"]


def test_without_the_http_api_patch_the_stack_has_no_api(embedded, provider):
    before = {a["ApiId"] for a in embedded.client("apigatewayv2").get_apis()["Items"]}

    with compat.disabled("cloudformation_apigatewayv2"), pytest.warns(UserWarning) as warned:
        embedded.deploy(CheckoutApi="true", WorkflowType="EXPRESS")

    # moto's own words for what it skipped: each of the HTTP API's four resource types
    skipped = (re.search(r"parse (AWS::ApiGatewayV2::\w+) but it's not supported", str(w.message)) for w in warned)
    apis = {found.group(1) for found in skipped if found}
    assert apis == {f"AWS::ApiGatewayV2::{kind}" for kind in ("Api", "Integration", "Route", "Stage")}

    assert {a["ApiId"] for a in embedded.client("apigatewayv2").get_apis()["Items"]} == before
