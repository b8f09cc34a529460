"""What became of a replayed order: run its replay execution to the end, settle it, record it, publish it.

A replay that ends is an order's final outcome, or the order queued again:

* charged or declined: an ``OrderCharged`` / ``OrderDeclined`` event and the order's record;
* queued again (its call failed, or the breaker opened meanwhile): nothing here; the new message carries it;
* failed (``InvalidOrder``: the provider refused the request, for example an idempotency key reused with
  another amount; or any other error, or the execution timed out or was aborted): the order is given up,
  moved to the dead-letter queue with the reason, recorded and published as ``OrderDeadLettered``.

Replay executions are run to their end by :class:`Runner`: on STANDARD with StartExecution (idempotent by
name: a redelivered message finds its execution again) and DescribeExecution until it leaves RUNNING; on
EXPRESS, which keeps no history to describe, with StartSyncExecution. A replay still running when the batch
must end is not settled: its message comes back, and the next receive finds it again (STANDARD) or runs it
again (EXPRESS: the provider's idempotency key keeps it one charge).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from order_record import EVENT_SOURCE, OrderStatus, Outcome, put_item_request

RUNNING = "RUNNING"
FIRST_POLL_SECONDS = 0.05
LONGEST_POLL_SECONDS = 1.0
REASON_LIMIT = 500  # characters of an execution's cause kept in a reason
# DescribeExecution's own limits are the reason for the back-off; a throttled poll is only a poll skipped.
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException"})


@dataclass(frozen=True)
class Finished:
    """How a replay execution ended: its status, and its output or its error and cause."""

    status: str
    output: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> Finished:
        """From a DescribeExecution or StartSyncExecution answer."""
        output = None
        if answer.get("output"):
            try:
                parsed = json.loads(answer["output"])
            except ValueError:
                parsed = None
            output = parsed if isinstance(parsed, dict) else None
        return cls(str(answer["status"]), output, answer.get("error"), answer.get("cause"))


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN a STANDARD execution named ``name`` of ``state_machine_arn`` has."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


class Runner:
    """Runs one replay execution to its end, or to ``deadline`` (a ``clock`` reading)."""

    def __init__(
        self,
        sfn: Any,
        state_machine_arn: str,
        express: bool,
        sync_wait_seconds: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sfn, self.state_machine_arn, self.express = sfn, state_machine_arn, express
        self.sync_wait_seconds = sync_wait_seconds
        self.clock, self.sleep = clock, sleep

    def run(self, name: str, execution_input: str, deadline: float) -> Finished | None:
        """The end of the execution ``name``; None when it has not ended by ``deadline``."""
        if self.express:
            # The client's read timeout (``sync_wait_seconds``) bounds the wait: start only with that much time left.
            if deadline - self.clock() < self.sync_wait_seconds:
                return None
            try:
                answer = self.sfn.start_sync_execution(
                    stateMachineArn=self.state_machine_arn, name=name, input=execution_input
                )
            except BotoCoreError:
                return None
            return Finished.from_answer(answer)
        try:
            arn = self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=execution_input)[
                "executionArn"
            ]
        except ClientError as exc:
            # Started before, for this very message (a redelivery): wait for that execution.
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            arn = execution_arn(self.state_machine_arn, name)
        return self._wait(arn, deadline)

    def _wait(self, arn: str, deadline: float) -> Finished | None:
        delay = FIRST_POLL_SECONDS
        while True:
            try:
                answer = self.sfn.describe_execution(executionArn=arn)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in _THROTTLED:
                    raise
                answer = {"status": RUNNING}
            if answer["status"] != RUNNING:
                return Finished.from_answer(answer)
            left = deadline - self.clock()
            if left <= 0:
                return None
            self.sleep(min(delay, left))
            delay = min(delay * 2, LONGEST_POLL_SECONDS)


def settle(finished: Finished, order: dict[str, Any], service: str, attempt: int, message_id: str) -> Outcome | None:
    """The outcome a finished replay gives its order; None when it queued the order again."""
    order_id = str(order.get("orderId", ""))

    def outcome(status: OrderStatus, **fields: Any) -> Outcome:
        return Outcome(status, order_id, service, attempt, message_id=message_id, **fields)

    if finished.status == "SUCCEEDED":
        output = finished.output or {}
        status = output.get("status")
        if status == OrderStatus.CHARGED and isinstance(output.get("chargeId"), str):
            return outcome(OrderStatus.CHARGED, charge_id=output["chargeId"])
        if status == OrderStatus.DECLINED:
            return outcome(OrderStatus.DECLINED, reason=str(output.get("reason") or "declined"))
        if status == OrderStatus.QUEUED:
            return None
        unexpected = f"replay_unexpected_output: {json.dumps(output)}"
        return outcome(OrderStatus.DEAD_LETTERED, reason=unexpected[:REASON_LIMIT])
    if finished.status == "FAILED" and finished.error == "InvalidOrder":
        return outcome(OrderStatus.DEAD_LETTERED, reason=f"invalid_order: {finished.cause or ''}"[:REASON_LIMIT])
    detail = ": ".join(part for part in (finished.error, finished.cause) if part)
    reason = f"replay_{finished.status.lower()}" + (f": {detail}" if detail else "")
    return outcome(OrderStatus.DEAD_LETTERED, reason=reason[:REASON_LIMIT])


class EventsNotPublished(Exception):
    """PutEvents accepted the request but failed the entry: the message must come back."""


@dataclass
class OrderBook:
    """Where outcomes go: the orders table (the record) and the event bus (the event)."""

    dynamodb: Any
    events: Any
    table: str
    bus: str
    record_days: int
    now_ms: Callable[[], int] = lambda: int(time.time() * 1000)

    def record(self, outcome: Outcome) -> bool:
        """Write the order's record; False when the record it has must stay (a charge, or a final outcome)."""
        try:
            self.dynamodb.put_item(**put_item_request(self.table, outcome, self.now_ms(), self.record_days))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def publish(self, outcome: Outcome) -> None:
        """Publish the outcome's event (at least once: consumers keep one per ``dedupKey``)."""
        answer = self.events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": outcome.event.value,
                    "Detail": json.dumps(outcome.detail(self.now_ms())),
                    "EventBusName": self.bus,
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            entry = (answer.get("Entries") or [{}])[0]
            raise EventsNotPublished(f"{outcome.event.value} {outcome.dedup_key()}: {entry.get('ErrorCode')}")

    def tell(self, outcome: Outcome) -> None:
        """Record a final outcome, then publish it: a consumer reacting to the event finds the record."""
        self.record(outcome)
        self.publish(outcome)
