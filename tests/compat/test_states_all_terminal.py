"""Tests of breakwater/local/compat/states_all_terminal.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any
from unittest import mock

from breakwater.local import compat
from breakwater.soak import failure_detail
from tests.workflow.helpers import order


def test_an_error_inside_the_stack_fails_the_execution_as_states_runtime_does_on_aws(embedded, provider):
    """A task that raises inside moto (not the service's answer) is States.Runtime: no States.ALL may hide it.

    This was the soak's lost order (issue 11): a KeyError in the SQS task's client creation ended, through
    the workflow's last-resort catcher, as FallbackUnavailable, which looked like the workflow's own doing.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sqs

    stack = embedded.deploy(FailureThreshold=1)
    provider.configure(mode="down")

    def broken(**_: Any) -> Any:
        raise KeyError("FUNCTION_VARIABLE")  # what os.environ's iteration raised

    with mock.patch.object(state_task_service_sqs, "boto_client_for", side_effect=broken):
        aws = embedded.run(stack, order())
        with compat.disabled("states_all_terminal"):
            moto = embedded.run(stack, order())

    assert (aws.status, aws.error) == ("FAILED", "States.Runtime")
    assert "FUNCTION_VARIABLE" in (aws.cause or "")
    # What the soak's report says of such an order: the task, its error and cause, no retries.
    call, task = failure_detail(aws)["failedTasks"]
    assert (call["state"], call["error"]) == ("Call payment provider", "PaymentServiceUnavailable")
    assert (task["state"], task["error"], task["retries"]) == ("Queue order for later", "States.Runtime", 0)
    assert "FUNCTION_VARIABLE" in task["cause"]
    assert (moto.status, moto.error) == ("FAILED", "FallbackUnavailable")  # caught by the Catch on States.ALL
