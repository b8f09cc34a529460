"""Reading breaker records, and the operator's writes (the record itself: :mod:`breakwater.breaker_record`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from breakwater.breaker_record import ATTRIBUTES, KEY, Breaker, BreakerMode, BreakerState
from breakwater.errors import BreakwaterError

__all__ = ["MODES", "OVERRIDES", "Breaker", "BreakerMode", "BreakerState"]  # the record's, for this module's callers

# The operator's commands (the CLI's, the console's buttons): the state each override sets, the mode each sets.
OVERRIDES = {"trip": BreakerState.FORCED_OPEN, "reset": BreakerState.CLOSED, "disable": BreakerState.DISABLED}
MODES = {"shadow": BreakerMode.SHADOW, "enforce": BreakerMode.ENFORCE}


class UnknownService(BreakwaterError):
    """A service name that is not a valid breaker key."""


class NoSuchBreaker(BreakwaterError):
    """The service has no breaker record (and the command does not create one)."""


class BreakerChanged(BreakwaterError):
    """The record changed between the read and the conditional write that relied on it."""


def valid_service(service: str) -> str:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
    if not 1 <= len(service) <= 128 or not set(service) <= allowed:
        raise UnknownService(f"service name {service!r}: must be 1 to 128 characters from A-Z a-z 0-9 . _ : -")
    return service


def read(dynamodb: Any, table: str, service: str) -> Breaker:
    item = dynamodb.get_item(TableName=table, Key={KEY: {"S": valid_service(service)}}, ConsistentRead=True)
    return Breaker.from_item(item.get("Item"), service)


def read_all(dynamodb: Any, table: str) -> list[Breaker]:
    breakers = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page.get("Items", []):
            breakers.append(Breaker.from_item(item))
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
            Key={KEY: {"S": before.service}},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise BreakerChanged(f"breaker {before.service} changed while {doing}; run the command again") from None
        raise


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
    key = {KEY: {"S": valid_service(service)}}
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    if not item:
        raise NoSuchBreaker(f"breaker {service} has no record: nothing to forget")
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses = []
    for i, attribute in enumerate(sorted(set(item) | set(ATTRIBUTES))):
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
    return Breaker.from_item(item, service)
