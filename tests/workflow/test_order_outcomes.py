"""The final outcome of a queued order: an event on the bus and the order's record, after replay.

Every test drives the real workflow, the replay function and its event source on the embedded stack; the
events are read as a consumer would, through an EventBridge rule with an SQS target; the record through
``breakwater order``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from breakwater import cli
from breakwater.aws import Stack
from tests.workflow.helpers import (
    FIRST_RETRY_DUE,
    breaker,
    close_long_ago,
    order,
    put_breaker,
    replay_event_of_a_failed_order,
)


class EventTap:
    """An EventBridge rule for the order events, delivering to a queue of its own."""

    def __init__(self, embedded: Any) -> None:
        self.sqs, self.events = embedded.client("sqs"), embedded.client("events")
        self.name = f"order-events-{uuid.uuid4().hex[:8]}"
        self.url = self.sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pattern = {"source": ["breakwater"], "detail-type": ["OrderCharged", "OrderDeclined", "OrderDeadLettered"]}
        self.events.put_rule(Name=self.name, EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=self.name, Targets=[{"Id": "tap", "Arn": arn}])
        self.seen: list[dict[str, Any]] = []

    def of(self, order_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Every order event received so far for ``order_id``: (detail-type, detail)."""
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return [(e["detail-type"], e["detail"]) for e in self.seen if e["detail"].get("orderId") == order_id]

    def close(self) -> None:
        self.events.remove_targets(Rule=self.name, Ids=["tap"])
        self.events.delete_rule(Name=self.name)
        self.sqs.delete_queue(QueueUrl=self.url)


@pytest.fixture
def tap(embedded: Any) -> Iterator[EventTap]:
    events = EventTap(embedded)
    yield events
    events.close()


@pytest.fixture
def stack(embedded: Any, provider: Any) -> Stack:
    return embedded.deploy(FailureThreshold=2, CooldownSeconds=30, MaxReplayAttempts=2)


def lookup(stack: Stack, order_id: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """``breakwater order ORDER_ID --json`` against the stack."""
    capsys.readouterr()
    assert cli.main(["order", order_id, "--json", "--stack-name", stack.name]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_an_order_queued_in_an_outage_and_charged_by_replay_is_told_charged_with_its_charge(
    embedded, stack, provider, clock, tap, capsys
):
    provider.configure(mode="down")
    first = embedded.run(stack, order(orderId="ord-later"))
    provider.configure(mode="healthy")
    close_long_ago(embedded, stack, clock)
    clock.advance(FIRST_RETRY_DUE)

    embedded.replay_source(stack).drain()

    charge_id = provider.charges["ord-later"]["id"]
    assert first.output["status"] == "queued"
    ((kind, detail),) = tap.of("ord-later")
    assert kind == "OrderCharged"
    assert {k: detail[k] for k in ("orderId", "serviceName", "chargeId", "attempts", "dedupKey")} == {
        "orderId": "ord-later",
        "serviceName": "payment-api",
        "chargeId": charge_id,
        "attempts": 1,
        "dedupKey": f"ord-later#charged#{charge_id}",
    }
    found = lookup(stack, "ord-later", capsys)
    assert (found["status"], found["chargeId"], found["attempts"]) == ("charged", charge_id, 1)


def test_a_poisoned_order_is_dead_lettered_and_told_so(embedded, stack, provider, clock, tap, capsys):
    # given: the provider fails this customer's charges, whatever else it does
    provider.configure(unavailable_customers=["cus_poison"])
    embedded.run(stack, order(orderId="ord-poison", customerId="cus_poison"))
    close_long_ago(embedded, stack, clock)

    # when: replay retries it until its attempts (MaxReplayAttempts 2) are spent
    source = embedded.replay_source(stack)
    for _ in range(20):
        clock.advance(901)  # past every retry delay and back-off
        close_long_ago(embedded, stack, clock)  # its failures must not keep the breaker open
        source.drain()
        if tap.of("ord-poison"):
            break

    # then
    ((kind, detail),) = tap.of("ord-poison")
    assert (kind, detail["reason"], detail["attempts"]) == ("OrderDeadLettered", "replay_attempts_exhausted", 2)
    found = lookup(stack, "ord-poison", capsys)
    assert (found["status"], found["reason"]) == ("dead_lettered", "replay_attempts_exhausted")
    assert provider.charges == {}


def test_a_reused_order_id_with_another_amount_is_refused_not_charged(embedded, stack, provider, clock, tap, capsys):
    charged = embedded.run(stack, order(orderId="ord-reused", amount=1999))

    refused = embedded.run(stack, order(orderId="ord-reused", amount=2999))

    assert charged.output["status"] == "charged"
    assert (refused.status, refused.error) == ("FAILED", "InvalidOrder")
    assert "ord-reused" in refused.cause and "idempotency" in refused.cause.lower()
    assert [c["amount"] for c in provider.charges.values()] == [1999]
    assert breaker(embedded, stack) == {}  # a refusal is not a breaker failure
    assert lookup(stack, "ord-reused", capsys)["status"] == "unknown"  # answered at once: no record


def test_a_reused_order_id_met_by_a_replay_is_dead_lettered_and_not_charged_again(
    embedded, stack, provider, clock, tap, capsys
):
    first = embedded.run(stack, order(orderId="ord-twice", amount=1999))
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 60_000, version=1)
    queued = embedded.run(stack, order(orderId="ord-twice", amount=2999))  # circuit_open: queued
    close_long_ago(embedded, stack, clock)

    embedded.replay_source(stack).drain()

    assert queued.output["reason"] == "circuit_open"
    ((kind, detail),) = tap.of("ord-twice")
    assert kind == "OrderDeadLettered"
    assert detail["reason"].startswith("invalid_order: provider rejected the order")
    found = lookup(stack, "ord-twice", capsys)
    assert found["status"] == "dead_lettered" and "idempotency" in found["reason"].lower()
    assert [(c["id"], c["amount"]) for c in provider.charges.values()] == [(first.output["chargeId"], 1999)]


def test_an_order_waiting_on_the_queue_is_told_queued(embedded, stack, provider, clock, tap, capsys):
    put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 600_000, version=1)
    embedded.run(stack, order(orderId="ord-waiting"))

    before = lookup(stack, "ord-waiting", capsys)
    embedded.replay_source(stack).poll_once()  # the breaker is open: the order waits
    after = lookup(stack, "ord-waiting", capsys)

    assert before["status"] == "unknown"
    assert (after["status"], after["reason"], after["attempts"]) == ("queued", "circuit_open", 0)
    assert tap.of("ord-waiting") == []


def test_a_replay_that_is_redelivered_publishes_the_same_fact_under_the_same_key(embedded, stack, provider, clock, tap):
    event = replay_event_of_a_failed_order(embedded, stack, provider, clock, "ord-again")
    lam = embedded.client("lambda")

    for _ in range(2):  # the same batch delivered twice
        lam.invoke(FunctionName=stack.outputs["ReplayFunctionArn"], Payload=json.dumps(event))

    published = tap.of("ord-again")
    assert [kind for kind, _ in published] == ["OrderCharged", "OrderCharged"]
    assert len({detail["dedupKey"] for _, detail in published}) == 1
    assert len(provider.charges) == 1


def test_on_express_a_replay_runs_synchronously_and_is_told(embedded, provider, clock, tap, capsys):
    stack = embedded.deploy(WorkflowType="EXPRESS", FailureThreshold=2)
    # The in-process mock answers only hosts it knows: no "sync-" host prefix.
    sfn = boto3.client("stepfunctions", region_name=embedded.region, config=Config(inject_host_prefix=False))
    provider.configure(mode="down")
    queued = json.loads(
        sfn.start_sync_execution(stateMachineArn=stack.state_machine_arn, input=json.dumps(order(orderId="ord-x")))[
            "output"
        ]
    )
    provider.configure(mode="healthy")
    close_long_ago(embedded, stack, clock)
    clock.advance(FIRST_RETRY_DUE)

    embedded.replay_source(stack).drain()

    assert queued["status"] == "queued"
    ((kind, detail),) = tap.of("ord-x")
    assert (kind, detail["chargeId"]) == ("OrderCharged", provider.charges["ord-x"]["id"])
    assert lookup(stack, "ord-x", capsys)["status"] == "charged"


def record_ttl_days(embedded: Any, stack: Stack, order_id: str) -> float:
    item = embedded.client("dynamodb").get_item(
        TableName=stack.orders_table, Key={"orderId": {"S": order_id}}, ConsistentRead=True
    )["Item"]
    return (int(item["expiresAt"]["N"]) - int(item["updatedAtMs"]["N"]) // 1000) / 86400


def test_order_record_days_sets_how_long_a_record_is_kept(embedded, provider, clock):
    kept = {}
    for days in (3, 30):
        stack = embedded.deploy(OrderRecordDays=days)
        put_breaker(embedded, stack, state="OPEN", openUntilMs=clock.now_ms() + 600_000, version=1)
        embedded.run(stack, order(orderId=f"ord-ttl-{days}"))
        embedded.replay_source(stack).poll_once()
        kept[days] = record_ttl_days(embedded, stack, f"ord-ttl-{days}")

    assert kept == {3: 3, 30: 30}
    (ttl,) = [embedded.client("dynamodb").describe_time_to_live(TableName=stack.orders_table)["TimeToLiveDescription"]]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expiresAt")
