"""Patch ``dynamodb_atomic_writes``: moto checks a ConditionExpression and then writes without a lock: two threads
can both pass ``probesInFlight < :max``. DynamoDB evaluates the condition and the write atomically; so do we.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

from breakwater.local.compat.base import Patch

# Reads take the lock too: a GetItem never sees an UpdateItem half applied.
_DYNAMODB_WRITE_LOCK = threading.RLock()
_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item")


def _atomic(method: Any) -> Any:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_WRITE_LOCK:
            return method(self, *args, **kwargs)

    write.__name__ = method.__name__
    write.__doc__ = method.__doc__
    return write


def _dynamodb_atomic_targets() -> list[tuple[Any, str, Any]]:
    return [(DynamoDBBackend, name, _atomic(getattr(DynamoDBBackend, name))) for name in _DYNAMODB_WRITES]


PATCH = Patch(
    "dynamodb_atomic_writes",
    "conditional writes check and write as one step, as DynamoDB does",
    _dynamodb_atomic_targets(),
)
