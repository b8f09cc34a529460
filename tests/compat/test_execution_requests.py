"""Tests of breakwater/local/compat/execution_requests.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import unique_name
from breakwater.local import compat
from tests.compat.helpers import PASS, machine, refused, sync_client
from tests.workflow.helpers import order


@pytest.mark.parametrize("name", ["an order", "<img src=x>", "a/b", "tab\there", "x" * 81])
def test_a_name_aws_refuses_is_refused(embedded, name):
    answer = refused(embedded, name=name)

    if len(name) > 80:
        assert answer == {
            "Code": "ValidationException",
            "Message": f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
            "Member must have length less than or equal to 80",
        }
    else:
        assert answer == {"Code": "InvalidName", "Message": f"Invalid Name: '{name}'"}


@pytest.mark.parametrize(
    ("text", "message"),
    [  # AWS's answers, recorded 2023-06-22 (test_sfn_api, test_invalid_start_execution_input)
        (
            "not some json",
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or "
            "'false')",
        ),
        ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
        ("", "Invalid execution input."),
    ],
)
def test_input_that_is_not_json_is_refused_as_aws_words_it(embedded, text, message):
    assert refused(embedded, input=text) == {
        "Code": "InvalidExecutionInput",
        "Message": f"Invalid State Machine Execution Input: '{message}'",
    }


def test_an_input_over_256_kib_is_refused(embedded):
    answer = refused(embedded, input=json.dumps({"pad": "x" * 262144}))

    assert answer["Code"] == "ValidationException"
    assert answer["Message"].endswith("Member must have length less than or equal to 262144")


def test_without_the_patch_a_name_with_a_space_starts_an_execution(embedded):
    sfn = embedded.client("stepfunctions")
    with compat.disabled("execution_requests"):
        started = sfn.start_execution(stateMachineArn=machine(embedded, PASS), name="an order")

    assert started["executionArn"].endswith(":an order")


def test_an_express_workflow_runs_again_under_a_name_used_before(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")
    run = {"stateMachineArn": stack.state_machine_arn, "name": unique_name("again"), "input": json.dumps(order())}

    answers = [sync_client(embedded).start_sync_execution(**run) for _ in range(2)]

    assert [answer["status"] for answer in answers] == ["SUCCEEDED", "SUCCEEDED"]


def test_without_the_execution_requests_patch_a_name_used_before_is_refused(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")
    run = {"stateMachineArn": stack.state_machine_arn, "name": unique_name("again"), "input": json.dumps(order())}
    sync_client(embedded).start_sync_execution(**run)

    with compat.disabled("execution_requests"), pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        sync_client(embedded).start_sync_execution(**run)


def test_a_standard_workflow_still_refuses_a_finished_execution_s_name(embedded, provider):
    stack = embedded.deploy()
    name = unique_name("standard")
    embedded.run(stack, order(), name=name)

    with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
        embedded.client("stepfunctions").start_execution(
            stateMachineArn=stack.state_machine_arn, name=name, input=json.dumps(order())
        )
