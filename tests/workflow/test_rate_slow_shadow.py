"""Issue 13, one test per sentence of its contract (DESIGN.md, "Behaviour"): the failure-rate rule over a
minimum of calls, slow-call counting, and shadow mode, on the real ASL and template."""

from __future__ import annotations

from typing import Any

import pytest

from breakwater.aws import Stack
from breakwater.breaker import BreakerChanged, BreakerMode, set_mode
from breakwater.errors import TemplateError
from breakwater.executions import ExecutionResult
from breakwater.local.stack import EmbeddedStack
from breakwater.template import load_template, parameters, resolve_parameters
from tests.workflow.helpers import breaker, order, put_breaker, run_many, succeeded_task

WRITE = "dynamodb:updateItem"
CALL = "lambda:invoke"
SLOW = 1  # SlowCallSeconds in these tests; the slow provider answers after SLOW_DELAY
SLOW_DELAY = 1.6
# A rate-only breaker: trips at 50 % failures once 4 calls are counted (the count rule off).
RATE = {"FailureThreshold": 0, "FailureRateThreshold": 50, "MinimumCalls": 4}
URL = "http://127.0.0.1:9"  # PaymentApiUrl has no default


def run(embedded: EmbeddedStack, stack: Stack, provider: Any, mode: str, **fields: Any) -> ExecutionResult:
    provider.configure(mode=mode)
    return embedded.run(stack, order(**fields))


def record(embedded: EmbeddedStack, stack: Stack) -> tuple[Any, ...]:
    r = breaker(embedded, stack)
    return r.get("state"), r.get("failureCount"), r.get("callCount")


# -- parameters --------------------------------------------------------------------------------------------


def test_new_parameters_have_their_documented_defaults_and_bounds():
    specs = parameters()

    assert (specs["FailureRateThreshold"].default, specs["FailureRateThreshold"].min_value) == ("0", 0)
    assert specs["FailureRateThreshold"].max_value == 100
    assert (specs["MinimumCalls"].default, specs["MinimumCalls"].min_value) == ("20", 1)
    assert (specs["SlowCallSeconds"].default, specs["SlowCallSeconds"].min_value) == ("0", 0)
    assert (specs["BreakerMode"].default, specs["BreakerMode"].allowed_values) == ("ENFORCE", ("ENFORCE", "SHADOW"))
    assert specs["FailureThreshold"].min_value == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"FailureRateThreshold": 101}, "above the maximum 100"),
        ({"MinimumCalls": 0}, "below the minimum 1"),
        ({"SlowCallSeconds": 10, "CallTimeoutSeconds": 10}, "SlowCallSeconds: 10 must be below CallTimeoutSeconds"),
        ({"SlowCallSeconds": 12}, "must be below CallTimeoutSeconds"),
        ({"BreakerMode": "LOG"}, "not one of ENFORCE, SHADOW"),
        ({"FailureThreshold": 0}, "FailureThreshold: 0 turns the count rule off"),
        ({"FailureThreshold": 0, "FailureRateThreshold": 0}, "needs the rate rule on"),
    ],
)
def test_a_local_deploy_rejects_a_bad_parameter_combination_with_a_clear_message(overrides, message):
    with pytest.raises(TemplateError, match=message):
        resolve_parameters({"PaymentApiUrl": URL, **overrides})


def test_the_count_rule_may_be_off_while_the_rate_rule_is_on():
    values = resolve_parameters(
        {"PaymentApiUrl": URL, "FailureThreshold": 0, "FailureRateThreshold": 1, "SlowCallSeconds": 9.5}
    )

    assert (values["FailureThreshold"], values["FailureRateThreshold"], values["SlowCallSeconds"]) == ("0", "1", "9.5")


def test_cloudformation_rejects_the_count_rule_off_without_the_rate_rule():
    # moto does not evaluate Rules; this pins what CloudFormation is told (the local check is tested above).
    rule = load_template()["Rules"]["CountRuleOffNeedsRateRule"]

    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "FailureThreshold"}, 0]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "FailureRateThreshold"}, 0]}]}
    assert "FailureRateThreshold" in assertion["AssertDescription"]


def test_embedded_deploy_refuses_the_count_rule_off_alone(embedded):
    with pytest.raises(TemplateError, match="needs the rate rule on"):
        embedded.deploy(FailureThreshold=0)


def test_rate_rule_off_by_default_keeps_todays_behaviour(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=3)
    run(embedded, stack, provider, "down")

    result = run(embedded, stack, provider, "healthy")

    assert "Clear the failure count" in result.path
    assert breaker(embedded, stack)["failureCount"] == 0
    assert "callCount" not in breaker(embedded, stack)


# -- rate rule ---------------------------------------------------------------------------------------------


def test_rate_rule_a_call_before_any_failure_writes_nothing(embedded, provider, clock):
    stack = embedded.deploy(**RATE)

    result = run(embedded, stack, provider, "healthy")

    assert result.output["status"] == "charged"
    assert result.scheduled()[WRITE] == 0
    assert breaker(embedded, stack) == {}


def test_rate_rule_the_window_opens_at_its_first_failure(embedded, provider, clock):
    stack = embedded.deploy(**RATE)
    before = clock.now_ms()

    run(embedded, stack, provider, "down")

    r = breaker(embedded, stack)
    assert (r["failureCount"], r["callCount"]) == (1, 1)
    assert before <= r["windowStartMs"] <= clock.now_ms()


def test_rate_rule_every_call_in_the_window_is_counted_and_a_success_does_not_clear(embedded, provider, clock):
    stack = embedded.deploy(**RATE)
    run(embedded, stack, provider, "down")

    success = run(embedded, stack, provider, "healthy")
    run(embedded, stack, provider, "healthy")

    assert success.output["status"] == "charged"
    assert success.scheduled()[WRITE] == 1
    assert record(embedded, stack) == ("CLOSED", 1, 3)


def test_rate_rule_a_call_after_the_window_expired_writes_nothing(embedded, provider, clock):
    stack = embedded.deploy(**RATE, FailureWindowSeconds=10)
    run(embedded, stack, provider, "down")
    before = breaker(embedded, stack)

    clock.advance(11)
    result = run(embedded, stack, provider, "healthy")

    assert result.output["status"] == "charged"
    assert result.scheduled()[WRITE] == 0
    assert breaker(embedded, stack) == before


def test_rate_rule_a_failure_after_the_window_expired_starts_a_new_count(embedded, provider, clock):
    stack = embedded.deploy(**RATE, FailureWindowSeconds=10)
    run(embedded, stack, provider, "down")
    run(embedded, stack, provider, "healthy")

    clock.advance(11)
    run(embedded, stack, provider, "down")

    assert record(embedded, stack) == ("CLOSED", 1, 1)


def test_rate_rule_trips_when_calls_reach_the_minimum_and_the_rate_the_threshold(embedded, provider, clock):
    stack = embedded.deploy(**RATE)
    for mode in ("down", "healthy", "down"):
        run(embedded, stack, provider, mode)
    assert record(embedded, stack) == ("CLOSED", 2, 3)  # 67 % but only 3 calls

    fourth = run(embedded, stack, provider, "healthy")  # 2 of 4: exactly 50 %

    assert fourth.output["status"] == "charged"
    assert succeeded_task(fourth, "Open the circuit after a charged call")
    assert record(embedded, stack) == ("OPEN", 2, 4)


def test_rate_rule_does_not_trip_below_the_threshold(embedded, provider, clock):
    stack = embedded.deploy(**RATE)
    for mode in ("down", "healthy", "healthy", "healthy", "healthy"):
        run(embedded, stack, provider, mode)

    assert record(embedded, stack) == ("CLOSED", 1, 5)


def test_rate_rule_does_not_trip_below_the_minimum_calls(embedded, provider, clock):
    stack = embedded.deploy(**RATE)
    for _ in range(3):
        run(embedded, stack, provider, "down")

    assert record(embedded, stack) == ("CLOSED", 3, 3)


def test_the_count_rule_still_trips_while_the_rate_rule_is_on(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=2, FailureRateThreshold=90, MinimumCalls=50)
    run(embedded, stack, provider, "down")

    result = run(embedded, stack, provider, "down")

    assert succeeded_task(result, "Open the circuit")
    assert record(embedded, stack) == ("OPEN", 2, 2)


def test_the_rate_rule_trips_where_the_count_rule_at_the_same_traffic_would_not(embedded, provider, clock):
    rate = embedded.deploy(FailureThreshold=5, FailureRateThreshold=50, MinimumCalls=4)
    count = embedded.deploy(FailureThreshold=5)
    for mode in ("down", "healthy", "down", "healthy"):
        for stack in (rate, count):
            run(embedded, stack, provider, mode)

    assert breaker(embedded, rate)["state"] == "OPEN"
    assert breaker(embedded, count)["state"] == "CLOSED"


def test_declined_and_invalid_orders_count_in_neither_number(embedded, provider, clock):
    stack = embedded.deploy(**RATE)
    run(embedded, stack, provider, "down")

    declined = run(embedded, stack, provider, "healthy", customerId="cus_card_declined")
    provider.configure(mode="healthy")
    invalid = embedded.run(stack, order(amount=0))

    assert declined.output["status"] == "declined"
    assert invalid.error == "InvalidOrder"
    assert declined.scheduled()[WRITE] == invalid.scheduled()[WRITE] == 0
    assert record(embedded, stack) == ("CLOSED", 1, 1)


CONCURRENT = 40


def test_concurrent_failures_trip_by_the_rate_rule_exactly_once_with_exact_counts(embedded, provider, clock):
    # given a window of 10 calls with 1 failure; 20 calls at >= 50 % failures trip: the 10th failure more
    stack = embedded.deploy(FailureThreshold=0, FailureRateThreshold=50, MinimumCalls=20)
    put_breaker(embedded, stack, state="CLOSED", failureCount=1, callCount=10, windowStartMs=clock.now_ms())
    provider.configure(mode="down")

    results = run_many(embedded, stack, [order() for _ in range(CONCURRENT)])

    assert {r.output["status"] for r in results} == {"queued"}
    trips = [r for r in results if succeeded_task(r, "Open the circuit")]
    assert len(trips) == 1
    counted = sum(
        succeeded_task(r, "Count the failure") or succeeded_task(r, "Count the failure in the current window")
        for r in results
    )
    r = breaker(embedded, stack)
    assert (r["state"], r["version"], r["tripCount"]) == ("OPEN", 1, 1)
    assert (r["failureCount"], r["callCount"]) == (1 + counted, 10 + counted)
    assert counted >= 10
    assert sum(x.cost().lambda_invocations for x in results) == len([c for c in provider.calls])


# -- slow calls --------------------------------------------------------------------------------------------


def slow_run(embedded: EmbeddedStack, stack: Stack, provider: Any, **fields: Any) -> ExecutionResult:
    provider.configure(mode="slow", delay_seconds=SLOW_DELAY)
    return embedded.run(stack, order(**fields))


def test_a_slow_success_stays_charged_and_says_slow(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=3, SlowCallSeconds=SLOW)

    result = slow_run(embedded, stack, provider, orderId="ord-slow-a")

    assert result.output == {
        "status": "charged",
        "orderId": "ord-slow-a",
        "serviceName": "payment-api",
        "chargeId": provider.charges["ord-slow-a"]["id"],
        "breaker": "CLOSED",
        "slow": True,
    }
    assert [c.status for c in provider.calls_for("ord-slow-a")] == [200]


def test_a_slow_success_is_counted_exactly_once(embedded, provider, clock):
    stack = embedded.deploy(**RATE, SlowCallSeconds=SLOW)

    result = slow_run(embedded, stack, provider)

    assert result.scheduled()[CALL] == 1
    assert result.scheduled()[WRITE] == 1
    assert record(embedded, stack) == ("CLOSED", 1, 1)
    assert "Queue order for later" not in result.path


def test_a_fast_success_is_not_slow(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=3, SlowCallSeconds=SLOW)

    result = run(embedded, stack, provider, "healthy")

    assert "slow" not in result.output
    assert breaker(embedded, stack) == {}


def test_a_slow_success_counts_as_a_failure_for_the_count_rule(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=1, SlowCallSeconds=SLOW)

    result = slow_run(embedded, stack, provider)

    assert (result.output["status"], result.output["slow"]) == ("charged", True)
    assert succeeded_task(result, "Open the circuit after a charged call")
    assert breaker(embedded, stack)["state"] == "OPEN"


def test_a_slow_success_counts_as_a_failure_for_the_rate_rule(embedded, provider, clock):
    stack = embedded.deploy(**RATE, SlowCallSeconds=SLOW)
    for mode in ("down", "healthy", "healthy"):
        run(embedded, stack, provider, mode)

    result = slow_run(embedded, stack, provider)  # 2 failures (one slow) of 4 calls

    assert result.output["slow"] is True
    assert record(embedded, stack) == ("OPEN", 2, 4)


def test_a_slow_success_inside_a_window_with_failures_is_counted_as_a_failure(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=5, SlowCallSeconds=SLOW)
    run(embedded, stack, provider, "down")

    result = slow_run(embedded, stack, provider)

    assert result.output["slow"] is True
    assert "Clear the failure count" not in result.path
    assert breaker(embedded, stack)["failureCount"] == 2


# -- shadow mode -------------------------------------------------------------------------------------------


def test_shadow_and_enforce_set_the_mode_with_a_conditional_write(embedded, provider, clock):
    stack = embedded.deploy()
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, tripCount=1, version=3)
    dynamodb = embedded.client("dynamodb")

    before, after = set_mode(dynamodb, stack.table_name, "payment-api", BreakerMode.SHADOW)

    assert (before.mode, after.mode) == (None, "SHADOW")
    assert (after.state, after.version, after.trip_count) == ("OPEN", 3, 1)
    assert set_mode(dynamodb, stack.table_name, "payment-api", BreakerMode.ENFORCE)[1].mode == "ENFORCE"


def test_a_mode_change_is_refused_when_the_record_moved_since_it_was_read(embedded, provider, clock, monkeypatch):
    import breakwater.breaker as module

    stack = embedded.deploy()
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, version=3)
    real_read = module.read

    def read_then_transition(*args: Any) -> Any:
        seen = real_read(*args)
        put_breaker(embedded, stack, state="HALF_OPEN", version=4)  # a transition lands before the write
        return seen

    monkeypatch.setattr(module, "read", read_then_transition)
    with pytest.raises(BreakerChanged):
        set_mode(embedded.client("dynamodb"), stack.table_name, "payment-api", BreakerMode.SHADOW)
    assert "mode" not in breaker(embedded, stack)


def test_the_cli_sets_and_shows_the_mode(embedded, provider, clock, capsys):
    from breakwater import cli

    stack = embedded.deploy(**RATE)
    run(embedded, stack, provider, "down")
    run(embedded, stack, provider, "healthy")

    assert cli.main(["shadow", "payment-api", "--stack-name", stack.name]) == 0
    assert breaker(embedded, stack)["mode"] == "SHADOW"
    assert cli.main(["status", "payment-api", "--stack-name", stack.name]) == 0

    out = capsys.readouterr().out
    assert "mode default -> SHADOW" in out
    header = next(line for line in out.splitlines() if line.startswith("service "))
    row = next(line for line in out.splitlines() if line.startswith("payment-api "))
    cells = dict(zip(header.replace("open until", "open-until").split()[:10], row.split(), strict=False))
    assert [cells[name] for name in ("state", "mode", "failures", "calls", "rate")] == [
        "CLOSED",
        "SHADOW",
        "1",
        "2",
        "50%",
    ]


def test_the_mode_of_a_record_without_one_is_the_breaker_mode_parameter(embedded, provider, clock):
    stack = embedded.deploy(BreakerMode="SHADOW")
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, tripCount=1, version=1)

    result = run(embedded, stack, provider, "healthy")

    assert result.output["status"] == "charged"
    assert result.output["shadow"] == {"wouldQueue": True, "reason": "circuit_open"}


def test_a_record_mode_overrides_the_breaker_mode_parameter(embedded, provider, clock):
    stack = embedded.deploy(BreakerMode="SHADOW")
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, mode="ENFORCE", version=1)

    result = run(embedded, stack, provider, "healthy")

    assert result.output["reason"] == "circuit_open"
    assert provider.calls == []


def test_shadow_calls_where_enforce_would_queue_probe_busy_and_records_nothing(embedded, provider, clock):
    stack = embedded.deploy()
    half_open = dict(state="HALF_OPEN", probesInFlight=1, probeLeaseUntilMs=clock.now_ms() + 60_000, version=2)
    put_breaker(embedded, stack, mode="SHADOW", halfOpenSuccesses=0, tripCount=1, **half_open)
    before = breaker(embedded, stack)

    result = run(embedded, stack, provider, "healthy")

    assert result.output["status"] == "charged"
    assert result.output["breaker"] == "HALF_OPEN"
    assert result.output["shadow"] == {"wouldQueue": True, "reason": "probe_busy"}
    assert result.scheduled()[WRITE] == 0
    assert breaker(embedded, stack) == before


def test_shadow_a_failed_call_where_enforce_would_queue_is_queued_as_failed_and_not_recorded(embedded, provider, clock):
    stack = embedded.deploy()
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, mode="SHADOW", version=1)
    before = breaker(embedded, stack)

    result = run(embedded, stack, provider, "down")

    assert (result.output["status"], result.output["reason"]) == ("queued", "call_failed")
    assert result.output["shadow"] == {"wouldQueue": True, "reason": "circuit_open"}
    assert breaker(embedded, stack) == before


@pytest.mark.parametrize(("state", "expected"), [("FORCED_OPEN", "queued"), ("DISABLED", "charged")])
def test_operator_states_act_as_always_in_shadow_mode(embedded, provider, clock, state, expected):
    stack = embedded.deploy(BreakerMode="SHADOW")
    put_breaker(embedded, stack, state=state)

    result = run(embedded, stack, provider, "healthy")

    assert result.output["status"] == expected
    assert "shadow" not in result.output
    assert breaker(embedded, stack) == {"serviceName": "payment-api", "state": state}


OUTAGE = [  # (seconds to wait first, provider mode): trip, two calls while OPEN, the probe after the cooldown
    (0, "down"),
    (0, "down"),
    (0, "down"),
    (1, "healthy"),
    (31, "healthy"),
    (0, "healthy"),
]


def test_shadow_mode_through_a_whole_outage_calls_every_order_and_records_as_enforce(embedded, provider, clock):
    settings = {"FailureThreshold": 2, "CooldownSeconds": 30, "SuccessThreshold": 2}
    shadow, enforce = embedded.deploy(BreakerMode="SHADOW", **settings), embedded.deploy(**settings)
    steps: dict[str, list[tuple[Any, ...]]] = {"shadow": [], "enforce": []}
    outputs: dict[str, list[dict[str, Any]]] = {"shadow": [], "enforce": []}

    for wait, mode in OUTAGE:
        clock.advance(wait)
        for name, stack in (("shadow", shadow), ("enforce", enforce)):
            result = run(embedded, stack, provider, mode)
            outputs[name].append(result.output)
            r = breaker(embedded, stack)
            steps[name].append((r["state"], r.get("version"), r.get("tripCount"), r.get("halfOpenSuccesses")))

    # then the breaker decided and recorded the same transitions in both modes: trip, half-open, close
    assert steps["shadow"] == steps["enforce"]
    assert [s[0] for s in steps["shadow"]] == ["CLOSED", "OPEN", "OPEN", "OPEN", "HALF_OPEN", "CLOSED"]
    assert steps["shadow"][-1][1] == 3  # OPEN, HALF_OPEN, CLOSED: three transitions
    # shadow called where enforce queued, said so, and recorded nothing for those calls
    would = {"wouldQueue": True, "reason": "circuit_open"}
    assert [o.get("shadow") for o in outputs["shadow"]] == [None, None, would, would, None, None]
    assert [o["status"] for o in outputs["shadow"]] == ["queued", "queued", "queued", "charged", "charged", "charged"]
    assert [o.get("reason") for o in outputs["shadow"][:3]] == ["call_failed"] * 3
    assert [o.get("reason") for o in outputs["enforce"][2:4]] == ["circuit_open"] * 2
    assert len([c for c in provider.calls if c.order_id in {o["orderId"] for o in outputs["shadow"]}]) == len(OUTAGE)
    assert len([c for c in provider.calls if c.order_id in {o["orderId"] for o in outputs["enforce"]}]) == 4
    # and every transition kept the mode, whose default (no attribute) the parameter gives
    assert "mode" not in breaker(embedded, shadow)


def test_every_transition_keeps_a_records_mode(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=1, CooldownSeconds=5, SuccessThreshold=1)
    put_breaker(embedded, stack, mode="SHADOW")
    seen = []

    run(embedded, stack, provider, "down")  # CLOSED -> OPEN
    seen.append(breaker(embedded, stack))
    clock.advance(6)
    run(embedded, stack, provider, "down")  # OPEN -> HALF_OPEN -> OPEN
    seen.append(breaker(embedded, stack))
    clock.advance(11)
    run(embedded, stack, provider, "healthy")  # OPEN -> HALF_OPEN -> CLOSED
    seen.append(breaker(embedded, stack))

    assert [(r["state"], r["version"]) for r in seen] == [("OPEN", 1), ("OPEN", 3), ("CLOSED", 5)]
    assert {r["mode"] for r in seen} == {"SHADOW"}


# -- breakwater demo --story rate --------------------------------------------------------------------------


def test_the_rate_story_trips_by_the_rate_rule_where_the_count_rule_never_does(embedded, provider, clock):
    from breakwater.demo import COUNT_RULE, RATE_RULE, first_trip, play_rate_story

    rows = play_rate_story(embedded, embedded.deploy(**COUNT_RULE), embedded.deploy(**RATE_RULE))

    assert first_trip(rows, "rate") == RATE_RULE["MinimumCalls"]
    assert first_trip(rows, "count") is None
    assert rows[RATE_RULE["MinimumCalls"] - 1].rate == ("OPEN", 2, 4)  # 50 % of 4 calls
