"""Replay function: bring queued orders back once the breaker lets calls through.

Triggered by the fallback queue (SQS event source, partial batch responses,
bounded concurrency). For each message:

* the breaker is read once per service per batch (eventually consistent);
* while it is CLOSED (or DISABLED) the order is started again as a new
  execution whose name is derived from the message, so a redelivered message
  never starts a second execution (StartExecution with the same name and input
  is idempotent);
* while it is OPEN, HALF_OPEN or FORCED_OPEN the message is reported as a batch
  item failure and hidden for an exponentially growing, jittered time, so it
  comes back later without hammering the queue;
* except that once an OPEN breaker's cooldown has passed, or a HALF_OPEN one
  has no probe in flight, one order per service per batch is started: the
  backlog itself probes the provider. Without it a breaker that opened just
  before traffic went quiet would stay OPEN until the next new order, and the
  queued orders would wait (and finally be dead-lettered by the redrive policy)
  without a single probe. The workflow still admits probes atomically, so a
  replay that finds the slot taken is queued again, never called twice;
* right after the breaker closes (``RAMP_SECONDS``), at most ``RAMP_LIMIT``
  orders per batch are replayed: a provider that just recovered is not
  stampeded by the backlog;
* an order that has been replayed ``MAX_REPLAY_ATTEMPTS`` times, or a message
  that is not a queued order, goes to the dead-letter queue with the reason.

The payment provider sees ``Idempotency-Key: <orderId>`` on every attempt, so
an order whose first charge was taken but timed out is charged exactly once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from botocore.exceptions import ClientError

SERVICE = "breakwater-replay"
logger = Logger(service=SERVICE)
METRICS_NAMESPACE = "Breakwater"

TABLE_ENV = "BREAKER_TABLE"
STATE_MACHINE_ENV = "STATE_MACHINE_ARN"
QUEUE_ENV = "FALLBACK_QUEUE_URL"
DEAD_LETTER_ENV = "DEAD_LETTER_QUEUE_URL"
MAX_ATTEMPTS_ENV = "MAX_REPLAY_ATTEMPTS"
SERVICE_ENV = "SERVICE_NAME"

CALLS_ALLOWED = frozenset({"CLOSED", "DISABLED"})
RAMP_SECONDS = 30.0
RAMP_LIMIT = 2
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 900
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

_clients: dict[str, Any] = {}


class ReplayError(Exception):
    """Base class of the replay function's own errors."""


class NotAnOrder(ReplayError):
    """A message on the fallback queue that is not a queued order."""


def _client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Replay what may be replayed; report the rest as batch item failures."""
    replay = Replay(now_ms=int(time.time() * 1000))
    failures = []
    try:
        for record in event.get("Records", []):
            if not replay.handle(record):
                failures.append({"itemIdentifier": record["messageId"]})
    finally:
        # EphemeralMetrics: this invocation's counts only, nothing shared with another invocation.
        metrics = EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SERVICE)
        for name, count in replay.counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
        metrics.flush_metrics()
    logger.info("replay batch done", extra={"counts": replay.counts, "deferred": len(failures)})
    return {"batchItemFailures": failures}


def execution_name(order_id: str, origin: str, attempt: int) -> str:
    """``replay-<attempt>-<orderId>-<hash of the execution that queued it>``, at most 80 characters."""
    digest = hashlib.sha256(origin.encode()).hexdigest()[:12]
    safe = _NAME_UNSAFE.sub("_", order_id)[:48]
    return f"replay-{attempt}-{safe}-{digest}"


def parse(record: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(record["body"])
    except (KeyError, TypeError, ValueError) as exc:
        raise NotAnOrder(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
        raise NotAnOrder("body has no order")
    order = body["order"]
    if not isinstance(order.get("orderId"), str):
        raise NotAnOrder("order has no orderId")
    attempt = body.get("attempt", 0)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise NotAnOrder("attempt must be a non-negative integer")
    return body


class Replay:
    """The decisions for one batch (the breaker is read once per service)."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.max_attempts = int(os.environ.get(MAX_ATTEMPTS_ENV, "5"))
        self.default_service = os.environ.get(SERVICE_ENV, "payment-api")
        self.breakers: dict[str, dict[str, Any]] = {}
        self.started_in_ramp = 0
        self.probed: set[str] = set()
        self.counts = {"OrdersReplayed": 0, "OrdersDeferred": 0, "OrdersDeadLettered": 0, "ProbesStarted": 0}

    def handle(self, record: dict[str, Any]) -> bool:
        """True when the message is done with (replayed or dead-lettered); False to see it again."""
        try:
            body = parse(record)
        except NotAnOrder as exc:
            self.dead_letter(record.get("body", ""), f"not_an_order: {exc}")
            return True
        order = body["order"]
        if body.get("attempt", 0) >= self.max_attempts:
            self.dead_letter(record["body"], "replay_attempts_exhausted")
            return True
        service = order.get("serviceName") or self.default_service
        breaker = self.breaker(service)
        if breaker.get("state", "CLOSED") not in CALLS_ALLOWED:
            if not self.may_probe(service, breaker):
                self.back_off(record)
                return False
            self.probed.add(service)
            self.counts["ProbesStarted"] += 1
        elif self.in_ramp(breaker):
            if self.started_in_ramp >= RAMP_LIMIT:
                self.back_off(record, base=2)
                return False
            self.started_in_ramp += 1
        self.start(order, body)
        self.counts["OrdersReplayed"] += 1
        return True

    def breaker(self, service: str) -> dict[str, Any]:
        if service not in self.breakers:
            item = (
                _client("dynamodb")
                .get_item(TableName=os.environ[TABLE_ENV], Key={"serviceName": {"S": service}})
                .get("Item", {})
            )
            self.breakers[service] = {k: v.get("S", v.get("N")) for k, v in item.items()}
        return self.breakers[service]

    def may_probe(self, service: str, breaker: dict[str, Any]) -> bool:
        """One order per service per batch may go through as the probe of a breaker that awaits one."""
        if service in self.probed:
            return False
        state = breaker.get("state")
        if state == "OPEN":
            return int(breaker.get("openUntilMs") or 0) <= self.now_ms
        if state == "HALF_OPEN":
            lease_expired = int(breaker.get("probeLeaseUntilMs") or 0) <= self.now_ms
            return int(breaker.get("probesInFlight") or 0) == 0 or lease_expired
        return False  # FORCED_OPEN waits for an operator

    def in_ramp(self, breaker: dict[str, Any]) -> bool:
        last = breaker.get("lastTransitionMs")
        return last is not None and self.now_ms - int(last) < RAMP_SECONDS * 1000

    def start(self, order: dict[str, Any], body: dict[str, Any]) -> None:
        attempt = int(body.get("attempt", 0)) + 1
        name = execution_name(order["orderId"], str(body.get("execution", "")), attempt)
        try:
            _client("stepfunctions").start_execution(
                stateMachineArn=os.environ[STATE_MACHINE_ENV], name=name, input=json.dumps(order, sort_keys=True)
            )
        except ClientError as exc:
            # Already started for this message (a redelivery): nothing to do.
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise

    def back_off(self, record: dict[str, Any], base: int = BACKOFF_BASE_SECONDS) -> None:
        self.counts["OrdersDeferred"] += 1
        receives = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        ceiling = min(BACKOFF_MAX_SECONDS, base * 2 ** min(receives - 1, 16))
        hide = random.randint(max(1, ceiling // 2), max(1, ceiling))
        queue_url = os.environ.get(QUEUE_ENV)
        if queue_url and record.get("receiptHandle"):
            # On failure the queue's own visibility timeout still brings the message back.
            with contextlib.suppress(ClientError):
                _client("sqs").change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=hide
                )

    def dead_letter(self, body: str, reason: str) -> None:
        self.counts["OrdersDeadLettered"] += 1
        logger.warning("order dead-lettered", extra={"reason": reason})
        _client("sqs").send_message(
            QueueUrl=os.environ[DEAD_LETTER_ENV],
            MessageBody=body if isinstance(body, str) else json.dumps(body),
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason}},
        )
