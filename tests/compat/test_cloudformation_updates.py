"""Tests of breakwater/local/compat/cloudformation_updates.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import run, unique_name
from breakwater.local import compat
from tests.compat.helpers import change_set_deploy
from tests.workflow.helpers import order


def test_a_stack_updates_twice_in_a_row_with_new_parameters(embedded, provider):
    # given: a stack created with two parameters, as a first `sam deploy` makes it
    stack_name = unique_name("upd")
    first = change_set_deploy(embedded, stack_name, "CREATE", PaymentApiUrl=provider.url, FailureThreshold="2")

    # when: the second deploy also names a parameter the log groups use (they must be updated)
    second = change_set_deploy(
        embedded, stack_name, "UPDATE", PaymentApiUrl=provider.url, FailureThreshold="3", LogRetentionDays="30"
    )
    third = change_set_deploy(embedded, stack_name, "UPDATE", PaymentApiUrl=provider.url, FailureThreshold="4")

    # then: the same state machine, its definition carrying the newest threshold, still runs
    definition = embedded.client("stepfunctions").describe_state_machine(stateMachineArn=third["StateMachineArn"])
    assert first["StateMachineArn"] == second["StateMachineArn"] == third["StateMachineArn"]
    assert re.search(r"\$counted >= 4\b", definition["definition"])  # the newest FailureThreshold
    result = run(embedded.client("stepfunctions"), third["StateMachineArn"], order())
    assert result.output["status"] == "charged"


def test_without_the_update_patch_the_second_deploy_fails(embedded, provider):
    stack_name = unique_name("upd")
    change_set_deploy(embedded, stack_name, "CREATE", PaymentApiUrl=provider.url, FailureThreshold="2")

    with compat.disabled("cloudformation_updates"), pytest.raises(ClientError, match="StateMachineLogs"):
        change_set_deploy(
            embedded, stack_name, "UPDATE", PaymentApiUrl=provider.url, FailureThreshold="3", LogRetentionDays="30"
        )
