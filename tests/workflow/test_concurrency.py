"""Dozens of simultaneous executions: every transition happens exactly once."""

from __future__ import annotations

from tests.workflow.helpers import breaker, order, put_breaker, run_many, succeeded_task

CONCURRENT = 40


def test_concurrent_failures_trip_the_breaker_exactly_once_with_an_exact_count(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=5, FailureWindowSeconds=60)
    provider.configure(mode="down")

    results = run_many(embedded, stack, [order() for _ in range(CONCURRENT)])

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
    assert len(provider.calls) == calls


def test_concurrent_orders_at_cooldown_expiry_admit_exactly_the_probe_limit(embedded, provider, clock):
    stack = embedded.deploy(HalfOpenMaxProbes=3, SuccessThreshold=5, ProbeLeaseSeconds=60)
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() - 1, tripCount=1, version=1, failureCount=5)
    # Healthy but slow, so every admitted probe is still in flight while the rest arrive.
    provider.configure(mode="slow", delay_seconds=3)

    results = run_many(embedded, stack, [order() for _ in range(CONCURRENT)])

    probes = [r for r in results if r.called_provider()]
    first_answer = min(c.answered_at for c in provider.calls)
    admitted_before_any_answer = [c for c in provider.calls if c.at < first_answer]
    assert len(admitted_before_any_answer) == 3
    assert provider.max_in_flight() == 3
    assert {r.output["status"] for r in probes} == {"charged"}
    busy = [r for r in results if not r.called_provider()]
    assert {r.output["reason"] for r in busy} == {"probe_busy"}
    assert len(probes) + len(busy) == CONCURRENT
    assert sum(succeeded_task(r, "Move circuit to half-open") for r in results) == 1
    record = breaker(embedded, stack)
    assert record["probesInFlight"] == 0
    if len(probes) >= 5:  # SuccessThreshold reached: closed, counts reset
        assert (record["state"], record["halfOpenSuccesses"]) == ("CLOSED", 0)
    else:
        assert (record["state"], record["halfOpenSuccesses"]) == ("HALF_OPEN", len(probes))
