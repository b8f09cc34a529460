"""Each template parameter changes behaviour: declared, wired, and used."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from breakwater.executions import start, wait
from breakwater.scale.harness import replay_concurrency
from breakwater.template import parameters
from tests.compat import test_execution_logs
from tests.template import test_namespace
from tests.workflow import test_checkout_api, test_order_outcomes, test_provider_adapters
from tests.workflow.helpers import breaker, order, put_breaker

PARAMETER_TESTS: dict[str, Callable[..., None]] = {}


def proves(parameter: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(test: Callable[..., None]) -> Callable[..., None]:
        PARAMETER_TESTS[parameter] = test
        return test

    return register


# Proved where the rest of the namespace's wiring is tested (every function, the grant, the alarm, the CLI).
PARAMETER_TESTS["MetricsNamespace"] = test_namespace.test_changing_the_namespace_changes_every_place_that_uses_it
# Proved beside the patch that writes the execution log events.
PARAMETER_TESTS["ExecutionLogLevel"] = test_execution_logs.test_at_level_error_only_failures_are_logged
PARAMETER_TESTS["ExecutionLogIncludesData"] = (
    test_execution_logs.test_without_execution_data_inputs_and_outputs_are_left_out
)
# Proved beside the behaviour they belong to (the provider seam; the order records).
PARAMETER_TESTS["PaymentProvider"] = test_provider_adapters.test_payment_provider_picks_the_api_the_charge_goes_through
PARAMETER_TESTS["OrderRecordDays"] = test_order_outcomes.test_order_record_days_sets_how_long_a_record_is_kept
PARAMETER_TESTS["CheckoutApi"] = test_checkout_api.test_checkout_api_adds_the_api_only_when_asked


def test_every_template_parameter_has_a_behaviour_test():
    assert set(PARAMETER_TESTS) == set(parameters())


@proves("ServiceName")
def test_service_name_is_the_default_breaker_key(embedded, provider, clock):
    stack = embedded.deploy(ServiceName="acquirer-x")
    provider.configure(mode="down")

    result = embedded.run(stack, order())

    assert result.output["serviceName"] == "acquirer-x"
    assert breaker(embedded, stack, "acquirer-x")["failureCount"] == 1
    assert breaker(embedded, stack, "payment-api") == {}


@proves("FailureThreshold")
def test_failure_threshold_sets_how_many_failures_trip(embedded, provider, clock):
    one = embedded.deploy(FailureThreshold=1)
    two = embedded.deploy(FailureThreshold=2)
    provider.configure(mode="down")

    embedded.run(one, order())
    embedded.run(two, order())

    assert breaker(embedded, one)["state"] == "OPEN"
    assert breaker(embedded, two)["state"] == "CLOSED"


@proves("FailureWindowSeconds")
def test_failure_window_sets_when_old_failures_stop_counting(embedded, provider, clock):
    short = embedded.deploy(FailureWindowSeconds=10)
    long = embedded.deploy(FailureWindowSeconds=100)
    provider.configure(mode="down")
    embedded.run(short, order())
    embedded.run(long, order())

    clock.advance(20)
    embedded.run(short, order())
    embedded.run(long, order())

    assert breaker(embedded, short)["failureCount"] == 1
    assert breaker(embedded, long)["failureCount"] == 2


def cooldown_seconds(record: dict[str, int]) -> float:
    return (record["openUntilMs"] - record["lastTransitionMs"]) / 1000


@proves("CooldownSeconds")
def test_cooldown_sets_how_long_the_breaker_stays_open(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=1, CooldownSeconds=7)
    provider.configure(mode="down")

    embedded.run(stack, order())

    assert cooldown_seconds(breaker(embedded, stack)) == pytest.approx(7, abs=0.05)


@proves("MaxCooldownSeconds")
def test_max_cooldown_caps_the_cooldown(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=1, CooldownSeconds=50, MaxCooldownSeconds=20)
    provider.configure(mode="down")

    embedded.run(stack, order())

    assert cooldown_seconds(breaker(embedded, stack)) == pytest.approx(20, abs=0.05)


def open_and_expired(embedded, stack, clock) -> None:  # type: ignore[no-untyped-def]
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() - 1, tripCount=1, version=1)


@proves("SuccessThreshold")
def test_success_threshold_sets_how_many_probes_close_the_breaker(embedded, provider, clock):
    quick = embedded.deploy(SuccessThreshold=1)
    careful = embedded.deploy(SuccessThreshold=3)
    for stack in (quick, careful):
        open_and_expired(embedded, stack, clock)
        embedded.run(stack, order())
        embedded.run(stack, order())

    assert breaker(embedded, quick)["state"] == "CLOSED"
    assert breaker(embedded, careful)["state"] == "HALF_OPEN"
    assert breaker(embedded, careful)["halfOpenSuccesses"] == 2


@proves("HalfOpenMaxProbes")
def test_half_open_max_probes_sets_how_many_calls_may_be_in_flight(embedded, provider, clock):
    single = embedded.deploy(HalfOpenMaxProbes=1)
    double = embedded.deploy(HalfOpenMaxProbes=2)
    for stack in (single, double):
        put_breaker(
            embedded,
            stack,
            state="HALF_OPEN",
            probesInFlight=1,
            probeLeaseUntilMs=clock.now_ms() + 60_000,
            halfOpenSuccesses=0,
            tripCount=1,
            version=2,
        )

    assert embedded.run(single, order()).output["reason"] == "probe_busy"
    assert embedded.run(double, order()).output["status"] == "charged"


@proves("ProbeLeaseSeconds")
def test_probe_lease_sets_when_an_unreported_probe_slot_frees_itself(embedded, provider, clock):
    stack = embedded.deploy(ProbeLeaseSeconds=42)
    open_and_expired(embedded, stack, clock)

    embedded.run(stack, order())

    record = breaker(embedded, stack)
    assert (record["probeLeaseUntilMs"] - record["lastTransitionMs"]) / 1000 == pytest.approx(42, abs=0.05)


@proves("CallTimeoutSeconds")
def test_call_timeout_bounds_the_payment_call(embedded, provider, clock):
    stack = embedded.deploy(CallTimeoutSeconds=1)
    provider.configure(mode="slow", delay_seconds=1.6)

    result = embedded.run(stack, order())

    assert result.output["reason"] == "call_failed"
    scheduled = next(
        e["taskScheduledEventDetails"]
        for e in result.events
        if e.get("taskScheduledEventDetails", {}).get("resource") == "invoke"
    )
    assert scheduled["timeoutInSeconds"] == 1
    function = embedded.client("lambda").get_function_configuration(FunctionName=stack.outputs["PaymentFunctionArn"])
    assert function["Timeout"] == 1


@proves("PaymentApiUrl")
def test_payment_api_url_is_where_the_function_calls(embedded, provider, clock):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    stack = embedded.deploy(PaymentApiUrl=f"http://127.0.0.1:{dead_port}")

    result = embedded.run(stack, order())

    assert result.output["reason"] == "call_failed"
    assert provider.calls_for(result.output["orderId"]) == []


@proves("MaxReplayAttempts")
def test_max_replay_attempts_sets_when_an_order_goes_to_the_dead_letter_queue(embedded, provider, clock):
    import json

    patient = embedded.deploy(MaxReplayAttempts=4)
    impatient = embedded.deploy(MaxReplayAttempts=2)
    body = json.dumps({"order": order(), "reason": "call_failed", "attempt": 2, "execution": "replay-2-x"})
    for stack in (patient, impatient):
        embedded.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=body)
        embedded.replay_source(stack).poll_once()

    def dead(stack) -> int:  # type: ignore[no-untyped-def]
        return len(embedded.client("sqs").receive_message(QueueUrl=stack.dead_letter_queue_url).get("Messages", []))

    assert (dead(patient), dead(impatient)) == (0, 1)


@proves("PaymentApiKeySecretArn")
def test_api_key_secret_is_the_key_the_provider_sees(embedded, provider, clock):
    import uuid

    wrong = embedded.client("secretsmanager").create_secret(
        Name=f"wrong-key-{uuid.uuid4().hex[:6]}", SecretString="sk_not_the_key"
    )["ARN"]
    seeded = embedded.deploy()
    refused = embedded.deploy(PaymentApiKeySecretArn=wrong)

    accepted, rejected = embedded.run(seeded, order()), embedded.run(refused, order())

    assert accepted.output["status"] == "charged"
    assert rejected.output["reason"] == "call_failed"
    assert [c.status for c in provider.calls_for(accepted.output["orderId"])] == [200]
    assert [c.status for c in provider.calls_for(rejected.output["orderId"])] == [401]


@proves("LogRetentionDays")
def test_log_retention_sets_how_long_logs_are_kept(embedded, provider, clock):
    def retentions(stack) -> set[int]:  # type: ignore[no-untyped-def]
        cloudformation, logs = embedded.client("cloudformation"), embedded.client("logs")
        names = [
            r["PhysicalResourceId"]
            for r in cloudformation.describe_stack_resources(StackName=stack.name)["StackResources"]
            if r.get("ResourceType") == "AWS::Logs::LogGroup"
        ]
        groups = [g for page in logs.get_paginator("describe_log_groups").paginate() for g in page["logGroups"]]
        return {g.get("retentionInDays") for g in groups if g["logGroupName"] in names}

    assert retentions(embedded.deploy(LogRetentionDays=7)) == {7}
    assert retentions(embedded.deploy(LogRetentionDays=90)) == {90}


@proves("AlarmEmail")
def test_alarm_email_subscribes_an_operator_to_the_alarm_topic():
    # moto's CloudFormation cannot create SNS subscriptions, so this reads what CloudFormation is told:
    # the subscription exists exactly when AlarmEmail is set, and sends to that address.
    from breakwater.template import load_template

    template = load_template()
    subscription = template["Resources"]["AlarmEmailSubscription"]

    assert subscription["Condition"] == "HasAlarmEmail"
    assert template["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert template["Resources"]["CircuitOpenAlarm"]["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@proves("WorkflowType")
def test_workflow_type_sets_the_state_machine_type(embedded, provider, clock):
    stack = embedded.deploy(WorkflowType="EXPRESS")

    description = embedded.client("stepfunctions").describe_state_machine(stateMachineArn=stack.state_machine_arn)
    result = embedded.run(stack, order())

    assert description["type"] == "EXPRESS"
    assert result.output["status"] == "charged"


def run_modes(embedded, stacks, provider, modes) -> None:  # type: ignore[no-untyped-def]
    """The same traffic, one provider mode per order, on each stack."""
    for mode in modes:
        provider.configure(mode=mode)
        for stack in stacks:
            embedded.run(stack, order())


@proves("FailureRateThreshold")
def test_failure_rate_threshold_sets_the_failure_percentage_that_trips(embedded, provider, clock):
    half = embedded.deploy(FailureThreshold=100, FailureRateThreshold=50, MinimumCalls=4)
    most = embedded.deploy(FailureThreshold=100, FailureRateThreshold=75, MinimumCalls=4)

    run_modes(embedded, (half, most), provider, ["down", "healthy", "down", "healthy"])

    assert breaker(embedded, half)["state"] == "OPEN"
    assert (breaker(embedded, most)["state"], breaker(embedded, most)["callCount"]) == ("CLOSED", 4)


@proves("MinimumCalls")
def test_minimum_calls_sets_how_many_calls_the_rate_rule_waits_for(embedded, provider, clock):
    two = embedded.deploy(FailureThreshold=0, FailureRateThreshold=50, MinimumCalls=2)
    three = embedded.deploy(FailureThreshold=0, FailureRateThreshold=50, MinimumCalls=3)

    run_modes(embedded, (two, three), provider, ["down", "down"])

    assert breaker(embedded, two)["state"] == "OPEN"
    assert breaker(embedded, three)["state"] == "CLOSED"


@proves("SlowCallSeconds")
def test_slow_call_seconds_sets_which_successes_count_as_failures(embedded, provider, clock):
    counted = embedded.deploy(SlowCallSeconds=1)
    ignored = embedded.deploy(SlowCallSeconds=0)
    provider.configure(mode="slow", delay_seconds=1.6)

    slow, plain = embedded.run(counted, order()), embedded.run(ignored, order())

    assert (slow.output["status"], slow.output.get("slow")) == ("charged", True)
    assert breaker(embedded, counted)["failureCount"] == 1
    assert (plain.output["status"], plain.output.get("slow")) == ("charged", None)
    assert breaker(embedded, ignored) == {}


@proves("BreakerMode")
def test_breaker_mode_sets_what_a_breaker_without_a_mode_does_while_open(embedded, provider, clock):
    shadow, enforce = embedded.deploy(BreakerMode="SHADOW"), embedded.deploy(BreakerMode="ENFORCE")
    for stack in (shadow, enforce):
        put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, tripCount=1, version=1)

    called, queued_order = embedded.run(shadow, order()), embedded.run(enforce, order())

    assert called.output["shadow"] == {"wouldQueue": True, "reason": "circuit_open"}
    assert called.output["status"] == "charged"
    assert queued_order.output["reason"] == "circuit_open"


@proves("PaymentConcurrency")
def test_payment_concurrency_sets_how_many_calls_may_be_in_flight(embedded, provider):
    one, two = embedded.deploy(PaymentConcurrency=1, CallTimeoutSeconds=60), embedded.deploy(PaymentConcurrency=2)
    sfn = embedded.client("stepfunctions")

    with provider.holding():
        held = [start(sfn, one.state_machine_arn, order()), start(sfn, two.state_machine_arn, order())]
        assert provider.wait_for_in_flight(2, timeout=60)
        refused, admitted = embedded.run(one, order()), start(sfn, two.state_machine_arn, order())
        assert provider.wait_for_in_flight(3, timeout=60)
    outcomes = [wait(sfn, arn, 120).output["status"] for arn in [*held, admitted]]

    assert refused.output["reason"] == "concurrency_limit"
    assert outcomes == ["charged", "charged", "charged"]


@proves("ReplayConcurrency")
def test_replay_concurrency_sets_how_many_batches_the_replay_mapping_runs_at_once(embedded):
    two, seven = embedded.deploy(), embedded.deploy(ReplayConcurrency=7)

    # The Lambda service runs the mapping as configured: what it acts on is what was deployed.
    assert [replay_concurrency(embedded, stack) for stack in (two, seven)] == [2, 7]
