"""What one order costs on AWS, from the resources it used.

Every price the benchmark uses is in :data:`PRICES`, with where it comes from.
Prices as published for us-east-1, checked 2026-11 (see ``PRICES_CHECKED``).
Free tiers are ignored: the figures are marginal dollars per million orders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PRICES_CHECKED = "2026-11"
PRICES_REGION = "us-east-1"

# Prices as published for us-east-1, checked 2026-11. One entry per billed unit:
# (dollars, unit, source). Sources are the AWS pricing pages named; the DynamoDB
# figures are the on-demand prices after the 50 % cut of 1 November 2024 (before
# it: $0.25 per million RRU and $1.25 per million WRU).
PRICES: dict[str, tuple[float, str, str]] = {
    "sfn_standard_transition": (
        0.025 / 1000,
        "per state transition",
        "aws.amazon.com/step-functions/pricing: Standard, $0.025 per 1,000 state transitions",
    ),
    "sfn_express_request": (
        1.00 / 1_000_000,
        "per execution",
        "aws.amazon.com/step-functions/pricing: Express, $1.00 per million requests",
    ),
    "sfn_express_gb_second": (
        0.00001667,
        "per GB-second, billed in 100 ms steps and 64 MB chunks",
        "aws.amazon.com/step-functions/pricing: Express duration, $0.00001667 per GB-second (first 1,000 GB-hours)",
    ),
    "dynamodb_rru": (
        0.125 / 1_000_000,
        "per read request unit (an eventually consistent read of up to 4 KB is 0.5 RRU)",
        "aws.amazon.com/dynamodb/pricing/on-demand: $0.125 per million read request units",
    ),
    "dynamodb_wru": (
        0.625 / 1_000_000,
        "per write request unit (a write of up to 1 KB is 1 WRU; a failed conditional write too)",
        "aws.amazon.com/dynamodb/pricing/on-demand: $0.625 per million write request units",
    ),
    "lambda_request": (
        0.20 / 1_000_000,
        "per invocation",
        "aws.amazon.com/lambda/pricing: $0.20 per million requests",
    ),
    "lambda_gb_second_arm64": (
        0.0000133334,
        "per GB-second on arm64, billed in 1 ms steps",
        "aws.amazon.com/lambda/pricing: Arm, $0.0000133334 per GB-second (first 7.5 billion GB-seconds)",
    ),
    "sqs_request": (
        0.40 / 1_000_000,
        "per request (each 64 KB chunk of a message)",
        "aws.amazon.com/sqs/pricing: Standard queue, $0.40 per million requests",
    ),
}

# Sizes the arithmetic assumes.
RRU_PER_EVENTUALLY_CONSISTENT_READ = 0.5  # breaker items are far below 4 KB
RRU_PER_STRONG_READ = 1.0  # a strongly consistent read (or Query) of up to 4 KB
WRU_PER_WRITE = 1.0  # breaker items are far below 1 KB
LAMBDA_MEMORY_MB = 256  # template.yaml, Globals.Function.MemorySize
EXPRESS_MEMORY_MB = 64  # the smallest Express memory chunk; our definition and payloads are small
EXPRESS_BILLING_STEP_MS = 100
LAMBDA_BILLING_STEP_MS = 1


def price(name: str) -> float:
    return PRICES[name][0]


@dataclass(frozen=True)
class Usage:
    """The resources a number of orders used, summed."""

    orders: int
    states_entered: int = 0
    workflow_executions: int = 0
    workflow_ms: float = 0.0  # summed billed Express duration, already rounded per execution
    dynamodb_reads: int = 0
    dynamodb_strong_reads: int = 0  # of dynamodb_reads, the strongly consistent ones
    dynamodb_writes: int = 0
    lambda_invocations: int = 0
    lambda_ms: float = 0.0  # summed billed Lambda duration, already rounded per invocation
    sqs_messages: int = 0


@dataclass(frozen=True)
class Dollars:
    """Dollars per million orders, by service."""

    workflow: float
    dynamodb: float
    lambda_: float
    sqs: float

    @property
    def total(self) -> float:
        return self.workflow + self.dynamodb + self.lambda_ + self.sqs

    def as_dict(self) -> dict[str, float]:
        return {
            "workflow": round(self.workflow, 4),
            "dynamodb": round(self.dynamodb, 4),
            "lambda": round(self.lambda_, 4),
            "sqs": round(self.sqs, 4),
            "total": round(self.total, 4),
        }


def billed_ms(duration_ms: float, step_ms: int) -> float:
    """A duration rounded up to the billing step (at least one step)."""
    return max(1, math.ceil(duration_ms / step_ms)) * step_ms


def per_million_orders(usage: Usage, workflow_type: str) -> Dollars:
    """Dollars per million orders for ``usage``; ``workflow_type`` is STANDARD or EXPRESS.

    Usage without workflow executions (the policies that run the breaker inside
    the Lambda) pays nothing for Step Functions under either type.
    """
    if usage.orders <= 0:
        raise ValueError("orders: must be positive")
    if workflow_type == "STANDARD":
        workflow = usage.states_entered * price("sfn_standard_transition")
    elif workflow_type == "EXPRESS":
        gb_seconds = usage.workflow_ms / 1000 * EXPRESS_MEMORY_MB / 1024
        workflow = usage.workflow_executions * price("sfn_express_request") + gb_seconds * price(
            "sfn_express_gb_second"
        )
    else:
        raise ValueError(f"workflow_type: {workflow_type!r} is not STANDARD or EXPRESS")
    eventual = usage.dynamodb_reads - usage.dynamodb_strong_reads
    read_units = eventual * RRU_PER_EVENTUALLY_CONSISTENT_READ + usage.dynamodb_strong_reads * RRU_PER_STRONG_READ
    dynamodb = read_units * price("dynamodb_rru") + usage.dynamodb_writes * WRU_PER_WRITE * price("dynamodb_wru")
    lambda_gb_seconds = usage.lambda_ms / 1000 * LAMBDA_MEMORY_MB / 1024
    lambda_ = usage.lambda_invocations * price("lambda_request") + lambda_gb_seconds * price("lambda_gb_second_arm64")
    sqs = usage.sqs_messages * price("sqs_request")
    scale = 1_000_000 / usage.orders
    return Dollars(workflow * scale, dynamodb * scale, lambda_ * scale, sqs * scale)
