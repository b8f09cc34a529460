"""Queued orders come back: the replay function, its event source, and idempotent charges."""

from __future__ import annotations

import json

import pytest

from breakwater.executions import wait
from tests.eventually import eventually
from tests.workflow.helpers import (
    FIRST_RETRY_DUE,
    HOUR,
    breaker,
    close_long_ago,
    order,
    put_breaker,
    queued,
    replay_event_of_a_failed_order,
)


@pytest.fixture
def stack(embedded, provider):
    return embedded.deploy(FailureThreshold=2, CooldownSeconds=30, MaxReplayAttempts=3)


def executions(embedded, stack) -> list[dict]:
    sfn = embedded.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]


def queue_depth(embedded, url: str) -> int:
    attributes = embedded.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_while_the_breaker_is_open_queued_orders_wait_and_nothing_is_started(embedded, stack, provider, clock):
    provider.configure(mode="down")
    for _ in range(3):
        embedded.run(stack, order())
    started_before = len(executions(embedded, stack))

    result = embedded.replay_source(stack).poll_once()

    assert result.received == 3
    assert len(result.failed) == 3
    assert len(executions(embedded, stack)) == started_before
    assert queue_depth(embedded, stack.queue_url) == 3


def replay_until_empty(embedded, stack, clock, step: float = 30, rounds: int = 100) -> list[dict]:
    """Poll as the Lambda service would, moving the clock ``step`` seconds between rounds, until the
    fallback queue is empty; the outputs of the replay executions, each waited for."""
    source, seen, outputs = embedded.replay_source(stack), set(), []
    for _ in range(rounds):
        source.drain()
        outputs += wait_for_replays(embedded, stack, seen)
        if queue_depth(embedded, stack.queue_url) == 0:
            return outputs
        clock.advance(step)
    raise AssertionError(f"the fallback queue still holds {queue_depth(embedded, stack.queue_url)} messages")


def test_a_failed_order_is_not_replayed_at_once_even_while_the_breaker_is_closed(embedded, stack, provider, clock):
    provider.configure(mode="down")
    embedded.run(stack, order(orderId="ord-wait"))
    provider.configure(mode="healthy")
    close_long_ago(embedded, stack, clock)
    source = embedded.replay_source(stack)

    at_once = source.poll_once()
    started_at_once = [e for e in executions(embedded, stack) if e["name"].startswith("replay-")]
    clock.advance(FIRST_RETRY_DUE)
    later = source.drain()

    assert (at_once.received, at_once.deleted, started_at_once) == (1, 0, [])
    assert sum(p.deleted for p in later) == 1
    replays = [e["name"] for e in executions(embedded, stack) if e["name"].startswith("replay-")]
    assert len(replays) == 1 and replays[0].startswith("replay-1-ord-wait-")


def test_once_the_breaker_is_closed_queued_orders_are_replayed_and_charged(embedded, stack, provider, clock):
    provider.configure(mode="down")
    first = embedded.run(stack, order(orderId="ord-replay-1"))
    embedded.run(stack, order(orderId="ord-replay-2"))
    provider.configure(mode="healthy")
    close_long_ago(embedded, stack, clock)
    clock.advance(FIRST_RETRY_DUE)

    polls = embedded.replay_source(stack).drain()
    clock.advance(HOUR)  # FailureThreshold 2: one replay per batch may go, the other comes back later
    polls += embedded.replay_source(stack).drain()

    assert sum(p.deleted for p in polls) == 2
    replays = [e for e in executions(embedded, stack) if e["name"].startswith("replay-1-ord-replay-")]
    assert len(replays) == 2
    sfn = embedded.client("stepfunctions")
    outputs = [wait(sfn, e["executionArn"]).output for e in replays]
    assert {o["status"] for o in outputs} == {"charged"}
    assert {o["orderId"] for o in outputs} == {"ord-replay-1", "ord-replay-2"}
    assert queue_depth(embedded, stack.queue_url) == 0
    assert first.output["reason"] == "call_failed"


def wait_for_replays(embedded, stack, seen: set[str]) -> list[dict]:
    """Outputs of the replay executions started since ``seen`` (which is updated)."""
    sfn = embedded.client("stepfunctions")
    fresh = [e for e in executions(embedded, stack) if e["name"].startswith("replay-") and e["name"] not in seen]
    seen.update(e["name"] for e in fresh)
    return [wait(sfn, e["executionArn"]).output for e in fresh]


def test_after_the_cooldown_the_backlog_probes_and_recovers_without_new_traffic(embedded, stack, provider, clock):
    provider.configure(mode="down")
    orders = [order() for _ in range(5)]
    first = [embedded.run(stack, o).output["reason"] for o in orders]
    provider.configure(mode="healthy")  # the provider recovers, and no new order arrives
    source, seen = embedded.replay_source(stack), set()

    before_cooldown = source.poll_once()
    clock.advance(31)
    after_cooldown = source.poll_once()
    probe = wait_for_replays(embedded, stack, seen)
    state_after_probe = breaker(embedded, stack)["state"]
    outputs = list(probe)
    for _ in range(20):  # each round: past every back-off, then replay what came back
        if queue_depth(embedded, stack.queue_url) == 0:
            break
        clock.advance(901)
        source.drain()
        outputs += wait_for_replays(embedded, stack, seen)

    assert first == ["call_failed", "call_failed", "circuit_open", "circuit_open", "circuit_open"]
    assert (before_cooldown.received, before_cooldown.deleted) == (5, 0)  # still cooling down: nothing started
    assert (after_cooldown.received, after_cooldown.deleted) == (5, 1)  # one order goes through as the probe
    assert [o["status"] for o in probe] == ["charged"]
    assert state_after_probe == "HALF_OPEN"  # SuccessThreshold 2: one more probe closes it
    assert queue_depth(embedded, stack.queue_url) == 0
    assert queue_depth(embedded, stack.dead_letter_queue_url) == 0
    assert breaker(embedded, stack)["state"] == "CLOSED"
    charged = [o["orderId"] for o in outputs if o["status"] == "charged"]
    assert sorted(charged) == sorted(o["orderId"] for o in orders)
    assert sorted(c.order_id for c in provider.calls if c.status == 200) == sorted(charged)  # each charged once
    assert [c.order_id for c in provider.calls if c.status != 200] == [o["orderId"] for o in orders[:2]]


def test_a_forced_open_breaker_is_never_probed_by_the_backlog(embedded, stack, provider, clock):
    put_breaker(embedded, stack, state="FORCED_OPEN", openUntilMs=0, version=1)
    for _ in range(3):
        embedded.run(stack, order())
    clock.advance(HOUR)

    result = embedded.replay_source(stack).poll_once()

    assert (result.received, result.deleted, len(result.failed)) == (3, 0, 3)
    assert not [e for e in executions(embedded, stack) if e["name"].startswith("replay-")]
    assert provider.calls == []


def test_a_half_open_breaker_gets_a_backlog_probe_only_when_no_probe_holds_its_slot(embedded, stack, provider, clock):
    lease_until = clock.now_ms() + 60_000
    put_breaker(embedded, stack, state="HALF_OPEN", probesInFlight=1, probeLeaseUntilMs=lease_until, version=2)
    reasons = [embedded.run(stack, order()).output["reason"] for _ in range(3)]
    source = embedded.replay_source(stack)

    while_held = source.poll_once()
    clock.advance(HOUR)  # past the lease (and every back-off): the holder never reported
    after_lease = source.poll_once()

    assert reasons == ["probe_busy"] * 3
    assert (while_held.received, while_held.deleted) == (3, 0)
    assert (after_lease.received, after_lease.deleted) == (3, 1)


def test_a_redelivered_message_starts_nothing_twice(embedded, stack, provider, clock):
    event = replay_event_of_a_failed_order(embedded, stack, provider, clock, "ord-redelivered")
    lam = embedded.client("lambda")

    answers = [
        json.loads(
            lam.invoke(FunctionName=stack.outputs["ReplayFunctionArn"], Payload=json.dumps(event))["Payload"].read()
        )
        for _ in range(2)
    ]

    assert answers == [{"batchItemFailures": []}, {"batchItemFailures": []}]
    replays = [e for e in executions(embedded, stack) if e["name"].startswith("replay-")]
    assert len(replays) == 1


def test_a_replayed_order_that_fails_again_is_queued_with_its_attempt(embedded, stack, provider, clock):
    provider.configure(mode="down")
    embedded.run(stack, order(orderId="ord-again"))
    close_long_ago(embedded, stack, clock)
    clock.advance(FIRST_RETRY_DUE)

    # One batch: it waits for its replay, which queues the order again (a batch after it would receive that).
    embedded.replay_source(stack).poll_once()

    replay = next(e for e in executions(embedded, stack) if e["name"].startswith("replay-1-"))
    assert wait(embedded.client("stepfunctions"), replay["executionArn"]).output["reason"] == "call_failed"
    bodies = queued(embedded, stack)
    assert [(b["order"]["orderId"], b["attempt"]) for b in bodies] == [("ord-again", 1)]


def test_an_order_out_of_replay_attempts_goes_to_the_dead_letter_queue_with_the_reason(
    embedded, stack, provider, clock
):
    close_long_ago(embedded, stack, clock)
    body = {"order": order(orderId="ord-tired"), "reason": "call_failed", "attempt": 3, "execution": "replay-3-x"}
    embedded.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(body))

    result = embedded.replay_source(stack).poll_once()

    assert result.deleted == 1
    dead = embedded.client("sqs").receive_message(QueueUrl=stack.dead_letter_queue_url, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert json.loads(dead[0]["Body"])["order"]["orderId"] == "ord-tired"
    assert dead[0]["MessageAttributes"]["reason"]["StringValue"] == "replay_attempts_exhausted"
    assert provider.calls == []


def test_a_message_that_is_not_an_order_goes_to_the_dead_letter_queue(embedded, stack, provider, clock):
    embedded.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody="{not json")

    result = embedded.replay_source(stack).poll_once()

    assert result.deleted == 1
    dead = embedded.client("sqs").receive_message(QueueUrl=stack.dead_letter_queue_url, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert dead[0]["Body"] == "{not json"
    assert dead[0]["MessageAttributes"]["reason"]["StringValue"].startswith("not_an_order")


def test_right_after_recovery_replay_ramps_up_instead_of_stampeding(embedded, provider, clock):
    stack = embedded.deploy(FailureThreshold=10)  # headroom for 9 replays a batch: the ramp is what limits
    provider.configure(mode="down")
    for _ in range(8):
        embedded.run(stack, order())
    provider.configure(mode="healthy")
    clock.advance(FIRST_RETRY_DUE)
    put_breaker(embedded, stack, state="CLOSED", failureCount=0, lastTransitionMs=clock.now_ms(), version=3)

    result = embedded.replay_source(stack).poll_once()

    assert result.received == 8
    assert result.deleted == 2
    assert len(result.failed) == 6


def test_a_charge_taken_after_the_call_timeout_is_charged_exactly_once(embedded, provider, clock):
    # The worst case: the provider takes the charge but answers after CallTimeoutSeconds.
    # 3 s: a cold payment function (a process of its own) starts well within it on a loaded machine.
    stack = embedded.deploy(CallTimeoutSeconds=3, FailureThreshold=5)
    provider.configure(mode="slow", delay_seconds=4)

    first = embedded.run(stack, order(orderId="ord-late"))
    taken = [c for c in provider.charges.values() if c["idempotencyKey"] == "ord-late"]
    provider.configure(mode="healthy")
    close_long_ago(embedded, stack, clock)
    clock.advance(FIRST_RETRY_DUE)
    embedded.replay_source(stack).drain()
    replay = next(e for e in executions(embedded, stack) if e["name"].startswith("replay-1-ord-late"))
    replayed = wait(embedded.client("stepfunctions"), replay["executionArn"]).output

    eventually(provider.in_flight, "the late answer to the first call", until=lambda calls: calls == 0)

    assert first.output["reason"] == "call_failed"
    assert len(taken) == 1  # the provider had taken the charge although the call timed out
    assert replayed["status"] == "charged"
    charges = [c for c in provider.charges.values() if c["idempotencyKey"] == "ord-late"]
    assert len(charges) == 1
    assert replayed["chargeId"] == charges[0]["id"] == taken[0]["id"]
    assert len(provider.calls_for("ord-late")) == 2
    assert breaker(embedded, stack)["failureCount"] == 0


def dead_letters(embedded, stack) -> list[dict]:
    sqs, found = embedded.client("sqs"), []
    receive = {"MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"], "VisibilityTimeout": 600}
    while messages := sqs.receive_message(QueueUrl=stack.dead_letter_queue_url, **receive).get("Messages", []):
        found += messages
    return found


def test_a_ten_minute_outage_without_new_traffic_ends_with_every_order_charged_once(embedded, provider, clock):
    # given: the breaker trips on the third failure; an order may spend 2 replay attempts
    stack = embedded.deploy(FailureThreshold=3, CooldownSeconds=30, MaxReplayAttempts=2)
    provider.configure(mode="down")
    orders, reasons = [order() for _ in range(3)], []
    source, seen, outputs = embedded.replay_source(stack), set(), []
    for o in orders:  # the poller runs while the orders arrive, as it does under `breakwater local up`
        reasons.append(embedded.run(stack, o).output["reason"])
        source.drain()
        outputs += wait_for_replays(embedded, stack, seen)
        clock.advance(1)

    # when: the poller runs every 5 s through 10 minutes of outage, with no new order
    for _ in range(120):
        clock.advance(5)
        source.drain()
        outputs += wait_for_replays(embedded, stack, seen)
    during_outage = [o["status"] for o in outputs]
    provider.configure(mode="healthy")
    outputs += replay_until_empty(embedded, stack, clock)

    # then
    assert dead_letters(embedded, stack) == []
    assert reasons == ["call_failed"] * 3  # the third trips the breaker
    # The backlog probed, and kept failing. How many probes fit in 10 minutes depends on the replay's jittered
    # back-off (an OS-seeded draw in each environment), so only the bound every draw keeps is asserted: the cooldown
    # doubles per trip (30, 60, 120 s) and a message is hidden at most 10 s, then 20, 40, 80, 160 s (plus the 5 s
    # poll), so the worst draws start the probes by about 80, 225 and 510 s: 3 within the 600 s, not always a 4th.
    assert "charged" not in during_outage and len(during_outage) >= 3
    assert queue_depth(embedded, stack.queue_url) == 0
    assert breaker(embedded, stack)["state"] == "CLOSED"
    charged = sorted(o["orderId"] for o in outputs if o["status"] == "charged")
    assert charged == sorted(o["orderId"] for o in orders)  # each order charged by exactly one execution
    for o in orders:
        assert len([c for c in provider.charges.values() if c["idempotencyKey"] == o["orderId"]]) == 1


def test_replays_do_not_trip_a_breaker_the_users_orders_would_not_have_tripped(embedded, provider, clock):
    # given: threshold 5 in a 60 s window, and 4 of the user's orders failing: not enough to trip
    stack = embedded.deploy(FailureThreshold=5, FailureWindowSeconds=60, MaxReplayAttempts=5)
    provider.configure(mode="down")
    reasons = []
    for _ in range(4):
        reasons.append(embedded.run(stack, order()).output["reason"])
        clock.advance(1)
    source, seen, outputs = embedded.replay_source(stack), set(), []

    # when: the poller runs every second for 3 minutes of outage, as `breakwater local up` runs it
    for _ in range(180):
        source.drain()
        outputs += wait_for_replays(embedded, stack, seen)
        clock.advance(1)
    record = breaker(embedded, stack)
    provider.configure(mode="healthy")
    outputs += replay_until_empty(embedded, stack, clock)

    # then
    assert reasons == ["call_failed"] * 4
    assert [o["reason"] for o in outputs if o["status"] == "queued"]  # replays were tried during the outage
    assert (record["state"], record.get("version", 0), record.get("tripCount", 0)) == ("CLOSED", 0, 0)
    assert len([o for o in outputs if o["status"] == "charged"]) == 4
    assert dead_letters(embedded, stack) == []


def test_a_message_moved_to_the_dead_letter_queue_is_not_moved_again_when_its_batch_comes_back(
    embedded, stack, provider, clock
):
    body = {"order": order(orderId="ord-moved"), "reason": "call_failed", "attempt": 3, "execution": "replay-3-x"}
    sqs = embedded.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(body))
    message = sqs.receive_message(QueueUrl=stack.queue_url, AttributeNames=["All"])["Messages"][0]
    event = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message["Attributes"],
            }
        ]
    }

    # when: the function moves it, but its batch is never deleted by the poller (a timeout, a crash)
    answer = json.loads(
        embedded.client("lambda")
        .invoke(FunctionName=stack.outputs["ReplayFunctionArn"], Payload=json.dumps(event))["Payload"]
        .read()
    )
    clock.advance(HOUR)  # past the queue's visibility timeout: an unhandled message would come back
    redelivered = embedded.replay_source(stack).poll_once()

    # then
    assert answer == {"batchItemFailures": []}
    assert redelivered.received == 0
    (moved,) = dead_letters(embedded, stack)
    assert json.loads(moved["Body"])["order"]["orderId"] == "ord-moved"
    assert moved["MessageAttributes"]["sourceMessageId"]["StringValue"] == message["MessageId"]
