"""Replay function: bring queued orders back once the breaker lets calls through.

Triggered by the fallback queue (SQS event source, partial batch responses,
bounded concurrency). The breaker is read once per service per batch
(eventually consistent); each message then gets one decision (``replay_decisions.decide``,
pure, over the message, the breaker, what the batch already started, the clock and a random source):

* **Dead-letter** an order whose counted attempts reached
  ``MAX_REPLAY_ATTEMPTS``, or a message that is not a queued order.
* **Start** it again, as a new execution whose name is derived from the
  message, so a redelivered message never starts a second execution
  (StartExecution with the same name and input is idempotent), and settle it
  (below), while the breaker is CLOSED (or DISABLED), and only when:

  - a ``call_failed`` order's retry delay has passed. Its first retry waits
    too, even while the breaker is CLOSED: a queued order coming straight back
    is another failing call in the first seconds of an outage. The delay is
    ``RETRY_DELAY_BASE_SECONDS * 2**spent`` (``spent``: the order's counted
    attempts so far), at most ``RETRY_DELAY_MAX_SECONDS``, times a jitter
    between 0.5 and 1 drawn from the message id, counted from the message's
    ``queuedAtMs``. A message seen before its time is hidden
    (ChangeMessageVisibility) until then;
  - the batch leaves the breaker headroom: replays never make the call that
    could trip a breaker. While CLOSED, a batch starts at most
    ``FailureThreshold - 1 - live failures`` replays per service (``live``:
    the failures of a window that has not expired; with
    ``FailureWindowSeconds`` 0, failures older than ``RETRY_DELAY_MAX_SECONDS``
    are taken as stale), and at least one when the window holds no failure.
    The others are hidden until the window expires. So a breaker trips on the
    users' own orders, not on their replays;
  - right after the breaker closes (``RAMP_SECONDS``), at most ``RAMP_LIMIT``
    per batch: a provider that just recovered is not stampeded by the backlog.

* **Probe**: while the breaker is OPEN past its cooldown, or HALF_OPEN with no
  probe holding its slot, one order per service per batch is started, and the
  backlog itself probes the provider. Without it a breaker that opened just
  before traffic went quiet would stay OPEN until the next new order. The
  workflow still admits probes atomically; a FORCED_OPEN breaker waits for an
  operator.
* **Defer** everything else (the breaker OPEN, HALF_OPEN or FORCED_OPEN): a
  batch item failure, hidden for an exponentially growing, jittered time.

Attempts. The workflow writes ``attempt`` into a queued message: the number in
the name of the replay execution that queued it (``replay-<n>-...``), 0 for an
order's first execution. Each replay is named with ``n = spent + 1``; an order
*spends* that attempt only when the replay's call failed (``call_failed``) and
it was not started as a probe (its name ends in ``-probe<hash>``). A replay
that made no call (``NO_CALL_REASONS``: ``circuit_open``, ``probe_busy``,
``forced_open``, ``breaker_busy``, ``concurrency_limit``) and a failed probe,
the breaker's own business, count nothing, so a long outage never drains an order to the
dead-letter queue. Deferrals and receives count nothing either (the queue's
redrive policy is a safety net only).

Failures are per record. A record whose AWS call fails (a throttled
StartExecution, a failed send to the dead-letter queue, an unreadable breaker)
is a batch item failure and comes back; the rest of the batch is done.

Dead-letter moves are delete-after-move: the message is sent to the dead-letter
queue, then deleted from the fallback queue at once, so a batch redelivered
after a crash or a timeout no longer holds it. The moved message carries the
fallback message's id as the ``sourceMessageId`` attribute: should the
function stop between the send and the delete (the only window in which a
standard queue could get a second copy), the copies share that key, and
whoever drains the dead-letter queue keeps one per key.

Outcomes (``replay_outcomes``). The batch runs the replays it started to their
end, all at once (STANDARD: StartExecution, then DescribeExecution until each
ends; EXPRESS: StartSyncExecution), until a few seconds before the function's
timeout, and settles each: a charge or a decline is the order's final outcome,
recorded in the orders table and published as ``OrderCharged`` /
``OrderDeclined``; a replay that queued the order again leaves it to the new
message; a replay that failed (``InvalidOrder``, such as an idempotency key
reused with another amount, or any other error) gives the order up: it is
dead-lettered with the reason. Every dead-lettered order is recorded and
published as ``OrderDeadLettered``. A replay still running when the batch ends
is not settled: its message is hidden for ``UNFINISHED_HIDE_SECONDS`` and comes
back, and the next receive finds the same execution (its name is derived from
the message). The first time replay receives an order it cannot start yet, the
order's record says ``queued``.

The payment provider sees ``Idempotency-Key: <orderId>`` on every attempt, so
an order whose first charge was taken but timed out is charged exactly once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import random
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from breaker_record import KEY, BreakerMode
from order_record import DEFAULT_RECORD_DAYS, OrderStatus, Outcome
from replay_decisions import (
    PROBE_MARK,
    Action,
    BatchState,
    BreakerView,
    QueuedOrder,
    Settings,
    decide,
)
from replay_outcomes import EventsNotPublished, Finished, OrderBook, Runner, settle

SERVICE = "breakwater-replay"
logger = Logger(service=SERVICE)

TABLE_ENV = "BREAKER_TABLE"
STATE_MACHINE_ENV = "STATE_MACHINE_ARN"
QUEUE_ENV = "FALLBACK_QUEUE_URL"
DEAD_LETTER_ENV = "DEAD_LETTER_QUEUE_URL"
MAX_ATTEMPTS_ENV = "MAX_REPLAY_ATTEMPTS"
SERVICE_ENV = "SERVICE_NAME"
THRESHOLD_ENV = "FAILURE_THRESHOLD"
WINDOW_ENV = "FAILURE_WINDOW_SECONDS"
MINIMUM_CALLS_ENV = "MINIMUM_CALLS"
MODE_ENV = "BREAKER_MODE"  # the mode of a breaker whose record has none
ORDERS_ENV = "ORDERS_TABLE"
BUS_ENV = "EVENT_BUS_NAME"
WORKFLOW_TYPE_ENV = "WORKFLOW_TYPE"  # EXPRESS: replays run with StartSyncExecution
RECORD_DAYS_ENV = "ORDER_RECORD_DAYS"
NAMESPACE_ENV = "METRICS_NAMESPACE"
# Only for a handler run outside a stack (a unit test); tests/template/test_namespace.py pins it to the template's.
DEFAULT_METRICS_NAMESPACE = "Breakwater"

# Waiting for replays: the batch stops waiting this long before the function's timeout, to settle and answer.
SETTLE_MARGIN_SECONDS = 3.0
DEFAULT_WAIT_SECONDS = 20.0  # without a Lambda context (a unit test): how long a batch waits for its replays
# EXPRESS: StartSyncExecution's longest wait (the client's read timeout); started only with this much time left.
SYNC_WAIT_SECONDS = 20.0
UNFINISHED_HIDE_SECONDS = 5  # a replay still running when the batch ends: look again this much later
SYNC_CLIENT = "stepfunctions-sync"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

_clients: dict[str, Any] = {}


class ReplayError(Exception):
    """Base class of the replay function's own errors."""


class NotAnOrder(ReplayError):
    """A message on the fallback queue that is not a queued order."""


def settings_from_environment() -> Settings:
    required = (MAX_ATTEMPTS_ENV, THRESHOLD_ENV, WINDOW_ENV, SERVICE_ENV, ORDERS_ENV)
    missing = [n for n in required if not os.environ.get(n)]
    if missing:
        raise ReplayError(f"environment variable(s) not set: {', '.join(missing)} (template.yaml sets them)")
    return Settings(
        max_attempts=int(os.environ[MAX_ATTEMPTS_ENV]),
        failure_threshold=int(os.environ[THRESHOLD_ENV]),
        failure_window_seconds=int(os.environ[WINDOW_ENV]),
        default_service=os.environ[SERVICE_ENV],
        minimum_calls=int(os.environ.get(MINIMUM_CALLS_ENV) or 20),
        default_mode=os.environ.get(MODE_ENV) or BreakerMode.ENFORCE.value,
        express=os.environ.get(WORKFLOW_TYPE_ENV) == "EXPRESS",
        orders_table=os.environ[ORDERS_ENV],
        event_bus=os.environ.get(BUS_ENV) or "default",
        record_days=int(os.environ.get(RECORD_DAYS_ENV) or DEFAULT_RECORD_DAYS),
    )


def _client(service: str) -> Any:
    if service not in _clients:
        if service == SYNC_CLIENT:
            # No retry: a StartSyncExecution sent again would run the order again. The read timeout bounds the wait.
            config = Config(read_timeout=SYNC_WAIT_SECONDS, retries={"total_max_attempts": 1})
            _clients[service] = boto3.client("stepfunctions", config=config)
        else:
            _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Replay what may be replayed and settle it; report the rest, and each record that failed, as batch item
    failures."""
    replay = Replay(settings_from_environment(), now_ms=int(time.time() * 1000), deadline=_deadline(context))
    failures: list[dict[str, str]] = []
    started: list[Started] = []
    try:
        for record in event.get("Records", []):
            done = replay.attempt(record, functools.partial(replay.handle, record))
            if isinstance(done, Started):
                started.append(done)
            elif not done:
                failures.append({"itemIdentifier": record["messageId"]})
        for record, done in replay.finish(started):
            if not done:
                failures.append({"itemIdentifier": record["messageId"]})
    finally:
        # EphemeralMetrics: this invocation's counts only, nothing shared with another invocation.
        namespace = os.environ.get(NAMESPACE_ENV) or DEFAULT_METRICS_NAMESPACE
        metrics = EphemeralMetrics(namespace=namespace, service=SERVICE)
        for name, count in replay.counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
        metrics.flush_metrics()
    logger.info("replay batch done", extra={"counts": replay.counts, "deferred": len(failures)})
    return {"batchItemFailures": failures}


def _deadline(context: Any) -> float:
    """When (``time.monotonic``) the batch stops waiting for its replays, leaving time to settle and answer."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    seconds = remaining() / 1000 if remaining is not None else DEFAULT_WAIT_SECONDS + SETTLE_MARGIN_SECONDS
    return time.monotonic() + max(0.0, seconds - SETTLE_MARGIN_SECONDS)


def execution_name(order_id: str, origin: str, attempt: int, probe: bool = False) -> str:
    """``replay-<attempt>-<orderId>-[probe]<hash of the execution that queued it>``, at most 80 characters."""
    digest = hashlib.sha256(origin.encode()).hexdigest()[:12]
    safe = _NAME_UNSAFE.sub("_", order_id)[:48]
    return f"replay-{attempt}-{safe}-{PROBE_MARK if probe else ''}{digest}"


def _non_negative_int(body: dict[str, Any], name: str) -> int:
    value = body.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise NotAnOrder(f"{name} must be a non-negative integer")
    return value


def parse(record: dict[str, Any]) -> QueuedOrder:
    """A queued order from an SQS record; :class:`NotAnOrder` says what is wrong with anything else."""
    try:
        body = json.loads(record["body"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAnOrder(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
        raise NotAnOrder("body has no order")
    order = body["order"]
    if not isinstance(order.get("orderId"), str):
        raise NotAnOrder("order has no orderId")
    reason, execution = body.get("reason", ""), body.get("execution", "")
    if not isinstance(reason, str) or not isinstance(execution, str):
        raise NotAnOrder("reason and execution must be strings")
    receives = str(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
    return QueuedOrder(
        message_id=str(record.get("messageId", "")),
        order=order,
        reason=reason,
        attempt=_non_negative_int(body, "attempt"),
        execution=execution,
        queued_at_ms=_non_negative_int(body, "queuedAtMs"),
        receive_count=int(receives) if receives.isdigit() else 1,
    )


@dataclass(frozen=True)
class Started:
    """A message whose order this batch started (or found started) as a replay, waiting to be settled."""

    record: dict[str, Any]
    queued: QueuedOrder
    service: str
    name: str
    attempt: int


class Replay:
    """Carries out the decisions for one batch (the breaker is read once per service), then settles its replays."""

    def __init__(self, settings: Settings, now_ms: int, deadline: float | None = None) -> None:
        self.settings = settings
        self.now_ms = now_ms
        self.deadline = deadline if deadline is not None else time.monotonic() + DEFAULT_WAIT_SECONDS
        self.breakers: dict[str, BreakerView] = {}
        self.batch = BatchState()
        self.rng = random.Random()  # the deferrals' jitter (seeded from the OS: every environment its own)
        self.counts = {
            "OrdersReplayed": 0,
            "OrdersDeferred": 0,
            "OrdersDeadLettered": 0,
            "ProbesStarted": 0,
            "RecordsFailed": 0,
            "OrdersCharged": 0,
            "OrdersDeclined": 0,
            "ReplaysUnfinished": 0,
        }
        self._book: OrderBook | None = None

    @property
    def book(self) -> OrderBook:
        """The orders table and the event bus (clients made on first use)."""
        if self._book is None:
            self._book = OrderBook(
                _client("dynamodb"),
                _client("events"),
                self.settings.orders_table,
                self.settings.event_bus,
                self.settings.record_days,
            )
        return self._book

    def attempt(self, record: dict[str, Any], step: Callable[[], Any]) -> Any:
        """Run one record's ``step``; an AWS error fails this record only (it comes back), not the batch."""
        try:
            return step()
        except (ClientError, BotoCoreError, EventsNotPublished) as exc:
            self.counts["RecordsFailed"] += 1
            logger.warning("replay record failed", extra={"messageId": record.get("messageId"), "error": str(exc)})
            return False

    def handle(self, record: dict[str, Any]) -> bool | Started:
        """True when the message is done with (dead-lettered); False to see it again; :class:`Started` to settle."""
        try:
            queued = parse(record)
        except NotAnOrder as exc:
            self.dead_letter(record, f"not_an_order: {exc}")
            return True
        service = queued.order.get("serviceName") or self.settings.default_service
        decision = decide(queued, service, self.breaker(service), self.batch, self.settings, self.now_ms, self.rng)
        if decision.action is Action.DEAD_LETTER:
            self.dead_letter(record, decision.reason, queued, service)
            return True
        if decision.action is Action.DEFER:
            self.defer(record, decision.hide_seconds)
            if queued.receive_count == 1:  # the first time replay sees it: the order's record says queued
                self.note_queued(queued, service)
            return False
        probe = decision.action is Action.PROBE
        attempt = queued.spent + 1
        name = execution_name(queued.order["orderId"], queued.execution, attempt, probe)
        if probe:
            self.batch.probed.add(service)
            self.counts["ProbesStarted"] += 1
        else:
            self.batch.started[service] = self.batch.started.get(service, 0) + 1
        self.counts["OrdersReplayed"] += 1
        return Started(record, queued, service, name, attempt)

    def breaker(self, service: str) -> BreakerView:
        if service not in self.breakers:
            item = (
                _client("dynamodb").get_item(TableName=os.environ[TABLE_ENV], Key={KEY: {"S": service}}).get("Item", {})
            )
            self.breakers[service] = BreakerView.from_item(item)
        return self.breakers[service]

    def finish(self, started: list[Started]) -> list[tuple[dict[str, Any], bool]]:
        """Run the batch's replays to their end at once, then settle each: (its record, whether it is done)."""
        if not started:
            return []
        runner = Runner(
            _client(SYNC_CLIENT if self.settings.express else "stepfunctions"),
            os.environ[STATE_MACHINE_ENV],
            self.settings.express,
            sync_wait_seconds=SYNC_WAIT_SECONDS,
        )

        def run(replay: Started) -> Finished | Exception | None:
            try:
                return runner.run(replay.name, json.dumps(replay.queued.order, sort_keys=True), self.deadline)
            except (ClientError, BotoCoreError) as exc:
                return exc

        with ThreadPoolExecutor(max_workers=len(started)) as pool:
            ends = list(pool.map(run, started))
        results = []
        for replay, end in zip(started, ends, strict=True):
            if isinstance(end, Exception):
                self.counts["RecordsFailed"] += 1
                logger.warning("replay not started", extra={"messageId": replay.queued.message_id, "error": str(end)})
                results.append((replay.record, False))
                continue
            done = self.attempt(replay.record, functools.partial(self.settle, replay, end))
            results.append((replay.record, bool(done)))
        return results

    def settle(self, replay: Started, end: Finished | None) -> bool:
        """Tell what became of a replayed order; False (see it again) while its replay has not ended."""
        if end is None:
            self.counts["ReplaysUnfinished"] += 1
            self.defer(replay.record, UNFINISHED_HIDE_SECONDS)
            return False
        queued = replay.queued
        outcome = settle(end, queued.order, replay.service, replay.attempt, queued.message_id)
        if outcome is None:  # queued again by its replay: the new message carries the order on
            return True
        if outcome.status == OrderStatus.DEAD_LETTERED:
            self.dead_letter(replay.record, outcome.reason or "replay_failed", queued, replay.service, outcome)
            return True
        self.book.tell(outcome)
        self.counts["OrdersCharged" if outcome.status == OrderStatus.CHARGED else "OrdersDeclined"] += 1
        logger.info("replayed order settled", extra={"outcome": outcome.detail(self.now_ms)})
        return True

    def note_queued(self, queued: QueuedOrder, service: str) -> None:
        """Record that an order waits on the queue (bookkeeping: a failure is logged, the message is unchanged)."""
        outcome = Outcome(OrderStatus.QUEUED, queued.order["orderId"], service, queued.spent, reason=queued.reason)
        try:
            self.book.record(outcome)
        except (ClientError, BotoCoreError) as exc:
            logger.warning("queued order not recorded", extra={"orderId": outcome.order_id, "error": str(exc)})

    def defer(self, record: dict[str, Any], hide_seconds: int) -> None:
        self.counts["OrdersDeferred"] += 1
        queue_url = os.environ.get(QUEUE_ENV)
        if queue_url and record.get("receiptHandle"):
            # On failure the queue's own visibility timeout still brings the message back.
            with contextlib.suppress(ClientError, BotoCoreError):
                _client("sqs").change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=hide_seconds
                )

    def dead_letter(
        self,
        record: dict[str, Any],
        reason: str,
        queued: QueuedOrder | None = None,
        service: str = "",
        outcome: Outcome | None = None,
    ) -> None:
        """Move the message to the dead-letter queue, tell it (when it holds an order), then delete it here."""
        body = record.get("body", "")
        attributes = {"reason": {"DataType": "String", "StringValue": reason}}
        if record.get("messageId"):
            attributes["sourceMessageId"] = {"DataType": "String", "StringValue": str(record["messageId"])}
        _client("sqs").send_message(
            QueueUrl=os.environ[DEAD_LETTER_ENV],
            MessageBody=body if isinstance(body, str) and body else json.dumps(body),
            MessageAttributes=attributes,
        )
        if queued is not None:
            given_up = outcome or Outcome(
                OrderStatus.DEAD_LETTERED,
                queued.order["orderId"],
                service,
                queued.spent,
                reason=reason,
                message_id=queued.message_id,
            )
            self.book.tell(given_up)
        self.counts["OrdersDeadLettered"] += 1
        logger.warning("order dead-lettered", extra={"reason": reason, "messageId": record.get("messageId")})
        queue_url = os.environ.get(QUEUE_ENV)
        if queue_url and record.get("receiptHandle"):
            # Moved: a redelivered batch must not hold it. Should this fail, the event source deletes it too.
            with contextlib.suppress(ClientError, BotoCoreError):
                _client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
