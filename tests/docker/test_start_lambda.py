"""The demo story through the workflow, every Lambda invoke of the local stack served by ``sam local start-lambda``.

Trip (the provider down, failures reach FailureThreshold: OPEN), fast fail (queued ``circuit_open``, no call),
probe after the cooldown (HALF_OPEN), close (SuccessThreshold probe successes). The payment function runs in the
real runtime in warm containers; the table's stream reaches the transitions function there too. The cooldown
(CooldownSeconds, 2 s) is the one real wait: the stack runs in another process, no clock patch reaches it.
"""

from __future__ import annotations

import time
import uuid

import pytest

from breakwater import breaker
from breakwater.breaker import BreakerState
from breakwater.executions import ExecutionResult, run
from tests.docker.conftest import PARAMETERS, DockerStack, StartLambda
from tests.eventually import eventually

pytestmark = pytest.mark.docker

SERVICE = "docker-story"  # a breaker of its own: the invoke tests use the default service
EXECUTION_TIMEOUT = 120.0
METRIC_TIMEOUT = 60.0
CIRCUIT_STATE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class Story:
    def __init__(self, stack: DockerStack) -> None:
        self.stack = stack
        self.sfn = stack.up.client("stepfunctions")
        self.dynamodb = stack.up.client("dynamodb")
        self.outputs = stack.outputs
        self.seconds: list[float] = []

    def order(self) -> ExecutionResult:
        order = {"orderId": f"ord-{uuid.uuid4().hex[:12]}", "amount": 1999, "currency": "USD"}
        order |= {"customerId": "cus_123", "serviceName": SERVICE}
        started = time.monotonic()
        result = run(self.sfn, self.outputs["StateMachineArn"], order, timeout=EXECUTION_TIMEOUT)
        self.seconds.append(time.monotonic() - started)
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        return result

    def breaker(self) -> breaker.Breaker:
        return breaker.read(self.dynamodb, self.outputs["BreakerTableName"], SERVICE)

    def provider_calls(self) -> int:
        return int(self.stack.provider_stats()["calls"])


def _circuit_states(stack: DockerStack) -> set[float]:
    """The CircuitState values published for the story's breaker (by the transitions function, from the stream)."""
    points = (
        stack.up.client("cloudwatch")
        .get_metric_statistics(
            Namespace=stack.outputs.get("MetricsNamespace", "Breakwater"),
            MetricName="CircuitState",
            Dimensions=[{"Name": "ServiceName", "Value": SERVICE}],
            StartTime=time.time() - 900,
            EndTime=time.time() + 60,
            Period=1,
            Statistics=["Maximum", "Minimum"],
        )
        .get("Datapoints", [])
    )
    return {p["Maximum"] for p in points} | {p["Minimum"] for p in points}


def test_trip_fast_fail_probe_and_close_in_the_real_runtime(
    docker_stack: DockerStack, start_lambda: StartLambda
) -> None:
    story = Story(docker_stack)
    threshold, successes = int(PARAMETERS["FailureThreshold"]), int(PARAMETERS["SuccessThreshold"])
    reports_before = start_lambda.reports()

    # given: the provider is down; each failed call is queued, and the threshold-th trips the breaker
    docker_stack.up.provider(mode="down")
    failed = [story.order() for _ in range(threshold)]
    assert [r.output.get("reason") for r in failed] == ["call_failed"] * threshold, [r.output for r in failed]
    assert all(r.called_provider() for r in failed)
    tripped = story.breaker()
    assert tripped.state == BreakerState.OPEN
    assert tripped.open_until_ms is not None

    # when: an order arrives within the cooldown, it is queued at once: no call
    calls = story.provider_calls()
    fast = story.order()
    assert (fast.output["status"], fast.output["reason"]) == ("queued", "circuit_open")
    assert not fast.called_provider()
    assert story.provider_calls() == calls

    # when: the provider recovers and the cooldown passes, the next order is a probe (HALF_OPEN)
    docker_stack.up.provider(mode="healthy")
    wait_s = (tripped.open_until_ms - int(time.time() * 1000)) / 1000 + 0.2
    if wait_s > 0:
        time.sleep(wait_s)  # CooldownSeconds: the only real wait
    probe = story.order()
    assert probe.output["status"] == "charged", probe.output
    assert ("OPEN", "HALF_OPEN") in {(before, after) for _, before, after in probe.transitions()}
    if successes > 1:
        assert story.breaker().state == BreakerState.HALF_OPEN

    # then: SuccessThreshold probe successes close it, and traffic flows
    probes = [probe] + [story.order() for _ in range(successes - 1)]
    assert all(p.output["status"] == "charged" for p in probes)
    closed = story.breaker()
    assert closed.state == BreakerState.CLOSED, closed
    assert story.order().output["status"] == "charged"

    # and every payment call ran in start-lambda's containers (one REPORT line each, at least)
    payment_calls = threshold + successes + 1
    assert start_lambda.reports() - reports_before >= payment_calls

    # and the table's stream reached the transitions function there: it published OPEN, HALF_OPEN and CLOSED
    wanted = {float(CIRCUIT_STATE[s]) for s in (BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED)}
    eventually(
        lambda: _circuit_states(docker_stack),
        f"the CircuitState values {sorted(wanted)} published for {SERVICE}",
        until=lambda seen: wanted <= seen,
        timeout=METRIC_TIMEOUT,
        interval=1,
    )
    print("story executions: " + ", ".join(f"{s:.1f} s" for s in story.seconds))
