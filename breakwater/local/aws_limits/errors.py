"""The errors AWS answers when a limit is reached, in the wire shapes its SDKs parse."""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError

DYNAMODB_PREFIX = "com.amazonaws.dynamodb.v20120810#"

# DynamoDB's message for an on-demand table's hot key (botocore's TransactionCanceledException documentation
# quotes it for the ThrottlingError reason; field reports show it on throttled single-item calls too).
ON_DEMAND_THROTTLED = (
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table "
    "or index so please try again shortly. If exceptions persist, check if you have a hot key: "
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html."
)
PROVISIONED_THROTTLED = (
    "You exceeded your maximum allowed provisioned throughput for a table or for one or more global secondary "
    "indexes. To view performance metrics for provisioned throughput vs. consumed throughput, open the Amazon "
    "CloudWatch console."
)
ACCOUNT_THROTTLED = (
    "Throughput exceeds the current throughput limit for your account. Please contact AWS Support at "
    "https://aws.amazon.com/support request a limit increase"
)
LAMBDA_THROTTLED = "Rate Exceeded."
RESERVED_EXCEEDED = "ReservedFunctionConcurrentInvocationLimitExceeded"  # Lambda's Reason: a reservation is full
ACCOUNT_EXCEEDED = "ConcurrentInvocationLimitExceeded"  # the account's unreserved pool, or the scaling rate
STATES_THROTTLED = "Rate exceeded"


class AwsLimitError(JsonRESTError):
    """A limit's error: an AWS error code, its HTTP status and the JSON body AWS sends with it."""

    def __init__(self, code: str, status: int, body: dict[str, Any], error_type: str | None = None) -> None:
        super().__init__(error_type or code, str(body.get("message", "")))
        self.code = status  # type: ignore[assignment]  # werkzeug's HTTPException keeps the status in ``code``
        self.aws_code = code
        self.description = json.dumps({"__type": error_type or code, **body})


def dynamodb_throttled(operation: str, table_arn: str, on_demand: bool, scope: str) -> AwsLimitError:
    """A DynamoDB throttle: ``scope`` is ``KeyRange`` (one partition's limit) or ``Account`` (the table's quota).

    On-demand tables answer a hot key with ``ThrottlingException`` (its field is ``throttlingReasons``, lower
    case t, in botocore's model); provisioned tables with ``ProvisionedThroughputExceededException``; the
    table-level account quota with ``RequestLimitExceeded``. Each names its reason, as DynamoDB does since 2025.
    """
    reason = {"reason": f"Table{operation}{scope}{'ThroughputExceeded' if scope == 'KeyRange' else 'LimitExceeded'}"}
    reason["resource"] = table_arn
    if scope == "Account":
        code, message, field = "RequestLimitExceeded", ACCOUNT_THROTTLED, "ThrottlingReasons"
    elif on_demand:
        code, message, field = "ThrottlingException", ON_DEMAND_THROTTLED, "throttlingReasons"
    else:
        code, message, field = "ProvisionedThroughputExceededException", PROVISIONED_THROTTLED, "ThrottlingReasons"
    return AwsLimitError(code, 400, {"message": message, field: [reason]}, DYNAMODB_PREFIX + code)


def lambda_throttled(reason: str) -> AwsLimitError:
    """Lambda's throttle, as AWS recorded it: HTTP 429, ``Type`` User, ``Reason`` and "Rate Exceeded."."""
    return AwsLimitError(
        "TooManyRequestsException", 429, {"Type": "User", "message": LAMBDA_THROTTLED, "Reason": reason}
    )


def states_throttled() -> AwsLimitError:
    """Step Functions' throttle of an API call (StartExecution, StartSyncExecution): HTTP 400 ThrottlingException."""
    return AwsLimitError("ThrottlingException", 400, {"message": STATES_THROTTLED})
