"""EXPRESS runs asynchronous executions at least once: what a duplicate of an order does, and its bound.

AWS documents asynchronous EXPRESS executions as at-least-once (synchronous ones as at-most-once), without a
rate of duplicates. A duplicate is the same input run twice; here the second run is started by hand. Bound:
a duplicate is one more provider call under the same idempotency key (never a second charge), at most one
more failure counted (the trip can come one order early), and one more queued message, which replay charges
under the same key.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from breakwater.executions import start, wait
from tests.workflow.helpers import breaker, order, queued


def run_twice(embedded, stack, the_order):
    """The order and its duplicate, at once."""
    sfn = embedded.client("stepfunctions")
    with ThreadPoolExecutor(max_workers=2) as pool:
        arns = list(pool.map(lambda _: start(sfn, stack.state_machine_arn, the_order), range(2)))
    return [wait(sfn, arn, 120) for arn in arns]


def test_a_duplicate_of_a_charged_order_charges_it_once(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS")
    the_order = order()

    first, second = run_twice(embedded, stack, the_order)

    assert first.output["status"] == second.output["status"] == "charged"
    assert first.output["chargeId"] == second.output["chargeId"]  # the provider answered the same key twice
    assert provider.charged_orders() == [the_order["orderId"]]
    assert len(provider.calls_for(the_order["orderId"])) == 2


def test_a_duplicate_of_a_failed_order_counts_one_more_failure_and_queues_one_more_message(embedded, provider):
    stack = embedded.deploy(WorkflowType="EXPRESS", FailureThreshold=2)
    provider.configure(mode="down")
    the_order = order()

    outcomes = run_twice(embedded, stack, the_order)

    assert [o.output["reason"] for o in outcomes] == ["call_failed", "call_failed"]
    record = breaker(embedded, stack)
    assert record["state"] == "OPEN"  # two counts from one order: the trip came one order early
    assert record["failureCount"] == 2
    assert [body["order"]["orderId"] for body in queued(embedded, stack)] == [the_order["orderId"]] * 2


def test_replaying_both_copies_of_a_duplicated_order_charges_it_once(embedded, provider, clock):
    stack = embedded.deploy(WorkflowType="EXPRESS", FailureThreshold=5)
    provider.configure(mode="down")
    the_order = order()
    run_twice(embedded, stack, the_order)
    provider.configure(mode="healthy")
    clock.advance(3600)  # past every retry delay

    replay = embedded.replay_source(stack)
    replay.drain()
    sfn = embedded.client("stepfunctions")
    replays = [
        wait(sfn, e["executionArn"], 120)
        for e in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        if e["name"].startswith("replay-")
    ]

    assert sorted(r.output["status"] for r in replays) == ["charged", "charged"]
    assert provider.charged_orders() == [the_order["orderId"]]
