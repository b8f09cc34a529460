"""Dozens of simultaneous executions: every transition happens exactly once."""

from __future__ import annotations

from breakwater.executions import start, wait
from tests.eventually import eventually
from tests.workflow.helpers import breaker, order, put_breaker, run_many, succeeded_task

CONCURRENT = 40


def test_concurrent_failures_trip_the_breaker_exactly_once_with_an_exact_count(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=5, FailureWindowSeconds=60)
    provider.configure(mode="down")

    orders = [order() for _ in range(CONCURRENT)]
    ours = {o["orderId"] for o in orders}

    results = run_many(embedded, stack, orders)

    assert all(r.status == "SUCCEEDED" for r in results)
    assert {r.output["status"] for r in results} == {"queued"}
    trips = [r for r in results if succeeded_task(r, "Open the circuit")]
    assert len(trips) == 1
    counted = sum(
        succeeded_task(r, "Count the failure") or succeeded_task(r, "Count the failure in the current window")
        for r in results
    )
    record = breaker(embedded, stack)
    assert record["state"] == "OPEN"
    assert record["version"] == 1
    assert record["failureCount"] == counted
    assert counted >= 5
    calls = sum(r.cost().lambda_invocations for r in results)
    assert len([c for c in provider.calls if c.order_id in ours]) == calls


def test_concurrent_orders_at_cooldown_expiry_admit_exactly_the_probe_limit(embedded, provider, clock):
    # Probes wait on a held provider until the other 37 orders are decided; on a slow machine that takes longer
    # than the default 10 s call timeout, so the timeout (and the lease above it) are set far beyond the hold.
    stack = embedded.deploy(HalfOpenMaxProbes=3, SuccessThreshold=5, CallTimeoutSeconds=180, ProbeLeaseSeconds=600)
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() - 1, tripCount=1, version=1, failureCount=5)
    sfn = embedded.client("stepfunctions")

    # The provider holds every call, so admitted probes stay in flight until all other orders are decided.
    orders = [order() for _ in range(CONCURRENT)]
    ours = {o["orderId"] for o in orders}
    with provider.holding(limit_seconds=150):
        arns = [start(sfn, stack.state_machine_arn, o) for o in orders]
        eventually(
            lambda: sum(status(sfn, arn) != "RUNNING" for arn in arns),
            "the orders without a probe slot to finish",
            until=lambda finished: finished >= CONCURRENT - 3,
            timeout=120,
        )
        # The admitted probes reach the provider once their function environments have started.
        eventually(
            lambda: len([o for o in provider.in_flight_orders() if o in ours]),
            "the admitted probes to reach the provider",
            until=lambda calls: calls >= 3,
            timeout=120,
        )
        in_flight_while_held = len([o for o in provider.in_flight_orders() if o in ours])
    results = [wait(sfn, arn, 60) for arn in arns]

    probes = [r for r in results if r.called_provider()]
    busy = [r for r in results if not r.called_provider()]
    assert in_flight_while_held == 3
    assert len(probes) == 3
    assert len([c for c in provider.calls if c.order_id in ours]) == 3
    assert {r.output["status"] for r in probes} == {"charged"}
    assert {r.output["reason"] for r in busy} == {"probe_busy"}
    assert sum(succeeded_task(r, "Move circuit to half-open") for r in results) == 1
    record = breaker(embedded, stack)
    assert (record["state"], record["probesInFlight"], record["halfOpenSuccesses"]) == ("HALF_OPEN", 0, 3)


def status(sfn, arn: str) -> str:
    return sfn.describe_execution(executionArn=arn)["status"]
