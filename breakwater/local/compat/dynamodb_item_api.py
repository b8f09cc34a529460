"""Patch ``dynamodb_item_api``: moto's DynamoDB item operations answered what DynamoDB does not.

* A null item or key failed inside moto (``'NoneType' object has no attribute 'items'``) and a table name
  outside DynamoDB's pattern was looked up (``ResourceNotFoundException``); DynamoDB refuses both first.
  Recorded against AWS (tests/parity/recordings/dynamodb_errors.json)::

      ValidationException  1 validation error detected: Value null at 'item' failed to satisfy constraint:
                           Member must not be null
      ValidationException  1 validation error detected: Value '/x' at 'tableName' failed to satisfy constraint:
                           Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+

  A table name is 3 to 255 characters of ``[a-zA-Z0-9_.-]`` (developer guide, "Naming rules"); an ARN names
  a table too.
* UpdateItem answered a ``ConsumedCapacity`` nobody asked for and, for an item it created, ``UPDATED_NEW``
  with the key attributes too. DynamoDB returns ``ConsumedCapacity`` only for ``ReturnConsumedCapacity``
  ``TOTAL`` or ``INDEXES``, and ``UPDATED_OLD``/``UPDATED_NEW`` "only the updated attributes" (API reference,
  UpdateItem), never a key (an update expression cannot name one); the recorded result of ``updateItem`` with
  ``UPDATED_NEW`` is ``{"Attributes": {"S": ...}}`` alone (tests/parity/recordings/dynamodb.json).
"""

from __future__ import annotations

import re
from typing import Any

from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.responses import DynamoHandler

from breakwater.local.compat.base import Patch

TABLE_NAME_PATTERN = "[a-zA-Z0-9_.-]+"
TABLE_NAME_LENGTH = (3, 255)
# The members each item operation requires (API reference), as AWS names them in its messages.
REQUIRED = {
    "put_item": (("TableName", "tableName"), ("Item", "item")),
    "get_item": (("TableName", "tableName"), ("Key", "key")),
    "update_item": (("TableName", "tableName"), ("Key", "key")),
    "delete_item": (("TableName", "tableName"), ("Key", "key")),
}
WRITE_UNITS = 1.0


def _shown(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def table_name_violations(name: Any) -> list[str]:
    """What AWS says of a table name it refuses (nothing for a good name or an ARN)."""
    if not isinstance(name, str) or name.startswith("arn:"):
        return []
    violations = []
    low, high = TABLE_NAME_LENGTH
    if len(name) < low:
        violations.append(f"Member must have length greater than or equal to {low}")
    if len(name) > high:
        violations.append(f"Member must have length less than or equal to {high}")
    if not re.fullmatch(TABLE_NAME_PATTERN, name):
        violations.append(f"Member must satisfy regular expression pattern: {TABLE_NAME_PATTERN}")
    return [f"Value {_shown(name)} at 'tableName' failed to satisfy constraint: {text}" for text in violations]


def item_request_violations(operation: str, body: dict[str, Any]) -> list[str]:
    found = []
    for member, field in REQUIRED[operation]:
        if body.get(member) is None:
            found.append(f"Value null at '{field}' failed to satisfy constraint: Member must not be null")
        elif member == "TableName":
            found.extend(table_name_violations(body[member]))
    return found


def _validate(operation: str, body: dict[str, Any]) -> None:
    violations = item_request_violations(operation, body)
    if violations:
        count = len(violations)
        plural = "s" if count > 1 else ""
        raise MockValidationException(f"{count} validation error{plural} detected: {'; '.join(violations)}")


def _update_item_answer(request: dict[str, Any], body: dict[str, Any]) -> None:
    body.pop("ConsumedCapacity", None)
    asked = request.get("ReturnConsumedCapacity", "NONE")
    if asked in ("TOTAL", "INDEXES"):
        body["ConsumedCapacity"] = {"TableName": request.get("TableName", ""), "CapacityUnits": WRITE_UNITS}
        if asked == "INDEXES":
            body["ConsumedCapacity"]["Table"] = {"CapacityUnits": WRITE_UNITS}
    if request.get("ReturnValues") in ("UPDATED_OLD", "UPDATED_NEW") and "Attributes" in body:
        for key in request.get("Key") or {}:
            body["Attributes"].pop(key, None)
        if not body["Attributes"]:
            body.pop("Attributes")


def _operation(name: str) -> Any:
    original = getattr(DynamoHandler, name)

    def handler(self: Any) -> Any:
        _validate(name, self.body)
        answer = original(self)
        if name == "update_item":
            _update_item_answer(self.body, answer.result)
        return answer

    handler.__name__ = name
    return handler


PATCH = Patch(
    "dynamodb_item_api",
    "DynamoDB's item operations validate as DynamoDB does; UpdateItem answers only what was asked",
    [(DynamoHandler, name, _operation(name)) for name in REQUIRED],
)
