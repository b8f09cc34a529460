"""Transitions function: publish every breaker transition (at least once), off the hot path.

Triggered by the breaker table's DynamoDB stream (new and old images). A record
whose ``state`` differs between the old and the new image is a transition
(opened, half-opened, closed, forced, disabled); every other write (a counted
failure, a probe slot) is ignored. For each transition it publishes

* an EventBridge event: source ``breakwater``, detail-type
  ``Breaker state changed``, detail ``{serviceName, from, to, version, atMs,
  dedupKey}``;
* the CloudWatch metric ``CircuitState`` (0 closed or disabled, 1 half-open,
  2 open or forced open) with dimension ``ServiceName``, in the namespace the
  template's ``MetricsNamespace`` gives (``METRICS_NAMESPACE``).

Delivery is at least once. The stream carries each item change once, in order
per item, and the workflow pays no extra state for it; but a batch that fails
is delivered again whole (the Lambda service retries it, bisects it, and after
``MaximumRetryAttempts`` sends it to the failure queue), so an event already
published may be published again. PutEvents answers 200 even when some entries
failed (``FailedEntryCount`` > 0): that is a failure here
(:class:`EventsNotPublished`), so the batch is retried rather than partly lost.
Consumers deduplicate on ``dedupKey`` (``<serviceName>#<version>``): a
breaker's ``version`` goes up by one at each transition, so the key names one
transition. Republishing the metric is harmless (its alarm reads a Maximum).

Also triggered once a minute by an EventBridge schedule (the heartbeat): it
reads every breaker record and publishes each one's current ``CircuitState``
(a breaker without a record, such as the stack's own ``ServiceName`` before
its first failure, is CLOSED). Transitions alone would leave the alarm wrong:
the metric's per-minute Maximum of a minute in which the breaker opened and
closed again is 2, and with no datapoint after it the alarm would stay in
ALARM until the next transition. The heartbeat gives every minute the state
the breaker is in, so the alarm clears the minute after the breaker closes.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from breaker_record import CIRCUIT_STATE, KEY, Attribute, BreakerMode, BreakerState, state_of, text, transition_of

logger = Logger(service="breakwater-transitions")

EVENT_SOURCE = "breakwater"
DETAIL_TYPE = "Breaker state changed"
NAMESPACE_ENV = "METRICS_NAMESPACE"
# Only for a handler run outside a stack (a unit test); tests/template/test_namespace.py pins it to the template's.
DEFAULT_METRICS_NAMESPACE = "Breakwater"
BUS_ENV = "EVENT_BUS_NAME"
TABLE_ENV = "BREAKER_TABLE"
SERVICE_ENV = "SERVICE_NAME"
MODE_ENV = "BREAKER_MODE"  # the mode of a breaker whose record has none (the BreakerMode parameter)
DEFAULT_MODE = BreakerMode.ENFORCE.value
SCHEDULED_EVENT = "Scheduled Event"
METRIC_DATA_PER_CALL = 500  # PutMetricData takes at most 1,000 datums per request

_clients: dict[str, Any] = {}


class TransitionsError(Exception):
    """Base class of the transitions function's own errors."""


class EventsNotPublished(TransitionsError):
    """PutEvents accepted the request but failed some entries: the batch must be delivered again."""


def _client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def dedup_key(service: str | None, version: int) -> str:
    """The key a consumer deduplicates transition events on: one breaker, one version."""
    return f"{service}#{version}"


def transitions(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The transitions in a batch of stream records, oldest first."""
    found = []
    for record in event.get("Records", []):
        images = record.get("dynamodb", {})
        moved = transition_of(images.get("OldImage"), images.get("NewImage"))
        if moved is None:
            continue
        found.append(
            {
                "serviceName": moved.service or None,
                "from": moved.before,
                "to": moved.after,
                "version": moved.version,
                "atMs": moved.at_ms,
                "mode": moved.mode or default_mode(),
            }
        )
    return found


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Stream records: publish each transition. The schedule's event: publish every breaker's state."""
    if event.get("detail-type") == SCHEDULED_EVENT:
        return heartbeat()
    return publish_transitions(event)


def default_mode() -> str:
    return os.environ.get(MODE_ENV) or DEFAULT_MODE


def current_breakers(dynamodb: Any, table: str, default_service: str | None) -> dict[str, tuple[str, str]]:
    """Every breaker's (state, mode), by service name (``default_service`` is CLOSED when it has no record)."""
    breakers: dict[str, tuple[str, str]] = {}
    if default_service:
        breakers[default_service] = (BreakerState.CLOSED.value, default_mode())
    scan: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": f"{KEY}, #state, #mode",
        "ExpressionAttributeNames": {"#state": Attribute.STATE.value, "#mode": Attribute.MODE.value},
    }
    while True:
        page = dynamodb.scan(**scan)
        for item in page.get("Items", []):
            service = text(item, KEY)
            if service:
                breakers[service] = (state_of(item), text(item, Attribute.MODE) or default_mode())
        if "LastEvaluatedKey" not in page:
            return breakers
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def current_states(dynamodb: Any, table: str, default_service: str | None) -> dict[str, str]:
    """Every breaker's state, by service name (``default_service`` is CLOSED when it has no record)."""
    return {service: state for service, (state, _) in current_breakers(dynamodb, table, default_service).items()}


def heartbeat() -> dict[str, int]:
    """Publish each breaker's current CircuitState (no event: nothing changed)."""
    breakers = current_breakers(_client("dynamodb"), os.environ[TABLE_ENV], os.environ.get(SERVICE_ENV))
    put_circuit_states(
        [datum for service, (state, mode) in sorted(breakers.items()) for datum in circuit_state(service, state, mode)]
    )
    logger.info("breaker states published", extra={"states": breakers})
    return {"published": len(breakers)}


def circuit_state(service: str, state: str, mode: str = DEFAULT_MODE, at_ms: int = 0) -> list[dict[str, Any]]:
    """The state metrics of one breaker; ``at_ms`` (when it moved) stamps them, else the time received.

    ``CircuitState`` by ``ServiceName`` (what the open-circuit alarm watches), and ``CircuitStateByMode`` by
    ``ServiceName`` and ``Mode``, so a dashboard shows what a SHADOW breaker would have done had it enforced.
    (A metric of its own, not a second dimension set of ``CircuitState``: the alarm's statistic stays one
    datum per breaker per move.)
    """
    stamp = {"Timestamp": datetime.fromtimestamp(at_ms / 1000, tz=UTC)} if at_ms else {}
    value = CIRCUIT_STATE.get(state, 0)
    service_only = [{"Name": "ServiceName", "Value": service}]
    return [
        {"MetricName": "CircuitState", "Dimensions": service_only, "Value": value, "Unit": "None", **stamp},
        {
            "MetricName": "CircuitStateByMode",
            "Dimensions": [*service_only, {"Name": "Mode", "Value": mode}],
            "Value": value,
            "Unit": "None",
            **stamp,
        },
    ]


def put_circuit_states(data: list[dict[str, Any]]) -> None:
    """PutMetricData in requests within the API's limit."""
    for start in range(0, len(data), METRIC_DATA_PER_CALL):
        _client("cloudwatch").put_metric_data(
            Namespace=os.environ.get(NAMESPACE_ENV) or DEFAULT_METRICS_NAMESPACE,
            MetricData=data[start : start + METRIC_DATA_PER_CALL],
        )


def publish_transitions(event: dict[str, Any]) -> dict[str, int]:
    """Publish each transition in a batch of stream records as an event and a metric; returns how many."""
    moves = transitions(event)
    if not moves:
        return {"published": 0}
    details = [{**move, "dedupKey": dedup_key(move["serviceName"], move["version"])} for move in moves]
    answer = _client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(detail),
                "EventBusName": os.environ.get(BUS_ENV, "default"),
            }
            for detail in details
        ]
    )
    failed = [
        {"dedupKey": detail["dedupKey"], "error": entry.get("ErrorCode"), "message": entry.get("ErrorMessage")}
        for detail, entry in zip(details, answer.get("Entries", []), strict=False)
        if entry.get("ErrorCode")
    ]
    if answer.get("FailedEntryCount", 0) or failed:
        logger.error("transition events not published", extra={"failed": failed})
        raise EventsNotPublished(
            f"PutEvents failed {answer.get('FailedEntryCount') or len(failed)} of {len(moves)} entries: {failed}"
        )
    # Stamped when the breaker moved, not when the stream was read.
    put_circuit_states(
        [
            datum
            for move in moves
            for datum in circuit_state(move["serviceName"] or "unknown", move["to"], move["mode"], move["atMs"])
        ]
    )
    logger.info("breaker transitions published", extra={"transitions": moves})
    return {"published": len(moves)}
