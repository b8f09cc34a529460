"""One test per line of "Behaviour" in DESIGN.md, on the real ASL and template."""

from __future__ import annotations

import pytest

from breakwater.local.stack import EmbeddedStack
from tests.workflow.helpers import breaker, order, put_breaker, queued, succeeded_task

CALL = "lambda:invoke"
WRITE = "dynamodb:updateItem"


@pytest.fixture
def stack(embedded: EmbeddedStack, provider):  # type: ignore[no-untyped-def]
    return embedded.deploy(FailureThreshold=3, CooldownSeconds=30, MaxCooldownSeconds=100, SuccessThreshold=2)


def trip(embedded: EmbeddedStack, stack, provider, failures: int = 3) -> None:  # type: ignore[no-untyped-def]
    provider.configure(mode="down")
    for _ in range(failures):
        embedded.run(stack, order())
    assert breaker(embedded, stack)["state"] == "OPEN"


# -- CLOSED --------------------------------------------------------------------


def test_closed_success_without_prior_failures_writes_nothing(embedded, stack, provider, clock):
    result = embedded.run(stack, order(orderId="ord-healthy"))

    assert result.output["status"] == "charged"
    assert result.output["breaker"] == "CLOSED"
    assert result.output["chargeId"].startswith("ch_")
    assert result.scheduled()[WRITE] == 0
    assert breaker(embedded, stack) == {}
    assert "ord-healthy" in {c.order_id for c in provider.calls}


def test_closed_success_after_failures_resets_the_count_with_one_write(embedded, stack, provider, clock):
    provider.configure(mode="down")
    embedded.run(stack, order())
    assert breaker(embedded, stack)["failureCount"] == 1
    provider.configure(mode="healthy")

    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert result.scheduled()[WRITE] == 1
    assert breaker(embedded, stack)["failureCount"] == 0


def test_closed_failure_adds_one_failure_and_queues_the_order(embedded, stack, provider, clock):
    provider.configure(mode="down")
    first = embedded.run(stack, order(orderId="ord-fail-1"))
    second = embedded.run(stack, order())

    assert first.output == {
        "status": "queued",
        "orderId": "ord-fail-1",
        "serviceName": "payment-api",
        "reason": "call_failed",
        "messageId": first.output["messageId"],
    }
    assert second.scheduled()[WRITE] == 1
    record = breaker(embedded, stack)
    assert record["state"] == "CLOSED"
    assert record["failureCount"] == 2
    bodies = queued(embedded, stack)
    assert [b["order"]["orderId"] for b in bodies][:1] == ["ord-fail-1"]
    assert bodies[0]["reason"] == "call_failed"
    assert bodies[0]["lastError"] == "PaymentServiceUnavailable"


def test_failure_after_the_window_expired_starts_a_new_window(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=3, FailureWindowSeconds=60)
    provider.configure(mode="down")
    embedded.run(stack, order())
    embedded.run(stack, order())
    assert breaker(embedded, stack)["failureCount"] == 2

    clock.advance(61)
    embedded.run(stack, order())

    record = breaker(embedded, stack)
    assert record["state"] == "CLOSED"
    assert record["failureCount"] == 1
    assert record["windowStartMs"] >= clock.now_ms() - 5_000


def test_zero_window_counts_consecutive_failures_however_far_apart(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=3, FailureWindowSeconds=0)
    provider.configure(mode="down")
    for _ in range(3):
        embedded.run(stack, order())
        clock.advance(3600)

    assert breaker(embedded, stack)["state"] == "OPEN"


def test_reaching_the_threshold_trips_the_breaker_once(embedded, stack, provider, clock):
    provider.configure(mode="down")
    results = [embedded.run(stack, order()) for _ in range(3)]

    assert [succeeded_task(r, "Open the circuit") for r in results] == [False, False, True]
    record = breaker(embedded, stack)
    assert record["state"] == "OPEN"
    assert record["tripCount"] == 1
    assert record["openUntilMs"] - record["lastTransitionMs"] == pytest.approx(30_000, abs=50)
    assert record["version"] == 1
    assert all(r.output["reason"] == "call_failed" for r in results)


# -- OPEN ----------------------------------------------------------------------


def test_open_before_cooldown_queues_without_call_or_write(embedded, stack, provider, clock):
    trip(embedded, stack, provider)
    calls_before = len(provider.calls)
    clock.advance(29)

    result = embedded.run(stack, order())

    assert result.output["status"] == "queued"
    assert result.output["reason"] == "circuit_open"
    assert result.scheduled()[CALL] == 0
    assert result.scheduled()[WRITE] == 0
    assert len(provider.calls) == calls_before


def test_open_after_cooldown_moves_to_half_open_and_calls_as_probe(embedded, stack, provider, clock):
    trip(embedded, stack, provider)
    provider.configure(mode="healthy")
    clock.advance(31)

    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert result.output["breaker"] == "HALF_OPEN"
    assert "Move circuit to half-open" in result.path
    assert "Call provider as probe" in result.path
    record = breaker(embedded, stack)
    assert record["state"] == "HALF_OPEN"
    assert record["halfOpenSuccesses"] == 1
    assert record["probesInFlight"] == 0


# -- HALF_OPEN -----------------------------------------------------------------


def test_half_open_without_a_free_slot_queues_probe_busy(embedded, stack, provider, clock):
    now = clock.now_ms()
    put_breaker(
        embedded,
        stack,
        state="HALF_OPEN",
        probesInFlight=1,
        probeLeaseUntilMs=now + 10_000,
        halfOpenSuccesses=0,
        tripCount=1,
        version=2,
    )

    result = embedded.run(stack, order())

    assert result.output["reason"] == "probe_busy"
    assert result.scheduled()[CALL] == 0
    assert provider.calls == []


def test_probe_slot_of_a_crashed_holder_frees_itself_after_the_lease(embedded, stack, provider, clock):
    now = clock.now_ms()
    put_breaker(
        embedded,
        stack,
        state="HALF_OPEN",
        probesInFlight=1,
        probeLeaseUntilMs=now + 15_000,
        halfOpenSuccesses=0,
        tripCount=1,
        version=2,
    )
    assert embedded.run(stack, order()).output["reason"] == "probe_busy"

    clock.advance(16)
    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert "Take a probe slot" in result.path
    assert breaker(embedded, stack)["probesInFlight"] == 0


def test_probe_successes_at_threshold_close_the_breaker_and_reset_counts(embedded, stack, provider, clock):
    trip(embedded, stack, provider)
    provider.configure(mode="healthy")
    clock.advance(31)

    first = embedded.run(stack, order())
    assert breaker(embedded, stack)["state"] == "HALF_OPEN"
    second = embedded.run(stack, order())

    assert first.output["status"] == second.output["status"] == "charged"
    assert succeeded_task(second, "Close the circuit")
    record = breaker(embedded, stack)
    assert record["state"] == "CLOSED"
    assert (record["failureCount"], record["tripCount"], record["halfOpenSuccesses"], record["probesInFlight"]) == (
        0,
        0,
        0,
        0,
    )
    assert "openUntilMs" not in record
    assert record["version"] == 3  # CLOSED->OPEN, OPEN->HALF_OPEN, HALF_OPEN->CLOSED
    third = embedded.run(stack, order())
    assert third.path[-1] == "Call payment provider"


def test_failed_probe_reopens_with_a_cooldown_that_doubles_up_to_the_maximum(embedded, stack, provider, clock):
    trip(embedded, stack, provider)
    cooldowns = []
    for _ in range(4):
        record = breaker(embedded, stack)
        clock.advance((record["openUntilMs"] - clock.now_ms()) / 1000 + 1)
        result = embedded.run(stack, order())
        assert result.output["reason"] == "call_failed"
        assert succeeded_task(result, "Reopen the circuit")
        record = breaker(embedded, stack)
        cooldowns.append(round((record["openUntilMs"] - record["lastTransitionMs"]) / 1000))

    assert cooldowns == [60, 100, 100, 100]  # 30 * 2^(trips-1), capped at MaxCooldownSeconds=100
    assert breaker(embedded, stack)["tripCount"] == 5


def test_declined_probe_frees_its_slot_and_counts_nothing(embedded, stack, provider, clock):
    trip(embedded, stack, provider)
    provider.configure(mode="healthy")
    clock.advance(31)

    result = embedded.run(stack, order(customerId="cus_card_declined"))

    assert result.output == {
        "status": "declined",
        "orderId": result.output["orderId"],
        "serviceName": "payment-api",
        "reason": "card_declined",
    }
    record = breaker(embedded, stack)
    assert (record["state"], record["probesInFlight"], record["halfOpenSuccesses"]) == ("HALF_OPEN", 0, 0)


# -- operator states -------------------------------------------------------------


def test_forced_open_always_queues_and_never_calls(embedded, stack, provider, clock):
    put_breaker(embedded, stack, state="FORCED_OPEN")

    results = [embedded.run(stack, order()) for _ in range(2)]

    assert {r.output["reason"] for r in results} == {"forced_open"}
    assert provider.calls == []
    assert breaker(embedded, stack) == {"serviceName": "payment-api", "state": "FORCED_OPEN"}


def test_disabled_always_calls_and_records_nothing(embedded, stack, provider, clock):
    put_breaker(embedded, stack, state="DISABLED")
    provider.configure(mode="down")

    failures = [embedded.run(stack, order()) for _ in range(4)]
    provider.configure(mode="healthy")
    success = embedded.run(stack, order())

    assert [r.output["reason"] for r in failures] == ["call_failed"] * 4
    assert success.output["status"] == "charged"
    assert success.output["breaker"] == "DISABLED"
    assert len(provider.calls) == 5
    assert all(r.scheduled()[WRITE] == 0 for r in [*failures, success])
    assert breaker(embedded, stack) == {"serviceName": "payment-api", "state": "DISABLED"}


# -- neither failure nor success -----------------------------------------------------


def test_declined_order_is_neither_failure_nor_success(embedded, stack, provider, clock):
    provider.configure(mode="down")
    embedded.run(stack, order())
    provider.configure(mode="healthy")

    result = embedded.run(stack, order(customerId="cus_card_declined"))

    assert result.output["status"] == "declined"
    assert result.output["reason"] == "card_declined"
    assert result.scheduled()[WRITE] == 0
    assert breaker(embedded, stack)["failureCount"] == 1


def test_order_the_provider_rejects_as_malformed_fails_invalid_order_without_counting(embedded, stack, provider, clock):
    provider.configure(mode="down")
    embedded.run(stack, order())
    provider.configure(mode="healthy")

    result = embedded.run(stack, order(customerId="cus_malformed"))

    assert result.status == "FAILED"
    assert result.error == "InvalidOrder"
    assert result.cause.startswith("provider rejected the order: ")
    assert result.scheduled()[WRITE] == 0
    assert breaker(embedded, stack)["failureCount"] == 1


# -- fail open -------------------------------------------------------------------


def test_unreadable_breaker_table_fails_open_and_records_nothing(embedded, stack, provider, clock):
    embedded.client("dynamodb").delete_table(TableName=stack.table_name)

    result = embedded.run(stack, order())

    assert result.output["status"] == "charged"
    assert result.output["breaker"] == "UNKNOWN"
    assert result.output["bookkeepingError"] == "DynamoDB.ResourceNotFoundException"
    assert result.scheduled()[WRITE] == 0
    assert len(provider.calls) == 1


def test_slow_call_past_the_call_timeout_counts_as_a_failure(embedded, provider, clock):
    stack = embedded.deploy(CallTimeoutSeconds=1, FailureThreshold=2)
    provider.configure(mode="slow", delay_seconds=2)

    result = embedded.run(stack, order())

    assert result.output["reason"] == "call_failed"
    assert breaker(embedded, stack)["failureCount"] == 1
    body = queued(embedded, stack)[0]
    assert body["lastError"] in {"States.Timeout", "PaymentServiceUnavailable", "Sandbox.Timedout"}


def test_each_service_name_has_its_own_breaker(embedded, stack, provider, clock):
    provider.configure(mode="down")
    for _ in range(3):
        embedded.run(stack, order(serviceName="acquirer-b"))
    provider.configure(mode="healthy")

    other = embedded.run(stack, order())

    assert breaker(embedded, stack, "acquirer-b")["state"] == "OPEN"
    assert other.output["status"] == "charged"
    assert other.output["serviceName"] == "payment-api"
    assert breaker(embedded, stack) == {}
