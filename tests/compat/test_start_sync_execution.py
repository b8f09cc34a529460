"""Tests of breakwater/local/compat/start_sync_execution.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from breakwater.local import compat
from tests.compat.helpers import sync_client
from tests.workflow.helpers import order


def test_an_express_workflow_runs_synchronously(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")

    answer = sync_client(embedded).start_sync_execution(
        stateMachineArn=stack.state_machine_arn, input=json.dumps(order())
    )

    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"])["status"] == "charged"


def test_a_standard_workflow_refuses_to_run_synchronously_as_on_aws(embedded, provider):
    stack = embedded.deploy()

    with pytest.raises(ClientError, match="StateMachineTypeNotSupported"):
        sync_client(embedded).start_sync_execution(stateMachineArn=stack.state_machine_arn, input=json.dumps(order()))


def test_without_the_sync_patch_start_sync_execution_is_not_implemented(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")

    with compat.disabled("start_sync_execution"), pytest.raises((ClientError, NotImplementedError)):
        sync_client(embedded).start_sync_execution(stateMachineArn=stack.state_machine_arn, input=json.dumps(order()))
