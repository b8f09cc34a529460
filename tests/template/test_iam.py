"""Every role of the translated template, pinned: exact actions on exact resources.

A change to any role (a new action, a wider resource, a managed policy) fails
here and has to be made deliberately. The roles are written out in the template,
so SAM attaches no managed policy (its basic-logging, X-Ray and event-source
poller policies grant on "*"); see docs/security-and-operations.md.
"""

from __future__ import annotations

from typing import Any

import pytest

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


TRACE_GRANTS = {(action, "*") for action in TRACES}

EXPECTED: dict[str, set[tuple[str, str]]] = {
    "CircuitBreakerStateMachineRole": {
        ("dynamodb:GetItem", "BreakerTable.Arn"),
        ("dynamodb:UpdateItem", "BreakerTable.Arn"),
        ("sqs:SendMessage", "FallbackQueue.Arn"),
        ("lambda:InvokeFunction", "PaymentFunction.Arn"),
        *((action, "*") for action in LOG_DELIVERY),
        *TRACE_GRANTS,
    },
    "PaymentFunctionRole": {
        ("logs:CreateLogStream", "PaymentFunctionLogs.Arn"),
        ("logs:PutLogEvents", "PaymentFunctionLogs.Arn"),
        *TRACE_GRANTS,
    },
    "ReplayFunctionRole": {
        ("sqs:ReceiveMessage", "FallbackQueue.Arn"),
        ("sqs:DeleteMessage", "FallbackQueue.Arn"),
        ("sqs:GetQueueAttributes", "FallbackQueue.Arn"),
        ("sqs:ChangeMessageVisibility", "FallbackQueue.Arn"),
        ("dynamodb:GetItem", "BreakerTable.Arn"),
        ("states:StartExecution", "CircuitBreakerStateMachine"),
        ("sqs:SendMessage", "FallbackDeadLetterQueue.Arn"),
        ("dynamodb:PutItem", "OrdersTable.Arn"),
        ("events:PutEvents", "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"),
        ("logs:CreateLogStream", "ReplayFunctionLogs.Arn"),
        ("logs:PutLogEvents", "ReplayFunctionLogs.Arn"),
        *TRACE_GRANTS,
    },
    "CheckoutFunctionRole": {
        ("states:StartSyncExecution", "CircuitBreakerStateMachine"),
        ("dynamodb:GetItem", "OrdersTable.Arn"),
        ("dynamodb:PutItem", "OrdersTable.Arn"),
        ("logs:CreateLogStream", "CheckoutFunctionLogs.Arn"),
        ("logs:PutLogEvents", "CheckoutFunctionLogs.Arn"),
        *TRACE_GRANTS,
    },
    "TransitionsFunctionRole": {
        ("dynamodb:DescribeStream", "BreakerTable.StreamArn"),
        ("dynamodb:GetRecords", "BreakerTable.StreamArn"),
        ("dynamodb:GetShardIterator", "BreakerTable.StreamArn"),
        ("dynamodb:ListStreams", "${BreakerTable.Arn}/stream/*"),
        ("dynamodb:Scan", "BreakerTable.Arn"),
        ("sqs:SendMessage", "TransitionsFailureQueue.Arn"),
        ("events:PutEvents", "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"),
        ("cloudwatch:PutMetricData", "*"),
        ("logs:CreateLogStream", "TransitionsFunctionLogs.Arn"),
        ("logs:PutLogEvents", "TransitionsFunctionLogs.Arn"),
        *TRACE_GRANTS,
    },
}

PRINCIPALS = {
    "CircuitBreakerStateMachineRole": "states.amazonaws.com",
    "PaymentFunctionRole": "lambda.amazonaws.com",
    "ReplayFunctionRole": "lambda.amazonaws.com",
    "TransitionsFunctionRole": "lambda.amazonaws.com",
    "CheckoutFunctionRole": "lambda.amazonaws.com",
}


def roles(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in translated["Resources"].items() if v["Type"] == "AWS::IAM::Role"}


def test_there_is_exactly_one_role_per_function_and_state_machine(translated):
    assert set(roles(translated)) == set(EXPECTED)


@pytest.mark.parametrize("role_id", sorted(EXPECTED))
def test_role_grants_exactly_what_it_needs(translated, role_id):
    role = roles(translated)[role_id]

    assert role["Properties"].get("ManagedPolicyArns", []) == []
    assert grants(role) == EXPECTED[role_id]


@pytest.mark.parametrize("role_id", sorted(EXPECTED))
def test_role_is_assumable_only_by_its_service(translated, role_id):
    (statement,) = roles(translated)[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]

    assert (statement["Effect"], statement["Action"]) == ("Allow", "sts:AssumeRole")
    assert statement["Principal"] == {"Service": PRINCIPALS[role_id]}
    if PRINCIPALS[role_id] == "states.amazonaws.com":  # confused-deputy guard: only this account's workflows
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_each_function_and_the_workflow_run_with_their_own_role(translated):
    runs_as = {
        logical_id: resource["Properties"].get("Role", resource["Properties"].get("RoleArn"))
        for logical_id, resource in translated["Resources"].items()
        if resource["Type"] in ("AWS::Lambda::Function", "AWS::StepFunctions::StateMachine")
    }

    assert runs_as == {
        "PaymentFunction": {"Fn::GetAtt": ["PaymentFunctionRole", "Arn"]},
        "ReplayFunction": {"Fn::GetAtt": ["ReplayFunctionRole", "Arn"]},
        "TransitionsFunction": {"Fn::GetAtt": ["TransitionsFunctionRole", "Arn"]},
        "CheckoutFunction": {"Fn::GetAtt": ["CheckoutFunctionRole", "Arn"]},
        "CircuitBreakerStateMachine": {"Fn::GetAtt": ["CircuitBreakerStateMachineRole", "Arn"]},
    }


def test_the_api_key_secret_is_readable_only_by_the_payment_function_when_configured(template):
    payment = template["Resources"]["PaymentFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    conditional = [s for s in payment if isinstance(s, dict) and "Fn::If" in s]

    assert len(conditional) == 1
    condition, granted, otherwise = conditional[0]["Fn::If"]
    assert condition == "HasApiKey"
    assert granted["Action"] == "secretsmanager:GetSecretValue"
    assert granted["Resource"] == {"Ref": "PaymentApiKeySecretArn"}
    assert otherwise == {"Ref": "AWS::NoValue"}


def test_replay_may_wait_for_its_replays_only_as_the_workflow_type_allows(template):
    replay = template["Resources"]["ReplayFunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    (conditional,) = [s for s in replay if isinstance(s, dict) and "Fn::If" in s]

    condition, express, standard = conditional["Fn::If"]
    assert condition == "IsExpress"
    assert (express["Action"], express["Resource"]) == (
        "states:StartSyncExecution",
        {"Ref": "CircuitBreakerStateMachine"},
    )
    assert standard["Action"] == "states:DescribeExecution"
    # the executions of this state machine only
    assert standard["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
        "${CircuitBreakerStateMachine.Name}:*"
    }


def test_cloudwatch_metrics_are_limited_to_the_breakwater_namespace(translated):
    role = roles(translated)["TransitionsFunctionRole"]
    statement = next(
        s
        for p in role["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Action"] == "cloudwatch:PutMetricData"
    )

    assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": {"Ref": "MetricsNamespace"}}}
