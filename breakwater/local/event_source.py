"""The Lambda service's pollers (SQS, DynamoDB stream) and EventBridge's schedules, for the local stack.

On AWS an event source mapping polls the queue, invokes the function with a
batch, deletes what succeeded and, with ``ReportBatchItemFailures``, leaves the
reported failures to come back after their visibility timeout. moto instead
invokes the function synchronously inside ``SendMessage`` and ignores partial
batch responses (the ``sqs_event_source`` patch turns that off). This poller
does what the service does, one batch at a time, so tests and the soak decide
when the queue is drained.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PollResult:
    """What one poll did."""

    received: int = 0
    deleted: int = 0
    failed: list[str] = field(default_factory=list)
    function_error: str | None = None


def function_error(response: dict[str, Any]) -> str | None:
    """The error type of a failed Lambda Invoke (reads the payload), or None when it succeeded."""
    if not response.get("FunctionError"):
        return None
    return str(json.loads(response["Payload"].read() or b"{}").get("errorType"))


def list_mappings(lambda_client: Any) -> list[dict[str, Any]]:
    """Every event source mapping of the account and region, across pages."""
    pages = lambda_client.get_paginator("list_event_source_mappings").paginate()
    return [mapping for page in pages for mapping in page.get("EventSourceMappings", [])]


def is_sqs(mapping: dict[str, Any]) -> bool:
    return ":sqs:" in str(mapping.get("EventSourceArn"))


def is_stream(mapping: dict[str, Any]) -> bool:
    return ":dynamodb:" in str(mapping.get("EventSourceArn"))


@dataclass
class SqsEventSource:
    """One event source mapping: a queue, a function, its batch settings."""

    sqs: Any
    lambda_client: Any
    queue_url: str
    queue_arn: str
    function_arn: str
    batch_size: int = 10
    report_batch_item_failures: bool = True
    region: str = "us-east-1"

    @classmethod
    def for_function(cls, lambda_client: Any, sqs: Any, function_arn: str) -> SqsEventSource:
        """Read the function's SQS mapping (created by the template) and build its poller."""
        found = [m for m in list_mappings(lambda_client) if m.get("FunctionArn") == function_arn and is_sqs(m)]
        if not found:
            raise LookupError(f"no SQS event source mapping for {function_arn}")
        return cls.from_mapping(lambda_client, sqs, found[0])

    @classmethod
    def from_mapping(cls, lambda_client: Any, sqs: Any, mapping: dict[str, Any]) -> SqsEventSource:
        """The poller of one SQS event source mapping (as ListEventSourceMappings describes it)."""
        arn = mapping["EventSourceArn"]
        return cls(
            sqs=sqs,
            lambda_client=lambda_client,
            queue_url=sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"],
            queue_arn=arn,
            function_arn=mapping["FunctionArn"],
            batch_size=int(mapping.get("BatchSize") or 10),
            report_batch_item_failures="ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or []),
            region=arn.split(":")[3],
        )

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda event for ``messages`` received from the queue, as the Lambda service builds it."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": {
                        k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType")}
                        for k, v in (m.get("MessageAttributes") or {}).items()
                    },
                    "md5OfBody": m.get("MD5OfBody"),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": self.region,
                }
                for m in messages
            ]
        }

    def poll_once(self) -> PollResult:
        """Receive one batch, invoke the function, delete what it handled."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        result = PollResult(received=len(messages))
        if not messages:
            return result
        response = self.lambda_client.invoke(
            FunctionName=self.function_arn, Payload=json.dumps(self.event(messages)).encode()
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            # The whole batch failed: every message comes back after its visibility timeout.
            result.function_error = str((payload or {}).get("errorType"))
            result.failed = [m["MessageId"] for m in messages]
            return result
        failed: set[str] = set()
        if self.report_batch_item_failures and isinstance(payload, dict):
            failed = {f["itemIdentifier"] for f in payload.get("batchItemFailures") or []}
        for message in messages:
            if message["MessageId"] in failed:
                result.failed.append(message["MessageId"])
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                result.deleted += 1
        return result

    def drain(self, max_polls: int = 1000) -> list[PollResult]:
        """Poll until a receive comes back empty (visible messages only)."""
        results = []
        for _ in range(max_polls):
            result = self.poll_once()
            results.append(result)
            if not result.received:
                break
        return results


@dataclass
class StreamEventSource:
    """A DynamoDB stream mapping: delivers new stream records to the function, in order, in batches.

    moto 5.2.5 does not route the DynamoDB Streams API, so this poller reads the
    table's stream shard from moto's backend in this process (the local stack
    runs in-process or serves from this process). As the Lambda service does, a
    batch the function fails is retried (the shard waits behind it) until
    ``MaximumRetryAttempts`` retries have failed; then a record of the batch goes
    to the mapping's ``OnFailure`` queue and the shard moves on. (The service
    would also bisect the batch with ``BisectBatchOnFunctionError``; this
    poller does not.)
    """

    lambda_client: Any
    table_name: str
    function_arn: str
    account_id: str = "123456789012"
    region: str = "us-east-1"
    batch_size: int = 10
    max_retry_attempts: int = -1  # -1: retry until the records expire, as the service's default
    on_failure_arn: str | None = None
    sqs: Any = None
    _delivered: int = 0
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _failed_attempts: int = 0

    @classmethod
    def for_function(
        cls, lambda_client: Any, function_arn: str, region: str = "us-east-1", sqs: Any = None
    ) -> StreamEventSource:
        found = [m for m in list_mappings(lambda_client) if m.get("FunctionArn") == function_arn and is_stream(m)]
        if not found:
            raise LookupError(f"no DynamoDB stream mapping for {function_arn}")
        return cls.from_mapping(lambda_client, found[0], sqs)

    @classmethod
    def from_mapping(cls, lambda_client: Any, mapping: dict[str, Any], sqs: Any = None) -> StreamEventSource:
        """The poller of one DynamoDB stream mapping (as ListEventSourceMappings describes it)."""
        arn = mapping["EventSourceArn"]
        return cls(
            lambda_client,
            arn.split(":table/", 1)[1].split("/stream/", 1)[0],
            mapping["FunctionArn"],
            arn.split(":")[4],
            arn.split(":")[3],
            int(mapping.get("BatchSize") or 10),
            int(mapping.get("MaximumRetryAttempts", -1)),
            mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
            sqs,
        )

    def _records(self) -> list[dict[str, Any]]:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[self.account_id][self.region].get_table(self.table_name)
        shard = table.stream_shard
        if shard is None:
            return []
        fresh = [record.to_json() for record in shard.items[self._delivered :]]
        self._delivered += len(fresh)
        stream_arn = f"{table.table_arn}/stream/{table.latest_stream_label}"
        for record in fresh:
            record["eventSourceARN"] = stream_arn
        return fresh

    def poll_once(self) -> PollResult:
        """Deliver the waiting records in order, in batches; a failing batch holds the shard (see the class)."""
        self._pending.extend(self._records())
        result = PollResult(received=len(self._pending))
        while self._pending:
            batch = self._pending[: self.batch_size]
            response = self.lambda_client.invoke(
                FunctionName=self.function_arn, Payload=json.dumps({"Records": batch}, default=str).encode()
            )
            result.function_error = function_error(response)
            if result.function_error:
                self._failed_attempts += 1
                if self.max_retry_attempts < 0 or self._failed_attempts <= self.max_retry_attempts:
                    break  # retried at the next poll
                self._send_to_on_failure(batch, result.function_error)
                result.failed.extend(str(r["dynamodb"]["SequenceNumber"]) for r in batch)
            else:
                result.deleted += len(batch)
            del self._pending[: len(batch)]
            self._failed_attempts = 0
        return result

    def _send_to_on_failure(self, batch: list[dict[str, Any]], error: str) -> None:
        """What the service sends to an OnFailure destination: where the batch was, not its records."""
        if not (self.on_failure_arn and self.sqs):
            return
        queue_url = self.sqs.get_queue_url(QueueName=self.on_failure_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in batch]
        body = {
            "requestContext": {
                "functionArn": self.function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": self._failed_attempts,
            },
            "responseContext": {"functionError": error},
            "version": "1.0",
            "DDBStreamBatchInfo": {
                "startSequenceNumber": sequence_numbers[0],
                "endSequenceNumber": sequence_numbers[-1],
                "batchSize": len(batch),
                "streamArn": batch[0]["eventSourceARN"],
            },
        }
        self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))


RULE_DISABLED = "DISABLED"  # an EventBridge rule's State that stops it firing
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    """Seconds between ticks of an EventBridge ``rate(...)`` expression (``rate(1 minute)``, ``rate(5 hours)``)."""
    match = _RATE.fullmatch(expression.strip())
    if not match:
        raise ValueError(f"unsupported schedule expression {expression!r}: the local stack runs rate(...) rules only")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        raise ValueError(f"invalid schedule expression {expression!r}: use rate(1 minute) or rate(N minutes), N > 1")
    return value * _UNIT_SECONDS[unit.rstrip("s")]


@dataclass
class ScheduleSource:
    """An EventBridge scheduled rule targeting a function: moto stores the rule, this fires it.

    The first tick is due at the first poll, then one every interval (a late poll
    fires once, not once per missed tick: EventBridge does not catch up). A
    disabled rule does not fire; a target's constant ``Input`` replaces the
    scheduled event, as on AWS.
    """

    events: Any
    lambda_client: Any
    function_arn: str
    rule_name: str
    rule_arn: str
    interval_seconds: int
    target_input: str | None = None
    region: str = "us-east-1"
    clock: Callable[[], float] = field(default=lambda: time.time())
    _due: float | None = None

    @classmethod
    def for_function(
        cls, events: Any, lambda_client: Any, function_arn: str, region: str = "us-east-1"
    ) -> ScheduleSource:
        """The one scheduled rule whose target is ``function_arn``."""
        found = []
        for page in events.get_paginator("list_rule_names_by_target").paginate(TargetArn=function_arn):
            for name in page["RuleNames"]:
                rule = events.describe_rule(Name=name)
                if rule.get("ScheduleExpression"):
                    found.append(rule)
        if len(found) != 1:
            raise LookupError(f"expected one scheduled rule for {function_arn}, found {len(found)}")
        rule = found[0]
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        target = next(t for t in targets if t["Arn"] == function_arn)
        return cls.from_rule(events, lambda_client, rule, target, region)

    @classmethod
    def from_rule(
        cls, events: Any, lambda_client: Any, rule: dict[str, Any], target: dict[str, Any], region: str = "us-east-1"
    ) -> ScheduleSource:
        """The schedule of one rule's Lambda target (ValueError for an expression the local stack cannot run)."""
        return cls(
            events,
            lambda_client,
            target["Arn"],
            rule["Name"],
            rule["Arn"],
            rate_seconds(rule["ScheduleExpression"]),
            target.get("Input"),
            region,
        )

    def event(self, now: float) -> dict[str, Any]:
        """The event EventBridge delivers for a scheduled rule."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.rule_arn.split(":")[4],
            "time": dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [self.rule_arn],
            "detail": {},
        }

    def poll_once(self) -> PollResult:
        """Invoke the function if a tick is due and the rule is enabled; ``received`` is 1 when it fired."""
        now = self.clock()
        if self._due is not None and now < self._due:
            return PollResult()
        self._due = now + self.interval_seconds
        if self.events.describe_rule(Name=self.rule_name).get("State") == RULE_DISABLED:
            return PollResult()
        payload = self.target_input if self.target_input is not None else json.dumps(self.event(now))
        response = self.lambda_client.invoke(FunctionName=self.function_arn, Payload=payload)
        return PollResult(received=1, function_error=function_error(response))


@dataclass
class EventSources:
    """What the AWS services would run beside a deployed stack: the replay queue's and the table stream's event
    source mappings, and the heartbeat's schedule (None for a template without one)."""

    replay: SqsEventSource
    transitions: StreamEventSource
    heartbeat: ScheduleSource | None

    @classmethod
    def for_stack(cls, client: Callable[[str], Any], outputs: dict[str, str], region: str) -> EventSources:
        """The sources of a deployed stack's functions, from its outputs; ``client(service)`` gives the clients."""
        try:
            heartbeat: ScheduleSource | None = cls.heartbeat_of(client, outputs, region)
        except (LookupError, ValueError):
            heartbeat = None
        return cls(cls.replay_of(client, outputs), cls.transitions_of(client, outputs, region), heartbeat)

    @staticmethod
    def replay_of(client: Callable[[str], Any], outputs: dict[str, str]) -> SqsEventSource:
        """The replay function's fallback-queue mapping."""
        return SqsEventSource.for_function(client("lambda"), client("sqs"), outputs["ReplayFunctionArn"])

    @staticmethod
    def transitions_of(client: Callable[[str], Any], outputs: dict[str, str], region: str) -> StreamEventSource:
        """The transitions function's table-stream mapping."""
        return StreamEventSource.for_function(
            client("lambda"), outputs["TransitionsFunctionArn"], region, client("sqs")
        )

    @staticmethod
    def heartbeat_of(client: Callable[[str], Any], outputs: dict[str, str], region: str) -> ScheduleSource:
        """The transitions function's schedule (LookupError for a template without one)."""
        return ScheduleSource.for_function(
            client("events"), client("lambda"), outputs["TransitionsFunctionArn"], region
        )
