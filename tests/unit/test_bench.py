"""The benchmark's pure parts and the reference breaker's flaws (the real-time smoke runs are in tests/bench)."""

from __future__ import annotations

import pytest

from breakwater.bench.floor import Floor, floor_of, replay_exact, wasted
from breakwater.bench.metrics import over_budget, recovery, state_at, usage
from breakwater.bench.records import CallFact, OrderRecord, PolicyRun
from breakwater.bench.scenarios import SCENARIOS, by_name
from breakwater.bench.settings import BreakerSettings
from breakwater.pricing import Usage, billed_ms, per_million_orders, price


def call(
    at: float, failed: bool = True, role: str = "closed", episode: str = "", took: float = 0.01, decided: float = -1
) -> CallFact:
    return CallFact("o", decided if decided >= 0 else at, at, at + took, failed, role, episode)


# -- the floor ---------------------------------------------------------------------------------


def test_floor_of_an_outage_is_the_threshold_plus_one_probe_per_cooldown() -> None:
    calls = [call(i * 0.25) for i in range(5)] + [
        call(3.0, role="probe", episode="1"),
        call(5.0, role="probe", episode="2"),
    ]
    floor = floor_of(calls, trips=[1.02], closes=[], threshold=5, max_probes=1)
    assert floor == Floor(closed_allowance=5, in_flight=0, probes=2, cooldowns=2)
    assert floor.total == 7
    assert floor.ratio(wasted(calls)) == 1.0


def test_failures_beyond_the_threshold_answered_before_the_trip_are_waste() -> None:
    # Seven closed failures, all answered before the trip was recorded (lost counts): two are waste.
    calls = [call(i * 0.25) for i in range(7)]
    floor = floor_of(calls, trips=[1.6], closes=[], threshold=5, max_probes=1)
    assert (floor.closed_allowance, floor.in_flight, floor.total) == (5, 0, 5)
    assert floor.ratio(wasted(calls)) == pytest.approx(7 / 5)


def test_a_call_admitted_before_the_trip_and_answered_after_it_is_in_flight() -> None:
    calls = [call(i * 0.1) for i in range(5)] + [call(0.42, took=0.5, decided=0.41)]
    floor = floor_of(calls, trips=[0.45], closes=[], threshold=5, max_probes=1)
    assert (floor.closed_allowance, floor.in_flight, floor.total) == (5, 1, 6)


def test_a_call_in_flight_when_the_threshold_was_reached_is_allowed_even_if_a_later_report_tripped() -> None:
    # Six failures reported before the trip was written (the fifth's count write was slow): the sixth was
    # admitted long before the fifth came back, so no breaker could have stopped it.
    calls = [call(i * 0.25, took=0.8) for i in range(6)]
    floor = floor_of(calls, trips=[2.07], closes=[], threshold=5, max_probes=1)
    assert (floor.closed_allowance, floor.in_flight) == (5, 1)


def test_calls_admitted_while_a_late_trip_was_pending_are_waste() -> None:
    # Threshold reached at 1.01, but lost counts delayed the trip to 2.0: calls admitted at 1.25..1.75 are waste.
    calls = [call(i * 0.25) for i in range(8)]
    floor = floor_of(calls, trips=[1.765], closes=[], threshold=5, max_probes=1)
    assert (floor.closed_allowance, floor.in_flight, floor.total) == (5, 0, 5)


def test_only_the_probe_limit_of_a_half_open_episode_is_allowed() -> None:
    probes = [call(4.0 + i * 0.01, role="probe", episode="7") for i in range(50)]
    floor = floor_of([call(i * 0.1) for i in range(5)] + probes, trips=[0.5], closes=[], threshold=5, max_probes=1)
    assert (floor.probes, floor.cooldowns, floor.total) == (1, 1, 6)


def test_flaky_failures_that_never_reach_the_threshold_are_all_allowed() -> None:
    pattern = [True, True, False, True, False, True, True, True, False, True]
    calls = [call(i * 0.25, failed=f) for i, f in enumerate(pattern)]
    floor = floor_of(calls, trips=[], closes=[], threshold=5, max_probes=1)
    assert floor.total == wasted(calls) == 7


def test_the_count_restarts_when_the_breaker_closes() -> None:
    first = [call(i * 0.1) for i in range(5)]
    after_close = [call(10 + i * 0.1) for i in range(5)]
    floor = floor_of(first + after_close, trips=[0.5, 10.5], closes=[9.0], threshold=5, max_probes=1)
    assert floor.closed_allowance == 10


def test_floor_ratio_without_anything_to_waste() -> None:
    assert Floor(0, 0, 0, 0).ratio(0) is None
    assert Floor(0, 0, 0, 0).ratio(3) == float("inf")


def test_replaying_an_exact_breaker_over_calls_without_a_breaker() -> None:
    # A call every 0.25 s, all failing at once: 5 trip, then one probe per 2 s cooldown, the rest rejected.
    calls = [CallFact(f"o{i}", i * 0.25, i * 0.25, i * 0.25 + 0.001, True, "unguarded") for i in range(40)]
    replayed, trips, closes = replay_exact(calls, threshold=5, cooldown_s=2.0, max_probes=1)
    roles = [c.role for c in replayed]
    assert roles[:5] == ["closed"] * 5
    assert trips == [pytest.approx(1.001)]
    assert closes == []
    probes = [c for c in replayed if c.role == "probe"]
    assert [c.started_at for c in probes] == [3.25, 5.5, 7.75]
    assert roles.count("rejected") == 40 - 5 - 3
    assert floor_of(replayed, trips, closes, 5, 1).total == 8


def test_the_replayed_breaker_closes_on_a_successful_probe() -> None:
    calls = [CallFact(f"o{i}", i, i, i + 0.001, i < 5, "unguarded") for i in range(10)]
    # The fifth failure is reported at 4.001: open until 6.001, so the call at 6 is still refused.
    replayed, trips, closes = replay_exact(calls, threshold=5, cooldown_s=2.0, max_probes=1)
    assert [c.role for c in replayed] == ["closed"] * 5 + ["rejected", "rejected", "probe", "closed", "closed"]
    assert (trips, closes) == ([pytest.approx(4.001)], [pytest.approx(7.001)])


# -- pricing -----------------------------------------------------------------------------------


def test_dollars_per_million_orders_for_the_healthy_path() -> None:
    # 3 states, 1 eventually consistent read, 1 Lambda of 100 ms at 256 MB, 200 ms of Express time.
    per_order = Usage(
        orders=1,
        states_entered=3,
        workflow_executions=1,
        workflow_ms=200,
        dynamodb_reads=1,
        lambda_invocations=1,
        lambda_ms=100,
    )
    standard = per_million_orders(per_order, "STANDARD")
    assert standard.workflow == pytest.approx(75.0)  # 3 x $0.025 per 1,000
    assert standard.dynamodb == pytest.approx(0.0625)  # 0.5 RRU x $0.125 per million
    assert standard.lambda_ == pytest.approx(0.20 + 0.1 * 0.25 * 0.0000133334 * 1e6)
    assert standard.sqs == 0
    express = per_million_orders(per_order, "EXPRESS")
    assert express.workflow == pytest.approx(1.00 + 0.2 * (64 / 1024) * 0.00001667 * 1e6)
    assert express.total == pytest.approx(express.workflow + standard.dynamodb + standard.lambda_)


def test_dollars_scale_with_orders_and_count_writes_and_messages() -> None:
    usage_ = Usage(orders=4, dynamodb_writes=2, sqs_messages=4)
    dollars = per_million_orders(usage_, "STANDARD")
    assert dollars.dynamodb == pytest.approx(0.5 * 0.625)
    assert dollars.sqs == pytest.approx(0.40)
    assert dollars.workflow == 0


def test_billing_steps_round_up() -> None:
    assert billed_ms(101, 100) == 200
    assert billed_ms(3, 100) == 100
    assert billed_ms(0.2, 1) == 1
    assert billed_ms(12.01, 1) == 13
    assert price("sfn_standard_transition") == pytest.approx(0.000025)


def test_usage_rounds_each_invocation_up_on_its_own() -> None:
    orders = [
        OrderRecord("a", 0, 1, "charged", states_entered=3, lambda_invocations=1, lambda_ms=10.2, workflow_ms=150),
        OrderRecord("b", 0, 1, "queued", states_entered=3, sqs_messages=1, workflow_ms=40),
    ]
    used = usage(orders)
    assert (used.lambda_ms, used.workflow_ms, used.workflow_executions) == (11, 300, 2)


def test_unknown_workflow_type_and_no_orders_are_refused() -> None:
    with pytest.raises(ValueError, match="workflow_type"):
        per_million_orders(Usage(orders=1), "FAST")
    with pytest.raises(ValueError, match="orders"):
        per_million_orders(Usage(orders=0), "STANDARD")


def test_over_budget_judges_one_execution_against_its_row() -> None:
    race_loser = OrderRecord("a", 0, 1, "queued", label="closed, failure below threshold", states_entered=7)
    race_loser.dynamodb_reads, race_loser.dynamodb_writes, race_loser.lambda_invocations = 1, 2, 1
    assert over_budget(race_loser)
    assert not over_budget(OrderRecord("b", 0, 1, "queued", label="half-open, probe fails", states_entered=9))


# -- recovery and state ------------------------------------------------------------------------


def test_recovery_is_measured_from_the_provider_recovering_to_the_close() -> None:
    run = PolicyRun("reference", "outage", started_at=0.0, recovered_at=10.0, recovery_gap_s=0.25)
    run.transitions = [(3.0, "CLOSED", "OPEN"), (9.0, "OPEN", "HALF_OPEN"), (9.1, "HALF_OPEN", "OPEN")]
    run.transitions += [(11.2, "OPEN", "HALF_OPEN"), (11.3, "HALF_OPEN", "CLOSED")]
    probe = OrderRecord("p", 11.15, 11.35, "charged", call=CallFact("p", 11.2, 11.2, 11.25, False, "probe", "2"))
    run.orders = [probe]
    seconds, bound = recovery(run, BreakerSettings(cooldown_s=2))
    assert seconds == pytest.approx(1.3)
    assert bound == pytest.approx(2 + 0.25 + 0.2)
    assert state_at(run.transitions, 10.0) == "OPEN"
    assert state_at(run.transitions, 0.5) == "CLOSED"


# -- scenarios -------------------------------------------------------------------------------------


def test_scenarios_are_scripted_and_the_same_for_every_policy() -> None:
    assert [s.name for s in SCENARIOS] == ["healthy", "outage", "flaky", "slow", "burst", "volume", "tenants", "quiet"]
    healthy = by_name(["healthy"])[0]
    assert healthy.order(8)["customerId"] == "cus_card_declined"
    assert healthy.order(12)["amount"] == 0
    assert healthy.order(3) == healthy.order(3)
    assert by_name(["burst"])[0].orders == 4 + 8 + 50 + 12
    assert by_name(["volume"])[0].orders == 360
    with pytest.raises(ValueError, match="unknown scenario"):
        by_name(["nope"])
