"""The model on paper: what each path of the workflow costs, the rate at which each AWS quota binds, and the price.

``make scale`` measures the same things on the local stack with the limits on; docs/SCALING.md prints these
tables (generated from this module) beside the measured ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from breakwater.pricing import Usage, per_million_orders
from breakwater.quotas import Limits

SECONDS_PER_MONTH = 30 * 24 * 3600
EVENTUALLY_CONSISTENT_READ_UNITS = 0.5  # a breaker item is far below 4 KB


@dataclass(frozen=True)
class PathUse:
    """What one execution along a path uses, as the workflow is built (tests/workflow/test_capacity.py checks it)."""

    name: str
    transitions: int  # states entered (STANDARD bills each)
    reads: int  # eventually consistent GetItem of the breaker
    writes: int  # UpdateItem of the breaker (a failed condition costs the same)
    calls: int  # payment function invocations
    messages: int  # SQS messages


PATHS: tuple[PathUse, ...] = (
    PathUse("closed, success, no prior failures", 3, 1, 0, 1, 0),
    PathUse("open, fast fail", 3, 1, 0, 0, 1),
    PathUse("closed, failure below threshold", 6, 1, 1, 1, 1),
    PathUse("closed, failure that trips", 7, 1, 2, 1, 1),
    PathUse("breaker table busy", 3, 1, 0, 0, 1),
    PathUse("bulkhead full", 4, 1, 0, 1, 1),
)
HEALTHY = PATHS[0]


@dataclass(frozen=True)
class Ceiling:
    """The orders/s at which one quota binds, and where it applies."""

    quota: str
    scope: str  # "per breaker key", "per table", "per account and region"
    orders_per_s: float
    what: str


def ceilings(
    workflow_type: str, call_seconds: float, payment_concurrency: int, limits: Limits | None = None
) -> list[Ceiling]:
    """Each quota's ceiling for healthy traffic, lowest first: what binds first is the first row.

    ``call_seconds`` is a payment call's duration (the provider's latency and the function's own);
    ``payment_concurrency`` the bulkhead (0: none, so the account's concurrency is the bound).
    """
    limits = limits or Limits()
    reads = HEALTHY.reads * EVENTUALLY_CONSISTENT_READ_UNITS
    rows = [
        Ceiling(
            "dynamodb.partition_read_units",
            "per breaker key",
            limits.aws("dynamodb.partition_read_units") / reads,
            "one eventually consistent read per order on one item",
        ),
        Ceiling(
            "dynamodb.table_read_units",
            "per table",
            limits.aws("dynamodb.table_read_units") / reads,
            "every key's reads together",
        ),
        Ceiling(
            "lambda.account_concurrency",
            "per account and region",
            (limits.aws("lambda.account_concurrency") - limits.aws("lambda.unreserved_minimum")) / call_seconds,
            "calls in flight (rate x call duration), leaving the unreserved minimum to the other functions",
        ),
    ]
    if payment_concurrency:
        rows.append(
            Ceiling(
                "PaymentConcurrency",
                "per stack",
                payment_concurrency / call_seconds,
                "the bulkhead: past it orders are queued (concurrency_limit)",
            )
        )
    if workflow_type == "STANDARD":
        rows += [
            Ceiling(
                "stepfunctions.standard_start_refill",
                "per account and region",
                limits.aws("stepfunctions.standard_start_refill"),
                "one StartExecution per order (the bucket absorbs a burst of its size)",
            ),
            Ceiling(
                "stepfunctions.standard_transition_refill",
                "per account and region",
                limits.aws("stepfunctions.standard_transition_refill") / HEALTHY.transitions,
                f"{HEALTHY.transitions} state transitions per healthy order (past it transitions are delayed)",
            ),
        ]
    else:
        rows.append(
            Ceiling(
                "stepfunctions.express_start_refill",
                "per account and region",
                limits.aws("stepfunctions.express_start_refill"),
                "one StartExecution per order (StartSyncExecution: no published figure)",
            )
        )
    return sorted(rows, key=lambda c: c.orders_per_s)


def dollars_per_million(
    workflow_type: str, path: PathUse = HEALTHY, workflow_ms: float = 400.0, call_ms: float = 300.0
) -> float:
    """What a million orders along ``path`` cost (Step Functions, DynamoDB, Lambda, SQS), us-east-1 prices."""
    million = 1_000_000
    usage = Usage(
        orders=million,
        states_entered=path.transitions * million,
        workflow_executions=million,
        workflow_ms=workflow_ms * million,
        dynamodb_reads=path.reads * million,
        dynamodb_writes=path.writes * million,
        lambda_invocations=path.calls * million,
        lambda_ms=call_ms * path.calls * million,
        sqs_messages=path.messages * million,
    )
    return per_million_orders(usage, workflow_type).total


def dollars_per_month(orders_per_s: float, workflow_type: str) -> float:
    """A month of healthy orders at ``orders_per_s``."""
    return orders_per_s * SECONDS_PER_MONTH / 1_000_000 * dollars_per_million(workflow_type)
