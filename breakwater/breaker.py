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


class NoSuchBreaker(BreakwaterError):
    """The service has no breaker record (and the command does not create one)."""


class BreakerChanged(BreakwaterError):
    """The record changed between the read and the conditional write that relied on it."""


# Every attribute a breaker record may hold (DESIGN.md, "The breaker record"), the key included.
RECORD_ATTRIBUTES = (
    "serviceName",
    "state",
    "failureCount",
    "callCount",
    "windowStartMs",
    "openUntilMs",
    "tripCount",
    "probesInFlight",
    "probeLeaseUntilMs",
    "halfOpenSuccesses",
    "lastTransitionMs",
    "version",
    "mode",
)


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
    call_count: int = 0
    mode: str | None = None
    """The record's ``mode`` (ENFORCE or SHADOW); None: the stack's ``BreakerMode`` applies."""
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
            call_count=number("callCount") or 0,
            mode=item.get("mode", {}).get("S"),
        )

    @property
    def failure_rate(self) -> str:
        """Failures per counted call in the window, as the rate rule sees them (``-`` when none are counted)."""
        return f"{100 * self.failure_count / self.call_count:.0f}%" if self.call_count else "-"

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
            "callCount": self.call_count,
            "mode": self.mode,
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
    dynamodb: Any,
    table: str,
    service: str,
    state: BreakerState,
    now_ms: Callable[[], int] = _now_ms,
    *,
    create: bool = True,
) -> tuple[Breaker, Breaker]:
    """Set an operator state (FORCED_OPEN, DISABLED) or reset to CLOSED; returns (before, after).

    The write is one UpdateItem whose condition pins the version read, so an
    override never silently undoes a transition that happened meanwhile. With
    ``create`` False a service without a record is refused (:class:`NoSuchBreaker`).
    """
    before = read(dynamodb, table, service)
    if not before.exists and not create:
        raise NoSuchBreaker(
            f"breaker {service} has no record: no order has used it yet. Check the name (breakwater status lists"
            " the breakers), or give --create to start it"
        )
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
            " halfOpenSuccesses = :zero REMOVE openUntilMs, probeLeaseUntilMs, windowStartMs, callCount"
        )
    _update_as_read(dynamodb, table, before, update, {"#state": "state"}, values, "being overridden")
    return before, read(dynamodb, table, service)


def _update_as_read(
    dynamodb: Any, table: str, before: Breaker, update: str, names: dict[str, str], values: dict[str, Any], doing: str
) -> None:
    """One UpdateItem that holds only while the record is as ``before`` read it (its ``version``, or absent)."""
    values = dict(values)
    if not before.exists:
        condition = "attribute_not_exists(serviceName)"
    elif before.version:
        condition, values[":seen"] = "version = :seen", {"N": str(before.version)}
    else:
        condition = "attribute_not_exists(version)"
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"serviceName": {"S": before.service}},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise BreakerChanged(f"breaker {before.service} changed while {doing}; run the command again") from None
        raise


class BreakerMode(StrEnum):
    """How a breaker acts on its decisions (the ``mode`` attribute; none: the stack's ``BreakerMode``)."""

    ENFORCE = "ENFORCE"
    """Queue where the breaker says so (``circuit_open``, ``probe_busy``)."""
    SHADOW = "SHADOW"
    """Decide and record as ENFORCE, but call where ENFORCE would queue, and record nothing for that call."""


def set_mode(dynamodb: Any, table: str, service: str, mode: BreakerMode) -> tuple[Breaker, Breaker]:
    """Set a breaker's mode, leaving its state and counts alone; returns (before, after).

    One conditional UpdateItem: it holds only while the record is as read (the same ``version``, or still
    absent), so a mode change never lands on a record that moved meanwhile (:class:`BreakerChanged`).
    """
    before = read(dynamodb, table, service)
    values = {":mode": {"S": mode.value}}
    _update_as_read(dynamodb, table, before, "SET #mode = :mode", {"#mode": "mode"}, values, "its mode was set")
    return before, read(dynamodb, table, service)


def forget(dynamodb: Any, table: str, service: str) -> Breaker:
    """Delete a breaker's record, only as it was read: returns what was deleted.

    The DeleteItem's condition requires every attribute to hold the value read
    (and every other record attribute to be absent), so a failure counted or a
    transition made meanwhile keeps the record (:class:`BreakerChanged`).
    """
    key = {"serviceName": {"S": valid_service(service)}}
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    if not item:
        raise NoSuchBreaker(f"breaker {service} has no record: nothing to forget")
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses = []
    for i, attribute in enumerate(sorted(set(item) | set(RECORD_ATTRIBUTES))):
        names[f"#a{i}"] = attribute
        if attribute in item:
            values[f":v{i}"] = item[attribute]
            clauses.append(f"#a{i} = :v{i}")
        else:
            clauses.append(f"attribute_not_exists(#a{i})")
    try:
        dynamodb.delete_item(
            TableName=table,
            Key=key,
            ConditionExpression=" AND ".join(clauses),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise BreakerChanged(f"breaker {service} changed since it was read; nothing deleted") from None
        raise
    return Breaker.from_item(service, item)
