"""The benchmark's peers (Powertools' circuit breaker, AWS's Step Functions sample), its newer scenarios, and
the headline against the best peer. Smoke runs are a few seconds of real time each; no full benchmark."""

from __future__ import annotations

from typing import Any

import pytest

from breakwater.bench.aws_sample import TRIP_STATE, AwsSample
from breakwater.bench.floor import Floor
from breakwater.bench.harness import play
from breakwater.bench.metrics import Figures, figures, replay_deferral_s
from breakwater.bench.powertools import Powertools
from breakwater.bench.report import against_peers, headline, latency_ratio
from breakwater.bench.scenarios import Phase, Scenario, by_name, tenant_service
from breakwater.bench.settings import BreakerSettings
from breakwater.bench.targets import evaluate
from breakwater.bench.workflow import Breakwater
from breakwater.pricing import Dollars
from tests.workflow.helpers import ROOMY_CALL_TIMEOUT_S

OUTAGE = Scenario(
    "smoke-outage",
    "a short outage",
    # A burst outage ends only when its orders have, so they meet the outage at any pace of the machine.
    (Phase("healthy", 0.5, rate=8.0), Phase("down", burst=12), Phase("healthy", 1.5, rate=8.0)),
)
SETTINGS = BreakerSettings(
    threshold=2, cooldown_s=1, max_cooldown_s=1, warm_environments=2, call_timeout_s=ROOMY_CALL_TIMEOUT_S
)


def smoke(
    embedded: Any, policy: Any, scenario: Scenario = OUTAGE, settings: BreakerSettings = SETTINGS
) -> tuple[Any, Figures]:
    try:
        run = play(embedded, policy, scenario, settings)
    finally:
        policy.close()
    return run, figures(run, settings)


def test_powertools_trips_on_consecutive_failures_in_one_environment_and_queues_while_open(embedded):
    run, fig = smoke(embedded, Powertools(SETTINGS, 1))

    assert fig.lost == 0
    assert fig.outcomes["charged"] + fig.outcomes["queued"] == run.submitted
    assert fig.queued_by_reason.get("circuit_open", 0) > 0
    assert ("CLOSED", "OPEN") in {(a, b) for _, a, b in run.transitions}
    assert fig.queue_depth == fig.outcomes["queued"]
    assert fig.wasted == fig.wasted_provider_log
    assert fig.per_order["dynamodb_writes"] > 0  # the trip's PutItem, at least
    assert fig.per_order["states_entered"] == 0 and fig.per_order["lambda_invocations"] == 1


def test_powertools_environments_are_processes_of_their_own(embedded):

    policy = Powertools(SETTINGS, 3)
    try:
        policy.prepare(embedded, "bench-k3")
        pool = next(p for p in embedded.runtime._pools.values() if p.spec.arn == policy._function)
        assert pool.limit == 3
        assert embedded.runtime.environments_of(policy._function) == 3  # all K started before a scenario
        pids = {e.process.pid for e in pool.idle}
        assert len(pids) == 3
    finally:
        policy.close()


def test_the_aws_sample_opens_on_one_failure_has_no_half_open_and_costs_four_states_when_healthy(embedded):
    run, fig = smoke(embedded, AwsSample(SETTINGS))

    assert fig.lost == 0
    assert "HALF_OPEN" not in {b for _, _, b in run.transitions}
    failed = [o for o in run.orders if o.call is not None and o.call.failed]
    assert failed and all(TRIP_STATE in o.states for o in failed)  # every failure opens it: threshold 1
    first_trip = min(at for at, a, b in run.transitions if (a, b) == ("CLOSED", "OPEN"))
    assert first_trip >= min(o.call.reported_at for o in failed)
    healthy = [o for o in run.orders if o.outcome == "charged" and "Circuit Open" not in o.states]
    assert healthy and {o.states_entered for o in healthy} == {4}
    assert {o.lambda_invocations for o in healthy} == {2}
    assert {(o.dynamodb_reads, o.dynamodb_strong_reads, o.dynamodb_writes) for o in healthy} == {(1, 1, 0)}


def test_an_order_that_reads_the_samples_open_item_is_queued_without_a_call(embedded):
    # One order after another, so no timing of a busy machine decides which of them sees the item.
    settings = BreakerSettings(
        threshold=2, cooldown_s=30, max_cooldown_s=30, warm_environments=1, call_timeout_s=ROOMY_CALL_TIMEOUT_S
    )
    policy = AwsSample(settings)
    try:
        policy.prepare(embedded, "bench-sample-open")
        embedded.provider.configure(mode="down")
        first = policy._run(OUTAGE.order(1))
        embedded.provider.configure(mode="healthy")
        second = policy._run(OUTAGE.order(2))
    finally:
        embedded.provider.reset()
        policy.close()

    assert first.output == {"status": "queued", "reason": "call_failed"}
    assert TRIP_STATE in first.path
    assert second.output == {"status": "queued", "reason": "circuit_open"}
    assert policy.cooldown_expiry() is not None


def test_tenants_have_their_own_breakers_so_a_failing_tenant_blocks_nobody_else(embedded):
    scenario = Scenario("tenants", "t", (Phase("healthy", 2.0, rate=10.0, failing_tenant=3),), tenants=10)
    orders = [scenario.order(n) for n in range(scenario.orders)]
    assert {o["serviceName"] for o in orders} == {tenant_service(t) for t in range(10)}
    assert scenario.failing_services() == {"tenant-3"}

    run, fig = smoke(embedded, Breakwater(SETTINGS), scenario)

    assert fig.blocked_healthy_tenants == 0
    failed = {o.order_id for o in run.orders if o.reason == "call_failed"}
    assert failed and all(scenario.service_of(i) == "tenant-3" for i in failed)
    assert fig.floor.total >= SETTINGS.threshold


def test_in_a_quiet_recovery_breakwaters_replay_probes_closes_and_charges_queued_orders(embedded):
    quiet = Scenario(
        "quiet",
        "q",
        (Phase("healthy", 0.5, rate=8.0), Phase("down", burst=12), Phase("healthy", 12.0, rate=0.0)),
        replay=True,
    )

    _, fig = smoke(embedded, Breakwater(SETTINGS), quiet)

    # The replay finds a deferred order again within its first deferral (10 s) and probes with it.
    assert fig.recovery_bound_s is not None
    assert 0 <= fig.recovery_bound_s - SETTINGS.cooldown_s - replay_deferral_s() < 5  # plus the probe's own time
    assert fig.recovery_s is not None and fig.recovery_s <= fig.recovery_bound_s
    assert fig.charged_in_the_end > 0
    assert fig.lost == 0


def _fig(policy: str, scenario: str = "outage", wasted: int = 5, standard: float = 1.0, **per: float) -> Figures:
    per_order = {"states_entered": 0.0, "dynamodb_reads": 1.0, "dynamodb_writes": 0.0, "lambda_invocations": 1.0}
    per_order.update(per)
    return Figures(
        policy=policy,
        scenario=scenario,
        outcomes={"charged": 10, "declined": 0, "queued": 0, "invalid": 0, "lost": 0},
        queued_by_reason={},
        submitted=10,
        queue_depth=0,
        provider_calls=10,
        wasted=wasted,
        wasted_provider_log=wasted,
        floor=Floor(wasted, 0, 0, 0),
        recovery_s=1.0,
        recovery_bound_s=2.0,
        per_order=per_order,
        standard=Dollars(standard, 0, 0, 0),
        express=Dollars(standard / 10, 0, 0, 0),
        latency_ms={"p50": 10.0 if policy == "no-breaker" else 20.0, "p99": 40.0},
    )


def test_the_headline_names_the_best_peer_per_column_and_says_why_breakwater_loses():
    figs = [
        _fig("no-breaker", wasted=20),
        _fig("reference", wasted=8, standard=0.5),
        _fig("aws-sample", wasted=3, standard=100.0, states_entered=4.0),
        _fig("breakwater", wasted=5, standard=80.0, states_entered=5.0),
    ]

    lines = "\n".join(against_peers(figs))

    assert "| failing calls, all scenarios | 5 | aws-sample 3 | 1.67x | behind |" in lines
    assert "opens on a single failure" in lines
    assert "| $/M orders, STANDARD | 80.00 | reference 0.50 |" in lines
    assert "pay no Step Functions" in lines
    assert latency_ratio(figs[-1], figs, "p50") == 2.0
    assert "2.00x" in "\n".join(headline(figs))


def test_the_targets_compare_breakwater_with_its_peers():
    figs = [
        _fig("no-breaker", wasted=20),
        _fig("aws-sample", wasted=3, standard=100.0),
        _fig("breakwater", wasted=5, standard=80.0),
        _fig("aws-sample", scenario="healthy", wasted=0, standard=100.0),
        _fig("breakwater", scenario="healthy", wasted=0, standard=80.0),
    ]

    targets = {t.name: t for t in evaluate(figs)}

    peers = targets["Failing calls at most every peer's in every scenario"]
    assert not peers.met and "aws-sample 3" in peers.detail
    cheapest = targets["Cheapest per order of the Step Functions policies, on STANDARD and on EXPRESS"]
    assert cheapest.met
    assert targets["0 writes per healthy order"].met


@pytest.mark.parametrize("name", ["volume", "tenants", "quiet"])
def test_the_new_scenarios_describe_themselves(name):
    scenario = by_name([name])[0]

    assert scenario.describe()
    assert scenario.orders > 0
