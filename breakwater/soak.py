"""The soak: hundreds of concurrent orders through an outage and recovery, then the queue drained.

It checks the invariant that matters for payments: every order ends charged
exactly once, declined, or invalid (or, explained, on the dead-letter queue);
nothing is lost; and the breaker made exactly one CLOSED->OPEN move per trip.

``python -m breakwater.soak [--orders 500] [--concurrency 25]`` (``make soak``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import time_machine

from breakwater.breaker_record import KEY, BreakerState, state_of, text
from breakwater.executions import ExecutionResult, failed_tasks, start, wait
from breakwater.local.stack import EmbeddedStack

PARAMETERS = {
    "FailureThreshold": 5,
    "FailureWindowSeconds": 30,
    "CooldownSeconds": 1,
    "MaxCooldownSeconds": 4,
    "SuccessThreshold": 2,
    "HalfOpenMaxProbes": 1,
    "CallTimeoutSeconds": 5,
    "MaxReplayAttempts": 5,
}
# The script: share of the orders sent in each phase, and the provider meanwhile.
PHASES = (("healthy", 0.3), ("down", 0.4), ("healthy", 0.3))
DRAIN_ROUNDS = 60
DRAIN_CLOCK_STEP_SECONDS = 1000


@dataclass
class SoakReport:
    """What the soak measured and which invariants held."""

    submitted: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    final: Counter[str] = field(default_factory=Counter)
    replayed: int = 0
    dead_lettered: dict[str, str] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    lost_detail: dict[str, list[str]] = field(default_factory=dict)
    failed: list[dict[str, Any]] = field(default_factory=list)
    double_charged: list[str] = field(default_factory=list)
    charged_without_order: list[str] = field(default_factory=list)
    left_on_queue: int = 0
    trips: int = 0
    transitions: Counter[str] = field(default_factory=Counter)
    transitions_match_version: bool = False
    one_open_per_trip: bool = False
    histories_match_stream: bool = False
    unattributed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        explained = self.final["charged"] + self.final["declined"] + self.final["invalid"] + len(self.dead_lettered)
        return (
            explained == self.submitted
            and not self.lost
            and not self.double_charged
            and not self.charged_without_order
            and self.left_on_queue == 0
            and self.transitions_match_version
            and self.one_open_per_trip
            and self.histories_match_stream
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "submitted": self.submitted,
            "firstOutcomes": dict(self.outcomes),
            "final": dict(self.final),
            "replayedExecutions": self.replayed,
            "deadLettered": self.dead_lettered,
            "lost": self.lost,
            "lostDetail": self.lost_detail,
            "failedExecutions": self.failed,
            "doubleCharged": self.double_charged,
            "chargedWithoutOrder": self.charged_without_order,
            "leftOnQueue": self.left_on_queue,
            "trips": self.trips,
            "transitions": dict(self.transitions),
            "transitionsMatchVersion": self.transitions_match_version,
            "oneOpenPerTrip": self.one_open_per_trip,
            "historiesMatchStream": self.histories_match_stream,
            "unattributed": self.unattributed,
            "seconds": round(self.seconds, 1),
        }


def _orders(count: int, rng: random.Random) -> list[Any]:
    orders: list[Any] = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.03:
            orders.append({"orderId": f"soak-{i:05d}", "amount": -1, "currency": "USD", "customerId": "cus_bad"})
        else:
            customer = "cus_card_declined" if roll < 0.08 else f"cus_{i % 37:03d}"
            orders.append({"orderId": f"soak-{i:05d}", "amount": 100 + i, "currency": "USD", "customerId": customer})
    return orders


def failure_detail(result: ExecutionResult) -> dict[str, Any]:
    """Why an execution failed: its error and cause, and each failed task's state, error, cause and retries."""
    tasks = failed_tasks(result.events)
    return {"execution": result.name, "error": result.error, "cause": result.cause, "failedTasks": tasks}


def _outcome(result: ExecutionResult) -> str:
    found = result.outcome
    return f"failed:{found.error}" if found.kind == "failed" else found.kind


def _traffic(env: EmbeddedStack, arn: str, orders: list[Any], concurrency: int) -> list[ExecutionResult]:
    sfn = env.client("stepfunctions")
    results: list[ExecutionResult] = []
    index = 0
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for mode, share in PHASES:
            env.provider.configure(mode=mode)
            batch = orders[index : index + max(1, round(share * len(orders)))]
            index += len(batch)
            results.extend(pool.map(lambda o: wait(sfn, start(sfn, arn, o), timeout=120), batch))
        if index < len(orders):
            results.extend(pool.map(lambda o: wait(sfn, start(sfn, arn, o), timeout=120), orders[index:]))
    return results


def _drain(env: EmbeddedStack, stack: Any, traveller: Any) -> list[ExecutionResult]:
    """Replay until the fallback queue is empty, moving the clock past every back-off."""
    sfn = env.client("stepfunctions")
    source = env.replay_source(stack)
    seen: set[str] = set()
    replayed: list[ExecutionResult] = []
    for _ in range(DRAIN_ROUNDS):
        source.drain()
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn):
            for execution in page["executions"]:
                if execution["name"].startswith("replay-") and execution["name"] not in seen:
                    seen.add(execution["name"])
                    replayed.append(wait(sfn, execution["executionArn"], timeout=120))
        attributes = env.client("sqs").get_queue_attributes(
            QueueUrl=stack.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        if not int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        ):
            break
        traveller.shift(dt.timedelta(seconds=DRAIN_CLOCK_STEP_SECONDS))
    return replayed


def _dead_letters(env: EmbeddedStack, url: str) -> dict[str, str]:
    sqs = env.client("sqs")
    found: dict[str, str] = {}
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=600
    ).get("Messages", []):
        for message in messages:
            order_id = json.loads(message["Body"]).get("order", {}).get("orderId", message["MessageId"])
            found[order_id] = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "redriven")
    return found


def stream_transitions(table_name: str, service: str, region: str = "us-east-1") -> list[tuple[str, str]]:
    """Every state change of one breaker, in write order, from the table's stream (moto's shard, in-process).

    The stream is the ground truth: each write appears once, in the order DynamoDB applied it, whatever
    the executions' clocks say.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
    moves = []
    for record in table.stream_shard.items if table.stream_shard else []:
        images = record.to_json()["dynamodb"]
        new, old = images.get("NewImage") or {}, images.get("OldImage") or {}
        if text(new or old, KEY) != service:
            continue
        before, after = state_of(old), state_of(new)
        if before != after:
            moves.append((before, after))
    return moves


def _check_transitions(
    report: SoakReport, results: list[ExecutionResult], version: int, streamed: list[tuple[str, str]]
) -> None:
    histories = Counter(f"{before}->{after}" for result in results for _, before, after in result.transitions())
    report.transitions = Counter(f"{before}->{after}" for before, after in streamed)
    report.trips = report.transitions["CLOSED->OPEN"]
    report.transitions_match_version = len(streamed) == version
    # Each transition the table saw was written by exactly one of the executions (by its history).
    report.histories_match_stream = histories == report.transitions
    report.unattributed = sorted((report.transitions - histories).elements()) + sorted(
        f"not in the stream: {move}" for move in (histories - report.transitions).elements()
    )
    # In write order: every CLOSED->OPEN is followed by a HALF_OPEN->CLOSED before the next one.
    state: str = BreakerState.CLOSED
    ok = True
    for before, after in streamed:
        ok = ok and before == state
        state = after
    report.one_open_per_trip = ok


def run_soak(orders: int = 500, concurrency: int = 25, seed: int = 11) -> SoakReport:
    """Play the soak on a fresh embedded stack and check the invariants."""
    began = time.monotonic()
    report = SoakReport(submitted=orders)
    rng = random.Random(seed)
    plan = _orders(orders, rng)
    with EmbeddedStack() as env, time_machine.travel(dt.datetime.now(tz=dt.UTC), tick=True) as traveller:
        stack = env.deploy("breakwater-soak", **PARAMETERS)
        first = _traffic(env, stack.state_machine_arn, plan, concurrency)
        env.provider.configure(mode="healthy")
        replays = _drain(env, stack, traveller)
        report.replayed = len(replays)
        report.outcomes = Counter(_outcome(r) for r in first)
        final: dict[str, str] = {}
        history: dict[str, list[str]] = {}
        for result in [*first, *replays]:
            order_id = result.output.get("orderId") if isinstance(result.output, dict) else None
            order_id = order_id or json.loads(result.events[0]["executionStartedEventDetails"]["input"] or "{}").get(
                "orderId"
            )
            outcome = _outcome(result)
            reason = result.output.get("reason") if isinstance(result.output, dict) else None
            history.setdefault(str(order_id), []).append(
                f"{result.name}: {outcome}" + (f" ({reason})" if reason else "")
            )
            if final.get(order_id) not in ("charged", "declined", "invalid"):
                final[order_id] = outcome
            if outcome not in ("charged", "declined", "queued", "invalid"):
                report.failed.append({"orderId": order_id, **failure_detail(result)})
        report.final = Counter(final.values())
        report.dead_lettered = _dead_letters(env, stack.dead_letter_queue_url)
        report.lost = sorted(
            o
            for o, outcome in final.items()
            if outcome not in ("charged", "declined", "invalid") and o not in report.dead_lettered
        )
        # Every execution of a lost order, in the order they ran: where the trail ends says what went wrong.
        report.lost_detail = {o: history.get(o, []) for o in report.lost}
        charges = Counter(charge["idempotencyKey"] for charge in env.provider.charges.values())
        report.double_charged = sorted(o for o, n in charges.items() if n > 1)
        report.charged_without_order = sorted(o for o in charges if final.get(o) != "charged")
        attributes = env.client("sqs").get_queue_attributes(
            QueueUrl=stack.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        report.left_on_queue = sum(int(value) for value in attributes.values())
        item = (
            env.client("dynamodb")
            .get_item(TableName=stack.table_name, Key={"serviceName": {"S": "payment-api"}}, ConsistentRead=True)
            .get("Item", {})
        )
        _check_transitions(
            report,
            [*first, *replays],
            int(item.get("version", {}).get("N", "0")),
            stream_transitions(stack.table_name, "payment-api", env.region),
        )
    report.seconds = time.monotonic() - began
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breakwater.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    report = run_soak(args.orders, args.concurrency, args.seed)
    print(json.dumps(report.as_dict(), indent=2))
    print("soak: " + ("all invariants hold" if report.ok else "INVARIANT VIOLATED"))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
