"""The capacity model's per-path figures (breakwater/capacity.py) are what the workflow does, counted."""

from __future__ import annotations

from unittest import mock

from moto.dynamodb.models import DynamoDBBackend

from breakwater import capacity
from breakwater.executions import start, wait
from tests.workflow.helpers import order
from tests.workflow.test_faults import failing


def used(result) -> tuple[int, int, int, int, int]:
    cost = result.cost()
    return (cost.states_entered, cost.dynamodb_reads, cost.dynamodb_writes, cost.lambda_invocations, cost.sqs_messages)


def modelled(name: str) -> tuple[int, int, int, int, int]:
    path = next(p for p in capacity.PATHS if p.name == name)
    return (path.transitions, path.reads, path.writes, path.calls, path.messages)


def test_each_modelled_path_costs_what_its_execution_costs(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=2)
    runs = {"closed, success, no prior failures": embedded.run(stack, order())}
    provider.configure(mode="down")
    runs["closed, failure below threshold"] = embedded.run(stack, order())
    runs["closed, failure that trips"] = embedded.run(stack, order())
    runs["open, fast fail"] = embedded.run(stack, order())
    busy = embedded.deploy()
    with mock.patch.object(DynamoDBBackend, "get_item", failing("ThrottlingException")):
        runs["breaker table busy"] = embedded.run(busy, order())
    provider.configure(mode="healthy")
    bulkhead = embedded.deploy(PaymentConcurrency=1, CallTimeoutSeconds=60)
    sfn = embedded.client("stepfunctions")
    with provider.holding():
        held = start(sfn, bulkhead.state_machine_arn, order())
        assert provider.wait_for_in_flight(1, timeout=60)
        runs["bulkhead full"] = embedded.run(bulkhead, order())
    wait(sfn, held, 120)

    assert {name: used(result) for name, result in runs.items()} == {p.name: modelled(p.name) for p in capacity.PATHS}
    assert all(result.label == name for name, result in runs.items())
