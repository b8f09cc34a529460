"""``breakwater order ORDER_ID``: an order's current state, from its record in the stack's orders table.

The record (``breakwater/order_record.py``) exists for orders that left the fast path: queued, then charged,
declined or dead-lettered by replay. An order without one is ``unknown``, and the answer says why there may
be none. The read is strongly consistent: an outcome just recorded (and published) is what the lookup says.
"""

from __future__ import annotations

import re

from breakwater.aws import Target, find_stack
from breakwater.errors import BreakwaterError
from breakwater.order_record import KEY, UNKNOWN, answer

ORDER_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TABLE_OUTPUT = "OrdersTableName"
FIELDS = (("chargeId", "charge"), ("reason", "reason"), ("serviceName", "service"), ("attempts", "attempts"))


class InvalidOrderId(BreakwaterError):
    """An order id the workflow would never accept: no record can have it."""


def order_id(text: str) -> str:
    """An order id as the execution input defines it (1 to 128 characters from A-Z a-z 0-9 . _ : -)."""
    if not ORDER_ID.fullmatch(text):
        raise InvalidOrderId(f"{text!r} is not an order id: 1 to 128 characters from A-Z a-z 0-9 . _ : -")
    return text


def lookup(target: Target, stack_name: str, order: str) -> dict[str, object]:
    """The order's record as plain JSON, or ``status: unknown`` and why (``order_record.answer``)."""
    table = find_stack(target, stack_name)[TABLE_OUTPUT]
    item = (
        target.client("dynamodb")
        .get_item(TableName=table, Key={KEY.value: {"S": order}}, ConsistentRead=True)
        .get("Item")
    )
    return answer(order, item)


def describe(found: dict[str, object]) -> list[str]:
    """The answer as lines for a terminal: the status first, then what the record holds."""
    lines = [f"order {found['orderId']}: {found['status']}"]
    if found["status"] == UNKNOWN:
        return [*lines, f"  {found['message']}"]
    lines += [f"  {label:<9} {found[name]}" for name, label in FIELDS if name in found]
    if "updatedAt" in found:
        lines.append(f"  {'updated':<9} {found['updatedAt']}")
    return lines
