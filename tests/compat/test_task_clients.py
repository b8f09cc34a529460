"""Tests of breakwater/local/compat/task_clients.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from unittest import mock

from breakwater.local import compat
from tests.workflow.helpers import order


def test_tasks_share_one_client_per_service(embedded, provider):
    import boto3
    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    stack = embedded.deploy()
    embedded.run(stack, order())  # the clients of this stack's tasks exist from now on
    real = boto3.client

    def created_during(runs: int) -> int:
        with mock.patch.object(boto_client_module.boto3, "client", side_effect=real) as client:
            results = [embedded.run(stack, order()) for _ in range(runs)]
        assert {r.output["status"] for r in results} == {"charged"}
        return client.call_count

    assert created_during(3) == 0
    with compat.disabled("task_clients_reused"):
        assert created_during(3) >= 6  # a GetItem client and a Lambda client for every execution
