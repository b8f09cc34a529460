"""AWS's own limits in the local stack: opt-in, and scalable to model volume on one machine.

Off by default. Switched on by ``breakwater local up --aws-limits [--scale K] [--quota KEY=VALUE]`` or
``EmbeddedStack(aws_limits=AwsLimits(Limits(scale=K)))``, it enforces, with the error AWS gives for each:

* DynamoDB throughput per partition key and per table (``dynamodb.py``);
* Step Functions' StartExecution and StartSyncExecution buckets per workflow type, and STANDARD's state
  transition bucket (``stepfunctions.py``);
* Lambda concurrency, account-wide and reserved, and its scaling rate (``lambda_concurrency.py``).

The figures are in one table (``quotas.py``). With scale K every rate and capacity is divided by K, and
latencies and timeouts are kept: a run at R/K orders per second here then models R orders per second on
AWS, because calls in flight are rate x latency. What the model leaves out is listed in docs/SCALING.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from breakwater.local.aws_limits.buckets import Clock
from breakwater.local.aws_limits.dynamodb import SINGLE_ITEM, DynamoDbThroughput, wrap_scan, wrap_single_item
from breakwater.local.aws_limits.lambda_concurrency import LambdaConcurrency, reservations_of, wrap_invoke
from breakwater.local.aws_limits.observed import Observed
from breakwater.local.aws_limits.stepfunctions import StepFunctionsQuotas, wrap_retry, wrap_start, wrap_state_entry
from breakwater.local.compat.base import Patch
from breakwater.quotas import QUOTAS, Limits, Quota, UnknownQuota, parse_overrides

__all__ = ["QUOTAS", "AwsLimits", "Limits", "Observed", "Quota", "UnknownQuota", "parse_overrides"]


def _lambda_functions() -> Iterator[Any]:
    """Every function's latest version, as stored: moto's ``LambdaStorage.all()`` deep-copies each one (its
    deployment package too) on every call, and this runs on every invoke (a session holding hundreds of
    functions reached 16 GB within one run)."""
    from moto.awslambda.models import lambda_backends

    for account in list(lambda_backends.values()):
        for backend in list(account.values()):
            for group in list(backend._lambdas._functions.values()):
                if group.get("latest") is not None:
                    yield group["latest"]


class AwsLimits:
    """One set of limits, with its own buckets and counters, installed over moto while a stack runs."""

    def __init__(
        self, limits: Limits | None = None, clock: Clock = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.limits = limits or Limits()
        self.observed = Observed()
        self.dynamodb = DynamoDbThroughput(self.limits, self.observed, clock)
        self.stepfunctions = StepFunctionsQuotas(self.limits, self.observed, clock, sleep)
        self.lambda_ = LambdaConcurrency(self.limits, self.observed, clock, reservations_of(_lambda_functions))
        self._patch: Patch | None = None

    def _targets(self) -> list[tuple[Any, str, Any]]:
        from moto.awslambda.models import LambdaFunction
        from moto.dynamodb.responses import DynamoHandler
        from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
        from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
        from moto.stepfunctions.responses import StepFunctionResponse

        targets: list[tuple[Any, str, Any]] = [
            (DynamoHandler, op, wrap_single_item(self.dynamodb, op, getattr(DynamoHandler, op))) for op in SINGLE_ITEM
        ]
        targets += [
            (DynamoHandler, op, wrap_scan(self.dynamodb, getattr(DynamoHandler, op))) for op in ("query", "scan")
        ]
        targets += [
            (
                StepFunctionResponse,
                "start_execution",
                wrap_start(self.stepfunctions, StepFunctionResponse.start_execution, False),
            ),
            (
                StepFunctionResponse,
                "start_sync_execution",
                # compat's start_sync_execution: moto's class has none of its own
                wrap_start(self.stepfunctions, StepFunctionResponse.start_sync_execution, True),  # type: ignore[attr-defined]
            ),
            (CommonStateField, "_eval_body", wrap_state_entry(self.stepfunctions, CommonStateField._eval_body)),
            (ExecutionState, "_handle_retry", wrap_retry(self.stepfunctions, ExecutionState._handle_retry)),
            (LambdaFunction, "invoke", wrap_invoke(self.lambda_, LambdaFunction.invoke)),
        ]
        return targets

    def install(self) -> None:
        """Meter moto's calls with these limits (after the compatibility layer, which they wrap)."""
        if self._patch is None:
            self._patch = Patch("aws_limits", "AWS's throughput and concurrency limits", self._targets())
        self._patch.install()

    def remove(self) -> None:
        if self._patch is not None:
            self._patch.remove()

    def __enter__(self) -> AwsLimits:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
