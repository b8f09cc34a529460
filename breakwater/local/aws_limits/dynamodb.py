"""DynamoDB's throughput, metered as DynamoDB meters it: capacity units per request, per partition key and per table.

Units, from "Read and write operations" in the DynamoDB developer guide:

* a read of up to 4 KB is one unit strongly consistent, half a unit eventually consistent (a missing item
  costs the same); larger items cost a unit (or half) per started 4 KB;
* a write costs one unit per started KB of the larger of the item before and after it, at least one;
  a write whose condition fails still costs the units of the item as it stands (one if there is none);
* a transactional request costs twice as much.

Each partition key has its own bucket (a single item is never split: 3,000 read and 1,000 write units per
second at most) and each table one for the table-level quota. A bucket holds one second of its rate; a write
bucket at least ``MIN_BURST_UNITS``. A throttled request consumes nothing and changes nothing.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from breakwater.local.aws_limits.buckets import Clock, TokenBucket
from breakwater.local.aws_limits.errors import dynamodb_throttled
from breakwater.local.aws_limits.observed import Observed
from breakwater.quotas import Limits

# A trip writes the threshold's counts and the trip itself at once, whatever the rate: a handful of units, nothing
# against a partition's 1,000 per second on AWS. Scaled by K, a bucket could hold fewer units than that handful;
# it keeps at least this many, so the model does not throttle a breaker event only because K shrank the bucket.
# Reads need no such floor: each order reads once, so reads scale with the rate exactly, and a floor would let a
# key run past its read ceiling for a while (at K = 650, 10 units hide 26 s of 6,500 orders/s).
MIN_BURST_UNITS = 10.0
READ_BLOCK = 4096
WRITE_BLOCK = 1024
READ = "Read"
WRITE = "Write"

# Operations on one item, and whether they read or write it.
SINGLE_ITEM = {"get_item": READ, "put_item": WRITE, "update_item": WRITE, "delete_item": WRITE}


def read_units(size: int, consistent: bool) -> float:
    """Units of one read of an item of ``size`` bytes (0 for a missing item: it still costs one block)."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    return blocks * (1.0 if consistent else 0.5)


def write_units(size: int) -> float:
    """Units of one write of an item whose larger image is ``size`` bytes."""
    return float(max(1, math.ceil(size / WRITE_BLOCK)))


@dataclass(frozen=True)
class Charge:
    """Units taken for one request: where, how many, and of what."""

    table: str
    key: str
    kind: str
    units: float


class DynamoDbThroughput:
    """Per-key and per-table buckets of read and write units; the throttle when one runs dry."""

    def __init__(self, limits: Limits, observed: Observed, clock: Clock) -> None:
        self._limits = limits
        self._observed = observed
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, table: str, key: str, kind: str) -> TokenBucket:
        """The bucket of one partition key (``key``) or, with ``key`` "", of the table's quota."""
        with self._lock:
            bucket = self._buckets.get((table, key, kind))
            if bucket is None:
                quota = {
                    (True, READ): "dynamodb.table_read_units",
                    (True, WRITE): "dynamodb.table_write_units",
                    (False, READ): "dynamodb.partition_read_units",
                    (False, WRITE): "dynamodb.partition_write_units",
                }[(key == "", kind)]
                rate = self._limits.value(quota)
                # One second of the rate; a write bucket never fewer units than a breaker event writes at once.
                floor = min(self._limits.aws(quota), MIN_BURST_UNITS) if kind == WRITE else 0.0
                capacity = max(rate, floor)
                bucket = self._buckets[(table, key, kind)] = TokenBucket(rate, capacity, self._clock)
            return bucket

    def admit(self, table: Any, key: str | None, kind: str, units: float, transactional: bool = False) -> Charge:
        """Take ``units`` from the key's and the table's buckets, or raise DynamoDB's throttle (taking nothing).

        ``key`` None meters the table's quota only (a Scan or Query over many keys).
        """
        units *= 2 if transactional else 1
        name = table.name
        partition = self._bucket(name, key, kind) if key is not None else None
        whole = self._bucket(name, "", kind)
        on_demand = (getattr(table, "billing_mode", None) or "PAY_PER_REQUEST") == "PAY_PER_REQUEST"
        if partition is not None and not partition.take(units):
            error = dynamodb_throttled(kind, table.table_arn, on_demand, "KeyRange")
            self._observed.throttle("DynamoDB", error.aws_code, f"Table{kind}KeyRangeThroughputExceeded", name)
            raise error
        if not whole.take(units):
            if partition is not None:
                partition.give(units)
            error = dynamodb_throttled(kind, table.table_arn, on_demand, "Account")
            self._observed.throttle("DynamoDB", error.aws_code, f"Table{kind}AccountLimitExceeded", name)
            raise error
        self._observed.consumed(name, key or "", kind, units)
        return Charge(name, key or "", kind, units)

    def settle(self, charge: Charge, actual: float) -> None:
        """Charge the difference once a write's new image is known to be larger than estimated."""
        extra = actual - charge.units
        if extra <= 0:
            return
        if charge.key:
            self._bucket(charge.table, charge.key, charge.kind).give(-extra)
        self._bucket(charge.table, "", charge.kind).give(-extra)
        self._observed.consumed(charge.table, charge.key, charge.kind, extra)


def partition_key(table: Any, key: dict[str, Any]) -> str:
    """The partition key value of ``key`` (an attribute map) as one string."""
    value = key.get(table.hash_key_attr)
    return json.dumps(value, sort_keys=True)


def item_size(backend: Any, table: Any, key: dict[str, Any]) -> int:
    """The stored item's size in bytes as DynamoDB counts it, 0 when there is none."""
    try:
        item = backend.get_item(table.name, key)
    except Exception:  # a malformed key: the operation itself will say so
        return 0
    return int(item.size()) if item is not None else 0


def wrap_single_item(
    throughput: DynamoDbThroughput, operation: str, original: Callable[..., Any]
) -> Callable[..., Any]:
    """An action of moto's DynamoHandler (GetItem, PutItem, UpdateItem, DeleteItem), metered first."""
    kind = SINGLE_ITEM[operation]

    def metered(self: Any) -> Any:
        params = getattr(self, "params", {}) or {}
        backend = self.dynamodb_backend
        try:
            table = backend.get_table(params["TableName"])
            key = params["Key"] if "Key" in params else {table.hash_key_attr: params["Item"][table.hash_key_attr]}
        except Exception:  # no such table, or no key: DynamoDB answers that before metering anything
            return original(self)
        before = item_size(backend, table, key)
        if kind == READ:
            charge = throughput.admit(
                table, partition_key(table, key), READ, read_units(before, bool(params.get("ConsistentRead")))
            )
            return original(self)
        charge = throughput.admit(table, partition_key(table, key), WRITE, write_units(before))
        try:
            return original(self)
        finally:
            throughput.settle(charge, write_units(max(before, item_size(backend, table, key))))

    return metered


def wrap_scan(throughput: DynamoDbThroughput, original: Callable[..., Any]) -> Callable[..., Any]:
    """Query and Scan: metered against the table's quota by what they read (items are summed, then rounded)."""

    def metered(self: Any) -> Any:
        params = getattr(self, "params", {}) or {}
        try:
            table = self.dynamodb_backend.get_table(params["TableName"])
        except Exception:
            return original(self)
        size = sum(int(item.size()) for item in table.all_items())
        throughput.admit(table, None, READ, read_units(size, bool(params.get("ConsistentRead"))))
        return original(self)

    return metered
