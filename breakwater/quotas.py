"""AWS's limits that bind Breakwater at volume: each default, its unit, and the page it comes from.

This table is the one place these figures live. The limits module enforces them, ``make scale`` reports
against them, and ``docs/SCALING.md`` prints them (a test keeps the page in step with this table).
Figures are AWS's documented defaults for us-east-1, read 2026-12; adjustable quotas can be raised by a
support request, and ``--quota KEY=VALUE`` models a raised one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

CHECKED = "2026-12"

_DDB_PARTITION = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/burst-adaptive-capacity.html"
_DDB_ON_DEMAND = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html"
)
_SFN_QUOTAS = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
_LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
_LAMBDA_SCALING = "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html"
_LAMBDA_RESERVED = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
_SQS_SCALING = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"


@dataclass(frozen=True)
class Quota:
    """One limit: what it bounds, its default, and whether ``--scale K`` divides it."""

    key: str
    service: str
    what: str
    default: float
    unit: str
    adjustable: bool
    source: str
    scaled: bool = True  # a rate or a capacity: divided by K. Times (intervals, timeouts) are never scaled.


QUOTAS: tuple[Quota, ...] = (
    Quota(
        "dynamodb.partition_read_units",
        "DynamoDB",
        "read units per second on one partition, so on one partition key (a single item cannot be split)",
        3000,
        "RCU/s",
        False,
        _DDB_PARTITION,
    ),
    Quota(
        "dynamodb.partition_write_units",
        "DynamoDB",
        "write units per second on one partition key; a failed conditional write consumes them too",
        1000,
        "WCU/s",
        False,
        _DDB_PARTITION,
    ),
    Quota(
        "dynamodb.table_read_units",
        "DynamoDB",
        "on-demand table-level read request units per second (account quota, per table)",
        40000,
        "RRU/s",
        True,
        _DDB_ON_DEMAND,
    ),
    Quota(
        "dynamodb.table_write_units",
        "DynamoDB",
        "on-demand table-level write request units per second (account quota, per table)",
        40000,
        "WRU/s",
        True,
        _DDB_ON_DEMAND,
    ),
    Quota(
        "stepfunctions.standard_start_bucket",
        "Step Functions",
        "STANDARD StartExecution: token bucket size",
        1300,
        "calls",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "stepfunctions.standard_start_refill",
        "Step Functions",
        "STANDARD StartExecution: bucket refill rate",
        300,
        "calls/s",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "stepfunctions.standard_transition_bucket",
        "Step Functions",
        "STANDARD state transitions: token bucket size (an empty bucket delays transitions, it fails nothing)",
        5000,
        "transitions",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "stepfunctions.standard_transition_refill",
        "Step Functions",
        "STANDARD state transitions: bucket refill rate",
        5000,
        "transitions/s",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "stepfunctions.express_start_bucket",
        "Step Functions",
        "EXPRESS StartExecution (asynchronous): token bucket size",
        6000,
        "calls",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "stepfunctions.express_start_refill",
        "Step Functions",
        "EXPRESS StartExecution (asynchronous): bucket refill rate",
        6000,
        "calls/s",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "stepfunctions.sync_start_bucket",
        "Step Functions",
        "EXPRESS StartSyncExecution: AWS publishes no figure ('capacity on demand; surges may be throttled');"
        " modelled as the asynchronous bucket",
        6000,
        "calls",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "stepfunctions.sync_start_refill",
        "Step Functions",
        "EXPRESS StartSyncExecution: refill rate (modelled as the asynchronous one)",
        6000,
        "calls/s",
        True,
        _SFN_QUOTAS,
    ),
    Quota(
        "lambda.account_concurrency",
        "Lambda",
        "concurrent executions across every function of the account in the region",
        1000,
        "executions",
        True,
        _LAMBDA_QUOTAS,
    ),
    Quota(
        "lambda.unreserved_minimum",
        "Lambda",
        "concurrency that reservations must leave to functions without one",
        100,
        "executions",
        False,
        _LAMBDA_RESERVED,
    ),
    Quota(
        "lambda.scaling_environments",
        "Lambda",
        "new execution environments per function per scaling interval",
        1000,
        "environments",
        False,
        _LAMBDA_SCALING,
    ),
    Quota(
        "lambda.scaling_interval",
        "Lambda",
        "the scaling interval (a time: never scaled)",
        10,
        "s",
        False,
        _LAMBDA_SCALING,
        scaled=False,
    ),
    Quota(
        "sqs.event_source_concurrency",
        "Lambda",
        "batches one SQS event source mapping processes at once, at most (MaximumConcurrency caps it lower)",
        1000,
        "batches",
        False,
        _SQS_SCALING,
    ),
)

BY_KEY: dict[str, Quota] = {quota.key: quota for quota in QUOTAS}


class UnknownQuota(ValueError):
    """A quota override names no quota of the table."""


def parse_overrides(items: list[str]) -> dict[str, float]:
    """``KEY=VALUE`` strings as overrides; one clear error for an unknown key or a value that is no number."""
    overrides: dict[str, float] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise UnknownQuota(f"quota {item!r}: expected KEY=VALUE")
        if key not in BY_KEY:
            raise UnknownQuota(f"quota {key!r}: unknown; known: {', '.join(BY_KEY)}")
        try:
            value = float(text)
        except ValueError:
            raise UnknownQuota(f"quota {key}: {text!r} is not a number") from None
        if not math.isfinite(value) or value <= 0:
            raise UnknownQuota(f"quota {key}: must be a positive number, not {text!r}")
        overrides[key] = value
    return overrides


@dataclass(frozen=True)
class Limits:
    """The quotas in force: defaults or overrides, rates and capacities divided by ``scale``.

    A run at R/K orders/s with ``scale`` K models R orders/s on AWS: calls in flight are rate x latency,
    so they scale with the rate, and latencies and timeouts stay as they are.
    """

    scale: float = 1.0
    overrides: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"scale: must be a positive number, not {self.scale!r}")
        unknown = set(self.overrides) - set(BY_KEY)
        if unknown:
            raise UnknownQuota(f"quota {sorted(unknown)[0]!r}: unknown")

    def aws(self, key: str) -> float:
        """The quota as on AWS (the default, or its override), before scaling."""
        return float(self.overrides.get(key, BY_KEY[key].default))

    def value(self, key: str) -> float:
        """The quota in force on this machine: the AWS figure divided by the scale when it is a rate or capacity."""
        quota = BY_KEY[key]
        return self.aws(key) / self.scale if quota.scaled else self.aws(key)

    def scaled(self, amount: float) -> float:
        """A rate or capacity the template sets (reserved concurrency, MaximumConcurrency), as modelled here."""
        return amount / self.scale
