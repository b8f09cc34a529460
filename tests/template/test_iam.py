"""Every role of the translated template, pinned: exact actions on exact resources.

A change to any role (a new action, a wider resource, a managed policy) fails
here and has to be made deliberately. The managed policies are the ones SAM
attaches by itself (basic logging, X-Ray for `Tracing`, the event-source pollers);
see the README's "Security" section.
"""

from __future__ import annotations

from typing import Any

import pytest

BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
XRAY = "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
SQS_POLLER = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
STREAM_POLLER = "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole"

LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
TRACES = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}


def resource_key(resource: Any) -> str:
    if resource == "*":
        return "*"
    if "Fn::GetAtt" in resource:
        return ".".join(resource["Fn::GetAtt"])
    if "Ref" in resource:
        return resource["Ref"]
    if "Fn::Sub" in resource:
        return resource["Fn::Sub"]
    raise AssertionError(f"unexpected resource {resource!r}")


def grants(role: dict[str, Any]) -> set[tuple[str, str]]:
    found = set()
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                continue  # the API key grant, pinned by its own test below
            assert statement["Effect"] == "Allow"
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            found |= {(action, resource_key(resource)) for action in actions for resource in resources}
    return found


EXPECTED: dict[str, tuple[set[str], set[tuple[str, str]]]] = {
    "CircuitBreakerStateMachineRole": (
        {XRAY},
        {
            ("dynamodb:GetItem", "BreakerTable.Arn"),
            ("dynamodb:UpdateItem", "BreakerTable.Arn"),
            ("sqs:SendMessage", "FallbackQueue.Arn"),
            ("lambda:InvokeFunction", "PaymentFunction.Arn"),
            *((action, "*") for action in LOG_DELIVERY | TRACES),
        },
    ),
    "PaymentFunctionRole": (
        {BASIC, XRAY},
        {
            ("logs:CreateLogStream", "PaymentFunctionLogs.Arn"),
            ("logs:PutLogEvents", "PaymentFunctionLogs.Arn"),
        },
    ),
    "ReplayFunctionRole": (
        {BASIC, XRAY, SQS_POLLER},
        {
            ("dynamodb:GetItem", "BreakerTable.Arn"),
            ("states:StartExecution", "CircuitBreakerStateMachine"),
            ("sqs:ChangeMessageVisibility", "FallbackQueue.Arn"),
            ("sqs:SendMessage", "FallbackDeadLetterQueue.Arn"),
            ("logs:CreateLogStream", "ReplayFunctionLogs.Arn"),
            ("logs:PutLogEvents", "ReplayFunctionLogs.Arn"),
        },
    ),
    "TransitionsFunctionRole": (
        {BASIC, XRAY, STREAM_POLLER},
        {
            ("events:PutEvents", "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"),
            ("cloudwatch:PutMetricData", "*"),
            ("sqs:SendMessage", "TransitionsFailureQueue.Arn"),  # SAM's grant for the OnFailure destination
            ("logs:CreateLogStream", "TransitionsFunctionLogs.Arn"),
            ("logs:PutLogEvents", "TransitionsFunctionLogs.Arn"),
        },
    ),
}


def roles(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in translated["Resources"].items() if v["Type"] == "AWS::IAM::Role"}


def test_there_is_exactly_one_role_per_function_and_state_machine(translated):
    assert set(roles(translated)) == set(EXPECTED)


@pytest.mark.parametrize("role_id", sorted(EXPECTED))
def test_role_grants_exactly_what_it_needs(translated, role_id):
    managed, statements = EXPECTED[role_id]
    role = roles(translated)[role_id]

    assert set(role["Properties"].get("ManagedPolicyArns", [])) == managed
    assert grants(role) == statements


def test_the_api_key_secret_is_readable_only_by_the_payment_function_when_configured(template):
    payment = template["Resources"]["PaymentFunction"]["Properties"]["Policies"][0]["Statement"]
    conditional = [s for s in payment if isinstance(s, dict) and "Fn::If" in s]

    assert len(conditional) == 1
    condition, granted, otherwise = conditional[0]["Fn::If"]
    assert condition == "HasApiKey"
    assert granted["Action"] == "secretsmanager:GetSecretValue"
    assert granted["Resource"] == {"Ref": "PaymentApiKeySecretArn"}
    assert otherwise == {"Ref": "AWS::NoValue"}


def test_cloudwatch_metrics_are_limited_to_the_breakwater_namespace(translated):
    role = roles(translated)["TransitionsFunctionRole"]
    statement = next(
        s
        for p in role["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Action"] == "cloudwatch:PutMetricData"
    )

    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Breakwater"}}
