"""aws-sample policy: open the circuit, with an item that expires after OPEN_SECONDS (DynamoDB TTL cleans up)."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3

_dynamodb = boto3.client("dynamodb")
TABLE = os.environ["TABLE_NAME"]
OPEN_SECONDS = float(os.environ.get("OPEN_SECONDS", "20"))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    expires = time.time() + OPEN_SECONDS
    _dynamodb.put_item(
        TableName=TABLE,
        Item={
            "ServiceName": {"S": str(event["serviceName"])},
            "ExpireTimeStampMs": {"N": str(int(expires * 1000))},
            "ExpireTimeStamp": {"N": str(int(expires) + 1)},
        },
    )
    return {"CircuitStatus": "OPEN", "openUntilMs": int(expires * 1000)}
