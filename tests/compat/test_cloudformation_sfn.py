"""Tests of breakwater/local/compat/cloudformation_sfn.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import unique_name
from breakwater.local import compat


def test_cloudformation_state_machine_gets_its_definition_substituted_and_executes(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")

    described = embedded.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn)

    assert "${" not in described["definition"]
    assert stack.table_name in described["definition"]
    assert described["type"] == "EXPRESS"


def test_without_the_cloudformation_patch_the_machine_cannot_run(embedded, provider):
    with compat.disabled("cloudformation_sfn"):
        stack = embedded.deploy()
    sfn = embedded.client("stepfunctions")

    with pytest.raises(ClientError):
        described = sfn.describe_state_machine(stateMachineArn=stack.state_machine_arn)
        assert "Read breaker state" in described["definition"]
        sfn.start_execution(stateMachineArn=stack.state_machine_arn, name=unique_name(), input="{}")
        raise AssertionError("the unpatched machine should not be runnable")


def test_substitution_replaces_only_named_placeholders():
    text = compat.substitute_definition({"a": "${Table}", "b": "{% $states.input %}", "c": "${Other}"}, {"Table": "t1"})

    assert json.loads(text) == {"a": "t1", "b": "{% $states.input %}", "c": "${Other}"}
