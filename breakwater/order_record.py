"""The order record and the order events: what Breakwater tells about an order after its first answer.

An order's first execution answers its caller (charged, declined, queued, or a failed execution). An order
that was *queued* gets its final outcome later, from a replay, or never (it is dead-lettered); that
outcome is told two ways, both defined here:

* an EventBridge event, source ``breakwater``, detail-type :class:`OrderEvent` (``OrderCharged``,
  ``OrderDeclined``, ``OrderDeadLettered``), detail ``{orderId, serviceName, attempts, chargeId | reason,
  dedupKey, atMs}``. Delivery is at least once: consumers keep one event per ``dedupKey`` (:func:`dedup_key`);
* a record in the orders table (one item per order, key ``orderId``), which ``breakwater order ORDER_ID``
  and ``GET /orders/{orderId}`` answer from (:func:`answer`). Records expire (DynamoDB TTL on
  ``expiresAt``) ``OrderRecordDays`` after their last change.

Records are written off the hot path: by the replay function (``queued`` when it first receives an
order it cannot replay yet, then the final outcome) and by the checkout API when it answers 202 (``queued``).
The healthy path writes nothing: an order charged or declined by its first execution has no record (its
caller had the answer), and neither has an order queued a moment ago and not yet received by replay.

The standard library only: the replay and checkout functions carry this very file, as symbolic links that
``sam build`` (and the local build) copy into each artifact, as they do ``breaker_record.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

EVENT_SOURCE = "breakwater"
DEFAULT_RECORD_DAYS = 30


class Attribute(StrEnum):
    """Every attribute an order record may hold."""

    ORDER_ID = "orderId"
    """The key: the order's id."""
    SERVICE_NAME = "serviceName"
    """The breaker the order went through."""
    STATUS = "status"
    """An :class:`OrderStatus`."""
    CHARGE_ID = "chargeId"
    """``charged``: the provider's id of the charge."""
    REASON = "reason"
    """``queued``: why (``circuit_open``, ``call_failed``, ...); ``declined``: the provider's reason;
    ``dead_lettered``: why it was given up."""
    ATTEMPTS = "attempts"
    """Replay attempts counted against ``MaxReplayAttempts`` when the record was written (see :class:`Outcome`)."""
    UPDATED_AT_MS = "updatedAtMs"
    """When the record was written (epoch ms)."""
    EXPIRES_AT = "expiresAt"
    """The table's TTL attribute (epoch seconds): ``OrderRecordDays`` after ``updatedAtMs``."""


KEY = Attribute.ORDER_ID


class OrderStatus(StrEnum):
    """What the record says of an order."""

    QUEUED = "queued"
    """On the fallback queue: replay charges it once the breaker lets calls through."""
    CHARGED = "charged"
    """Charged (``chargeId``). Final: no later record replaces it."""
    DECLINED = "declined"
    """The provider refused the charge (``reason``). Final."""
    DEAD_LETTERED = "dead_lettered"
    """Given up and moved to the dead-letter queue (``reason``): an operator decides what becomes of it."""


UNKNOWN = "unknown"
"""Not a status: what a lookup answers for an order without a record."""
UNKNOWN_MESSAGE = (
    "no record of this order: either its first execution answered its caller (charged, declined or invalid:"
    " that answer is final), or it was queued moments ago and replay has not received it yet, or its record"
    " expired (OrderRecordDays after its last change)"
)


class OrderEvent(StrEnum):
    """The detail-types of the order events, one per final outcome."""

    CHARGED = "OrderCharged"
    """A queued order was charged by a replay: ``chargeId``."""
    DECLINED = "OrderDeclined"
    """A queued order was declined when replayed: ``reason``."""
    DEAD_LETTERED = "OrderDeadLettered"
    """A queued order was given up and moved to the dead-letter queue: ``reason``."""


EVENT_OF: dict[OrderStatus, OrderEvent] = {
    OrderStatus.CHARGED: OrderEvent.CHARGED,
    OrderStatus.DECLINED: OrderEvent.DECLINED,
    OrderStatus.DEAD_LETTERED: OrderEvent.DEAD_LETTERED,
}


@dataclass(frozen=True)
class Outcome:
    """What became of an order, as a record and (when final) an event.

    ``attempts``: the replay attempt that reached the outcome (``n`` of the replay execution
    ``replay-n-...``; attempts are spent only by replays whose call failed), or, for an order given up, the
    attempts it spent; 0 for an order not replayed yet. ``message_id``: the fallback queue message that
    carried the order.
    """

    status: OrderStatus
    order_id: str
    service_name: str
    attempts: int
    charge_id: str | None = None
    reason: str | None = None
    message_id: str = ""

    @property
    def final(self) -> bool:
        return self.status in EVENT_OF

    @property
    def event(self) -> OrderEvent:
        return EVENT_OF[self.status]

    def dedup_key(self) -> str:
        return dedup_key(self)

    def detail(self, at_ms: int) -> dict[str, Any]:
        """The event's detail."""
        detail: dict[str, Any] = {
            "orderId": self.order_id,
            "serviceName": self.service_name,
            "attempts": self.attempts,
        }
        if self.status == OrderStatus.CHARGED:
            detail["chargeId"] = self.charge_id
        else:
            detail["reason"] = self.reason
        detail["dedupKey"] = self.dedup_key()
        detail["atMs"] = at_ms
        return detail

    def item(self, now_ms: int, record_days: int) -> dict[str, Any]:
        """The record as a DynamoDB item (typed attribute values)."""
        item: dict[str, Any] = {
            Attribute.ORDER_ID: {"S": self.order_id},
            Attribute.SERVICE_NAME: {"S": self.service_name},
            Attribute.STATUS: {"S": self.status.value},
            Attribute.ATTEMPTS: {"N": str(self.attempts)},
            Attribute.UPDATED_AT_MS: {"N": str(now_ms)},
            Attribute.EXPIRES_AT: {"N": str(now_ms // 1000 + record_days * 86400)},
        }
        if self.charge_id:
            item[Attribute.CHARGE_ID] = {"S": self.charge_id}
        if self.reason:
            item[Attribute.REASON] = {"S": self.reason}
        return item


def dedup_key(outcome: Outcome) -> str:
    """``<orderId>#<status>#<what tells it apart>``: one key per fact, however often it is published.

    ``charged``: the chargeId (every replay of an order gets the same charge back from the provider, so every
    copy of the event has the same key); ``declined``: the reason; ``dead_lettered``: the id of the fallback
    message given up (the ``sourceMessageId`` attribute of its copy on the dead-letter queue).
    """
    if outcome.status == OrderStatus.CHARGED:
        tail = outcome.charge_id or ""
    elif outcome.status == OrderStatus.DEAD_LETTERED:
        tail = outcome.message_id
    else:
        tail = outcome.reason or ""
    return f"{outcome.order_id}#{outcome.status.value}#{tail}"


def put_item_request(table: str, outcome: Outcome, now_ms: int, record_days: int) -> dict[str, Any]:
    """The PutItem that records ``outcome``: a charge is never replaced, and ``queued`` never replaces a final one.

    ``charged`` always writes (the provider gives an order one charge); ``declined`` and ``dead_lettered``
    write unless the order is charged; ``queued`` writes only over nothing or another ``queued``.
    A write whose condition fails was not needed (``ConditionalCheckFailedException``: keep the record).
    """
    request: dict[str, Any] = {"TableName": table, "Item": outcome.item(now_ms, record_days)}
    if outcome.status == OrderStatus.CHARGED:
        return request
    keep = OrderStatus.QUEUED if outcome.status == OrderStatus.QUEUED else OrderStatus.CHARGED
    operator = "=" if outcome.status == OrderStatus.QUEUED else "<>"
    request["ConditionExpression"] = f"attribute_not_exists(#key) OR #status {operator} :status"
    request["ExpressionAttributeNames"] = {"#key": KEY.value, "#status": Attribute.STATUS.value}
    request["ExpressionAttributeValues"] = {":status": {"S": keep.value}}
    return request


def _plain(value: Any) -> Any:
    """A typed DynamoDB value ({"S": ...}, {"N": ...}) or a resource-style one (Decimal) as plain JSON."""
    if isinstance(value, Mapping):
        if "S" in value:
            return value["S"]
        if "N" in value:
            return int(Decimal(value["N"]))
    if isinstance(value, Decimal):
        return int(value)
    return value


def answer(order_id: str, item: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a lookup answers: the record as plain JSON, or ``status: unknown`` with why there may be none."""
    if not item:
        return {"orderId": order_id, "status": UNKNOWN, "message": UNKNOWN_MESSAGE}
    plain = {name: _plain(value) for name, value in item.items()}
    found: dict[str, Any] = {"orderId": plain.get(Attribute.ORDER_ID, order_id), "status": plain.get(Attribute.STATUS)}
    for name in (Attribute.SERVICE_NAME, Attribute.CHARGE_ID, Attribute.REASON, Attribute.ATTEMPTS):
        if name in plain:
            found[name.value] = plain[name]
    if Attribute.UPDATED_AT_MS in plain:
        at = dt.datetime.fromtimestamp(int(plain[Attribute.UPDATED_AT_MS]) / 1000, tz=dt.UTC)
        found["updatedAt"] = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return found
