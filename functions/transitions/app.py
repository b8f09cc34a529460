"""Transitions function: publish every breaker transition, exactly once, off the hot path.

Triggered by the breaker table's DynamoDB stream (new and old images). A record
whose ``state`` differs between the old and the new image is a transition
(opened, half-opened, closed, forced, disabled); every other write (a counted
failure, a probe slot) is ignored. For each transition it publishes

* an EventBridge event: source ``breakwater``, detail-type
  ``Breaker state changed``, detail ``{serviceName, from, to, version, atMs}``;
* a CloudWatch metric ``Breakwater/CircuitState`` (0 closed or disabled,
  1 half-open, 2 open or forced open) with dimension ``ServiceName``.

Because the stream carries each item change once, in order per item, each
transition is published once, and the workflow pays no extra state for it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools import Logger

logger = Logger(service="breakwater-transitions")

EVENT_SOURCE = "breakwater"
DETAIL_TYPE = "Breaker state changed"
NAMESPACE_ENV = "METRICS_NAMESPACE"
BUS_ENV = "EVENT_BUS_NAME"
CIRCUIT_STATE = {"CLOSED": 0, "DISABLED": 0, "HALF_OPEN": 1, "OPEN": 2, "FORCED_OPEN": 2}

_clients: dict[str, Any] = {}


def _client(service: str) -> Any:
    if service not in _clients:
        _clients[service] = boto3.client(service)  # type: ignore[call-overload]
    return _clients[service]


def _value(image: dict[str, Any], name: str) -> str | None:
    attribute = image.get(name) or {}
    return attribute.get("S") or attribute.get("N")


def transitions(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The transitions in a batch of stream records, oldest first."""
    found = []
    for record in event.get("Records", []):
        images = record.get("dynamodb", {})
        new, old = images.get("NewImage") or {}, images.get("OldImage") or {}
        before, after = _value(old, "state") or "CLOSED", _value(new, "state")
        if after is None or after == before:
            continue
        found.append(
            {
                "serviceName": _value(new, "serviceName"),
                "from": before,
                "to": after,
                "version": int(_value(new, "version") or 0),
                "atMs": int(_value(new, "lastTransitionMs") or 0),
            }
        )
    return found


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Publish each transition as an event and a metric; returns how many."""
    moves = transitions(event)
    if not moves:
        return {"published": 0}
    _client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(move),
                "EventBusName": os.environ.get(BUS_ENV, "default"),
            }
            for move in moves
        ]
    )
    _client("cloudwatch").put_metric_data(
        Namespace=os.environ.get(NAMESPACE_ENV, "Breakwater"),
        MetricData=[
            {
                "MetricName": "CircuitState",
                "Dimensions": [{"Name": "ServiceName", "Value": move["serviceName"] or "unknown"}],
                "Value": CIRCUIT_STATE.get(move["to"], 0),
                "Unit": "None",
                # When the breaker moved, not when the stream was read.
                **({"Timestamp": datetime.fromtimestamp(move["atMs"] / 1000, tz=UTC)} if move["atMs"] else {}),
            }
            for move in moves
        ],
    )
    logger.info("breaker transitions published", extra={"transitions": moves})
    return {"published": len(moves)}
