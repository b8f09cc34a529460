"""Each row of DESIGN.md's cost budget, counted from the execution history."""

from __future__ import annotations

from unittest import mock

import pytest
from moto.dynamodb.models import DynamoDBBackend

from breakwater.budget import BUDGET, HEALTHY, over_budget
from breakwater.executions import ExecutionResult, start, wait
from tests.workflow.helpers import order, put_breaker
from tests.workflow.test_faults import failing


def within_budget(row: str, result: ExecutionResult) -> None:
    """The execution took the path ``row`` names (its label) and kept to that row of breakwater/budget.py."""
    assert row in BUDGET, f"{row}: no row in breakwater/budget.py"
    assert result.label == row
    assert over_budget(row, result.cost()) == []


@pytest.fixture
def stack(embedded, provider):
    return embedded.deploy(FailureThreshold=2)


def test_closed_success_path_is_within_budget(embedded, stack, provider):
    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    within_budget("closed, success, no prior failures", result)
    assert result.cost().dynamodb_reads == 1


def test_closed_success_reads_eventually_consistent(embedded, stack, provider):
    result = embedded.run(stack, order())

    scheduled = [e["taskScheduledEventDetails"] for e in result.events if "taskScheduledEventDetails" in e]
    get_item = next(d for d in scheduled if d["resource"] == "getItem")
    assert '"ConsistentRead": false' in get_item["parameters"]


def test_open_fast_fail_path_is_within_budget(embedded, stack, provider, clock):
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, tripCount=1, version=1)

    result = embedded.run(stack, order())

    assert result.output["reason"] == "circuit_open"
    within_budget("open, fast fail", result)


def test_failure_below_threshold_path_is_within_budget(embedded, stack, provider):
    provider.configure(mode="down")

    result = embedded.run(stack, order())

    assert result.output["reason"] == "call_failed"
    within_budget("closed, failure below threshold", result)


def test_failure_below_threshold_in_a_running_window_is_within_budget(embedded, stack, provider, clock):
    put_breaker(embedded, stack, state="CLOSED", failureCount=0, windowStartMs=0)
    stack3 = embedded.deploy(FailureThreshold=3)
    provider.configure(mode="down")
    embedded.run(stack3, order())

    result = embedded.run(stack3, order())

    assert "Count the failure in the current window" not in result.path
    within_budget("closed, failure below threshold", result)


def test_failure_that_trips_path_is_within_budget(embedded, stack, provider):
    provider.configure(mode="down")
    embedded.run(stack, order())

    result = embedded.run(stack, order())

    assert "Open the circuit" in result.path
    within_budget("closed, failure that trips", result)


@pytest.mark.parametrize("bad", [{"orderId": 7}, "not an order", None, [1, 2]])
def test_invalid_input_path_is_within_budget(embedded, stack, provider, bad):
    result = embedded.run(stack, bad)

    assert result.error == "InvalidOrder"
    within_budget("invalid input", result)


def test_concurrent_first_failures_each_stay_within_budget(embedded, provider):
    from tests.workflow.helpers import run_many

    stack = embedded.deploy(FailureThreshold=50)
    provider.configure(mode="down")

    results = run_many(embedded, stack, [order() for _ in range(10)])

    for result in results:
        within_budget("closed, failure below threshold", result)
    from tests.workflow.helpers import breaker

    assert breaker(embedded, stack)["failureCount"] == 10


# -- issue 13: failure rate, slow calls, shadow mode ---------------------------------------------------------

RATE = {"FailureThreshold": 0, "FailureRateThreshold": 50, "MinimumCalls": 4}


@pytest.mark.parametrize(
    "settings",
    [{}, RATE, {**RATE, "SlowCallSeconds": 5}, {"BreakerMode": "SHADOW", "SlowCallSeconds": 5, **RATE}],
    ids=["defaults", "rate rule", "rate rule and slow calls", "shadow, rate rule and slow calls"],
)
def test_healthy_path_stays_three_states_one_read_no_write_whatever_the_new_parameters(
    embedded, provider, clock, settings
):
    stack = embedded.deploy(**settings)

    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert result.cost() == HEALTHY


def test_success_inside_a_window_with_failures_is_within_budget(embedded, provider, clock):
    from tests.workflow.helpers import breaker

    stack = embedded.deploy(**RATE)
    provider.configure(mode="down")
    embedded.run(stack, order())
    provider.configure(mode="healthy")

    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert breaker(embedded, stack)["callCount"] == 2
    within_budget("closed, success inside a window with failures", result)


def test_slow_success_is_within_budget(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=3, SlowCallSeconds=1)
    provider.configure(mode="slow", delay_seconds=1.6)

    result = embedded.run(stack, order())

    assert result.output["slow"] is True
    within_budget("closed, slow success", result)


def test_rate_trip_is_within_budget(embedded, provider, clock):
    stack = embedded.deploy(**RATE)
    put_breaker(embedded, stack, state="CLOSED", failureCount=1, callCount=3, windowStartMs=clock.now_ms())
    provider.configure(mode="down")

    result = embedded.run(stack, order())

    assert "Open the circuit" in result.path
    within_budget("closed, failure that trips", result)


def test_trip_by_a_slow_charged_call_is_within_budget(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=1, SlowCallSeconds=1)
    provider.configure(mode="slow", delay_seconds=1.6)

    result = embedded.run(stack, order())

    assert (result.output["status"], result.output["slow"]) == ("charged", True)
    assert "Open the circuit after a charged call" in result.path
    within_budget("closed, trip by a charged call", result)


def test_shadow_call_while_open_is_within_budget(embedded, provider, clock):
    stack = embedded.deploy(BreakerMode="SHADOW")
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, tripCount=1, version=1)

    result = embedded.run(stack, order())

    assert result.output["shadow"] == {"wouldQueue": True, "reason": "circuit_open"}
    within_budget("open, shadow call", result)


def test_breaker_table_busy_path_is_within_budget(embedded, stack, provider):
    with mock.patch.object(DynamoDBBackend, "get_item", failing("ThrottlingException")):
        result = embedded.run(stack, order())

    assert result.output["reason"] == "breaker_busy"
    assert result.label == "breaker table busy"
    within_budget("breaker table busy", result)


def test_bulkhead_full_path_is_within_budget(embedded, provider):
    stack = embedded.deploy(PaymentConcurrency=1, CallTimeoutSeconds=60)
    sfn = embedded.client("stepfunctions")

    with provider.holding():
        held = start(sfn, stack.state_machine_arn, order())
        assert provider.wait_for_in_flight(1, timeout=60)
        result = embedded.run(stack, order())
    wait(sfn, held, 120)

    assert result.output["reason"] == "concurrency_limit"
    assert result.label == "bulkhead full"
    within_budget("bulkhead full", result)
