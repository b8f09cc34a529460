"""The breaker record: its states, how to read it, and the operator overrides."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from breakwater.errors import BreakwaterError


class BreakerState(StrEnum):
    """The states a breaker record can be in (the ``state`` attribute)."""

    CLOSED = "CLOSED"
    """Calls flow; failures are counted in a window; the threshold trips it."""
    OPEN = "OPEN"
    """No calls until ``openUntilMs``; orders are queued (``circuit_open``)."""
    HALF_OPEN = "HALF_OPEN"
    """At most ``HalfOpenMaxProbes`` probe calls at once; successes close it, a failure reopens it."""
    FORCED_OPEN = "FORCED_OPEN"
    """Set by an operator: never call, always queue (``forced_open``)."""
    DISABLED = "DISABLED"
    """Set by an operator: always call, record nothing."""


class UnknownService(BreakwaterError):
    """A service name that is not a valid breaker key."""


@dataclass(frozen=True)
class Breaker:
    """One breaker record, decoded. A missing item is a CLOSED breaker with zero counts."""

    service: str
    state: str = BreakerState.CLOSED.value
    failure_count: int = 0
    window_start_ms: int = 0
    open_until_ms: int | None = None
    trip_count: int = 0
    probes_in_flight: int = 0
    probe_lease_until_ms: int | None = None
    half_open_successes: int = 0
    last_transition_ms: int | None = None
    version: int = 0
    exists: bool = True

    @classmethod
    def from_item(cls, service: str, item: dict[str, Any] | None) -> Breaker:
        if not item:
            return cls(service=service, exists=False)

        def number(name: str) -> int | None:
            value = item.get(name)
            return int(value["N"]) if value and "N" in value else None

        return cls(
            service=service,
            state=item.get("state", {}).get("S", BreakerState.CLOSED.value),
            failure_count=number("failureCount") or 0,
            window_start_ms=number("windowStartMs") or 0,
            open_until_ms=number("openUntilMs"),
            trip_count=number("tripCount") or 0,
            probes_in_flight=number("probesInFlight") or 0,
            probe_lease_until_ms=number("probeLeaseUntilMs"),
            half_open_successes=number("halfOpenSuccesses") or 0,
            last_transition_ms=number("lastTransitionMs"),
            version=number("version") or 0,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "serviceName": self.service,
            "state": self.state,
            "failureCount": self.failure_count,
            "openUntilMs": self.open_until_ms,
            "tripCount": self.trip_count,
            "probesInFlight": self.probes_in_flight,
            "halfOpenSuccesses": self.half_open_successes,
            "lastTransitionMs": self.last_transition_ms,
            "version": self.version,
        }


def valid_service(service: str) -> str:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
    if not 1 <= len(service) <= 128 or not set(service) <= allowed:
        raise UnknownService(f"service name {service!r}: must be 1 to 128 characters from A-Z a-z 0-9 . _ : -")
    return service


def read(dynamodb: Any, table: str, service: str) -> Breaker:
    item = dynamodb.get_item(TableName=table, Key={"serviceName": {"S": valid_service(service)}}, ConsistentRead=True)
    return Breaker.from_item(service, item.get("Item"))


def read_all(dynamodb: Any, table: str) -> list[Breaker]:
    breakers = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            breakers.append(Breaker.from_item(item["serviceName"]["S"], item))
    return sorted(breakers, key=lambda b: b.service)


def _now_ms() -> int:
    return int(time.time() * 1000)


def override(
    dynamodb: Any, table: str, service: str, state: BreakerState, now_ms: Callable[[], int] = _now_ms
) -> tuple[Breaker, Breaker]:
    """Set an operator state (FORCED_OPEN, DISABLED) or reset to CLOSED; returns (before, after).

    The write is one UpdateItem whose condition pins the version read, so an
    override never silently undoes a transition that happened meanwhile.
    """
    before = read(dynamodb, table, service)
    values: dict[str, Any] = {
        ":state": {"S": state.value},
        ":now": {"N": str(now_ms())},
        ":one": {"N": "1"},
        ":zero": {"N": "0"},
    }
    update = "SET #state = :state, lastTransitionMs = :now, version = if_not_exists(version, :zero) + :one"
    if state is BreakerState.CLOSED:
        update += (
            ", failureCount = :zero, tripCount = :zero, probesInFlight = :zero,"
            " halfOpenSuccesses = :zero REMOVE openUntilMs, probeLeaseUntilMs, windowStartMs"
        )
    if before.exists:
        condition = "version = :seen" if before.version else "attribute_not_exists(version)"
        if before.version:
            values[":seen"] = {"N": str(before.version)}
    else:
        condition = "attribute_not_exists(serviceName)"
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"serviceName": {"S": service}},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise BreakwaterError(f"breaker {service} changed while being overridden; run the command again") from None
        raise
    return before, read(dynamodb, table, service)
