"""Each breaker transition is published once, as an EventBridge event and a CircuitState metric."""

from __future__ import annotations

import json

from tests.workflow.helpers import order, put_breaker


def datapoints(embedded, service: str, period: int, statistics: list[str]) -> list[dict]:
    """The CircuitState statistics of ``service`` from three hours before now to three hours after."""
    import datetime as dt

    now = dt.datetime.now(tz=dt.UTC)
    return embedded.client("cloudwatch").get_metric_statistics(
        Namespace="Breakwater",
        MetricName="CircuitState",
        Dimensions=[{"Name": "ServiceName", "Value": service}],
        StartTime=now - dt.timedelta(hours=3),
        EndTime=now + dt.timedelta(hours=3),
        Period=period,
        Statistics=statistics,
    )["Datapoints"]


def metric_stats(embedded, service: str) -> dict[str, float]:
    """Count, minimum and maximum of every CircuitState datapoint published for ``service``."""
    points = datapoints(embedded, service, 6 * 3600, ["SampleCount", "Minimum", "Maximum"])
    if not points:
        return {"count": 0}
    return {
        "count": sum(p["SampleCount"] for p in points),
        "min": min(p["Minimum"] for p in points),
        "max": max(p["Maximum"] for p in points),
    }


def test_a_trip_and_a_recovery_publish_each_transition_once(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=1, SuccessThreshold=1, ServiceName="observed-api")
    source = embedded.transitions_source(stack)
    provider.configure(mode="down")
    embedded.run(stack, order())  # CLOSED -> OPEN
    provider.configure(mode="healthy")
    clock.advance(31)
    embedded.run(stack, order())  # OPEN -> HALF_OPEN -> CLOSED

    published = [source.poll_once(), source.poll_once()]

    assert published[0].received >= 4
    assert published[1].received == 0  # nothing is delivered twice
    assert published[0].function_error is None
    # OPEN (2), HALF_OPEN (1), CLOSED (0): three transitions, three datapoints
    assert metric_stats(embedded, "observed-api") == {"count": 3, "min": 0.0, "max": 2.0}


def test_counting_writes_publish_nothing(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=5, ServiceName="quiet-api")
    source = embedded.transitions_source(stack)
    provider.configure(mode="down")
    embedded.run(stack, order())
    embedded.run(stack, order())

    result = source.poll_once()

    assert result.received >= 2  # the counting writes reached the function...
    assert result.function_error is None
    assert metric_stats(embedded, "quiet-api") == {"count": 0}  # ...and published nothing


def test_operator_overrides_are_published_too(embedded, provider, clock):
    stack = embedded.deploy(ServiceName="forced-api")
    put_breaker(embedded, stack, "forced-api", state="CLOSED", version=1)
    source = embedded.transitions_source(stack)
    source.poll_once()
    from breakwater.breaker import BreakerState, override

    override(embedded.client("dynamodb"), stack.table_name, "forced-api", BreakerState.FORCED_OPEN)
    source.poll_once()

    assert metric_stats(embedded, "forced-api") == {"count": 1, "min": 2.0, "max": 2.0}


def test_transitions_function_reads_old_and_new_images():
    from tests.function_modules import load

    module = load("transitions", "transitions_app_images")
    record = {
        "dynamodb": {
            "OldImage": {"state": {"S": "OPEN"}},
            "NewImage": {
                "serviceName": {"S": "svc"},
                "state": {"S": "HALF_OPEN"},
                "version": {"N": "2"},
                "lastTransitionMs": {"N": "42"},
            },
        }
    }
    same = {"dynamodb": {"OldImage": {"state": {"S": "OPEN"}}, "NewImage": {"state": {"S": "OPEN"}}}}

    moves = module.transitions({"Records": [record, same]})

    # No mode in the record and no BREAKER_MODE here: ENFORCE, the template's default.
    assert moves == [
        {"serviceName": "svc", "from": "OPEN", "to": "HALF_OPEN", "version": 2, "atMs": 42, "mode": "ENFORCE"}
    ]
    assert json.dumps(moves)


def test_the_heartbeat_publishes_every_breakers_state_once_a_minute(embedded, provider, clock):
    stack = embedded.deploy(ServiceName="beat-api")  # no record yet: CLOSED
    put_breaker(embedded, stack, "beat-open", state="OPEN", version=1)
    put_breaker(embedded, stack, "beat-probing", state="HALF_OPEN", version=2)
    put_breaker(embedded, stack, "beat-forced", state="FORCED_OPEN", version=3)
    put_breaker(embedded, stack, "beat-off", state="DISABLED", version=4)
    heartbeat = embedded.heartbeat_source(stack)
    now = [1000.0]
    heartbeat.clock = lambda: now[0]  # the schedule's own clock: ticks do not depend on how long invokes take

    ticks = [heartbeat.poll_once()]
    now[0] += 59
    ticks.append(heartbeat.poll_once())  # not due yet
    now[0] += 1
    ticks.append(heartbeat.poll_once())

    assert heartbeat.interval_seconds == 60
    assert [t.received for t in ticks] == [1, 0, 1]
    assert all(t.function_error is None for t in ticks)
    expected = {"beat-api": 0.0, "beat-open": 2.0, "beat-probing": 1.0, "beat-forced": 2.0, "beat-off": 0.0}
    for service, value in expected.items():
        assert metric_stats(embedded, service) == {"count": 2, "min": value, "max": value}, service


def test_after_a_trip_and_a_close_within_one_minute_the_next_minute_reads_closed(embedded, provider, clock):
    # Transitions alone leave the per-minute Maximum at 2 (OPEN) for the minute the breaker opened and
    # closed in, and no later datapoint: the open-circuit alarm would never clear. The heartbeat's does.
    stack = embedded.deploy(FailureThreshold=1, SuccessThreshold=1, CooldownSeconds=5, ServiceName="brief-api")
    transitions, heartbeat = embedded.transitions_source(stack), embedded.heartbeat_source(stack)
    provider.configure(mode="down")
    embedded.run(stack, order())  # CLOSED -> OPEN
    provider.configure(mode="healthy")
    clock.advance(6)
    embedded.run(stack, order())  # OPEN -> HALF_OPEN -> CLOSED, seconds after the trip
    transitions.poll_once()
    clock.advance(60)
    heartbeat.poll_once()

    latest = latest_datapoint(embedded, "brief-api")

    assert metric_stats(embedded, "brief-api") == {"count": 4, "min": 0.0, "max": 2.0}
    assert latest == 0.0


def latest_datapoint(embedded, service: str) -> float:
    """The per-minute Maximum of the most recent minute with data, as the alarm evaluates it."""
    points = datapoints(embedded, service, 60, ["Maximum"])
    return max(points, key=lambda p: p["Timestamp"])["Maximum"]


def test_a_disabled_schedule_does_not_fire(embedded, provider, clock):
    stack = embedded.deploy(ServiceName="paused-api")
    heartbeat = embedded.heartbeat_source(stack)
    embedded.client("events").disable_rule(Name=heartbeat.rule_name)

    result = heartbeat.poll_once()

    assert result.received == 0
    assert metric_stats(embedded, "paused-api") == {"count": 0}


def test_a_failing_batch_holds_the_stream_then_goes_to_the_failure_queue(embedded, provider, clock):
    # As the Lambda service does: retry the batch (MaximumRetryAttempts 10), then record it on the
    # OnFailure queue and move on. The function fails here because its event bus does not exist.
    stack = embedded.deploy(FailureThreshold=1, ServiceName="failing-api")
    function = stack.outputs["TransitionsFunctionArn"]
    lam, sqs = embedded.client("lambda"), embedded.client("sqs")
    variables = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=function, Environment={"Variables": {**variables, "EVENT_BUS_NAME": "no-such-bus"}}
    )
    source = embedded.transitions_source(stack)
    provider.configure(mode="down")
    embedded.run(stack, order())  # CLOSED -> OPEN, one stream record with a transition

    polls = [source.poll_once() for _ in range(11)]
    failure_queue = sqs.get_queue_url(QueueName=source.on_failure_arn.rsplit(":", 1)[-1])["QueueUrl"]
    (kept,) = sqs.receive_message(QueueUrl=failure_queue, MaxNumberOfMessages=10)["Messages"]
    after = source.poll_once()

    assert source.max_retry_attempts == 10
    assert [p.function_error for p in polls] == ["ResourceNotFoundException"] * 11
    assert [p.deleted for p in polls] == [0] * 11
    assert all(p.received == polls[0].received >= 1 for p in polls)  # the same records, retried in place
    assert [len(p.failed) for p in polls] == [0] * 10 + [polls[0].received]
    info = json.loads(kept["Body"])
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["DDBStreamBatchInfo"]["batchSize"] == polls[0].received
    assert (after.received, after.function_error) == (0, None)  # the shard moved on
    assert metric_stats(embedded, "failing-api") == {"count": 0}
