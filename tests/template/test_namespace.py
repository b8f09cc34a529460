"""One metrics namespace: the MetricsNamespace parameter reaches every function, the grant, the alarm and the
dashboard, and changing it changes all of them (the CLI reads transitions from the table's stream instead)."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from typing import Any

import pytest

from breakwater import cli
from breakwater.template import parameters
from tests.function_modules import load

PARAMETER = "MetricsNamespace"
FUNCTIONS = ("PaymentFunction", "ReplayFunction", "TransitionsFunction")
CUSTOM = "Team/Payments-2"


def function_module(name: str) -> Any:
    return load(name, f"namespace_{name}_app")


def policy_document(value: Any) -> dict[str, Any]:
    """A role's inline policy as IAM returns it (moto's CloudFormation stores a Python repr, not JSON)."""
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value)  # type: ignore[no-any-return]
    except ValueError:
        return ast.literal_eval(value)  # type: ignore[no-any-return]


def test_the_parameter_is_typed_bounded_and_defaults_to_breakwater(template: dict[str, Any]) -> None:
    spec = template["Parameters"][PARAMETER]
    pattern = re.compile(spec["AllowedPattern"])

    assert (spec["Type"], spec["Default"]) == ("String", "Breakwater")
    assert all(pattern.match(v) for v in ("Breakwater", CUSTOM, "a.b_c#d:e"))
    assert not any(pattern.match(v) for v in ("", "AWS/Lambda", "has space", "x" * 256, 'quote"'))


def test_no_resource_names_a_namespace_of_its_own(template: dict[str, Any]) -> None:
    default = template["Parameters"][PARAMETER]["Default"]
    text = json.dumps({"Resources": template["Resources"], "Outputs": template["Outputs"]})

    assert f'"{default}"' not in text  # as a value: only the parameter's default holds it
    assert f'[\\"{default}\\"' not in text  # nor inside the dashboard's body


@pytest.mark.parametrize("function", ["payment", "replay", "transitions"])
def test_a_function_run_outside_a_stack_falls_back_to_the_template_default(function: str) -> None:
    module = function_module(function)

    assert module.NAMESPACE_ENV == "METRICS_NAMESPACE"
    assert parameters()[PARAMETER].default == module.DEFAULT_METRICS_NAMESPACE


def test_changing_the_namespace_changes_every_place_that_uses_it(embedded, capsys) -> None:
    # given
    stack = embedded.deploy(**{PARAMETER: CUSTOM})
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in embedded.client("cloudformation").describe_stack_resources(StackName=stack.name)["StackResources"]
        if r.get("LogicalResourceId") and r.get("PhysicalResourceId")
    }
    lam, iam, cloudwatch = embedded.client("lambda"), embedded.client("iam"), embedded.client("cloudwatch")

    # then: every function's environment
    for function in FUNCTIONS:
        variables = lam.get_function_configuration(FunctionName=resources[function])["Environment"]["Variables"]
        assert variables["METRICS_NAMESPACE"] == CUSTOM, function
    # the metric grant's condition
    policy = iam.get_role_policy(RoleName=resources["TransitionsFunctionRole"], PolicyName="transitions")
    statements = policy_document(policy["PolicyDocument"])["Statement"]
    (grant,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert grant["Condition"] == {"StringEquals": {"cloudwatch:namespace": CUSTOM}}
    # the alarm
    (alarm,) = [
        a for a in cloudwatch.describe_alarms()["MetricAlarms"] if a["AlarmName"] == resources["CircuitOpenAlarm"]
    ]
    assert alarm["Namespace"] == CUSTOM
    # the dashboard
    body = json.loads(cloudwatch.get_dashboard(DashboardName=resources["Dashboard"])["DashboardBody"])
    circuit = [m for w in body["widgets"] for m in w["properties"]["metrics"] if "CircuitState" in m]
    assert circuit and {m[0] for m in circuit} == {CUSTOM}
    # the output the CLI reads
    assert stack.outputs[PARAMETER] == CUSTOM

    # when: the CLI shows transitions: from the table's stream, at their true times, whatever the namespace
    # holds (CircuitState is the alarm's and the dashboard's; a per-minute maximum is no transition's time)
    now = dt.datetime.now(tz=dt.UTC)
    cloudwatch.put_metric_data(
        Namespace=CUSTOM,
        MetricData=[
            {
                "MetricName": "CircuitState",
                "Dimensions": [{"Name": "ServiceName", "Value": "payment-api"}],
                "Value": 1,
                "Timestamp": now,
            }
        ],
    )
    embedded.client("dynamodb").put_item(
        TableName=stack.table_name,
        Item={"serviceName": {"S": "payment-api"}, "state": {"S": "OPEN"}, "lastTransitionMs": {"N": "1"}},
    )
    capsys.readouterr()
    code = cli.main(["status", "--stack-name", stack.name])
    shown = capsys.readouterr().out

    assert code == 0
    recent = shown.split("transitions (", 1)[1]
    assert "OPEN" in recent and "HALF_OPEN" not in recent
