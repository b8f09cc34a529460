"""aws-sample policy: is the circuit open? One strongly consistent Query for an unexpired OPEN item."""

from __future__ import annotations

import os
import time
from typing import Any

import boto3

_dynamodb = boto3.client("dynamodb")
TABLE = os.environ["TABLE_NAME"]


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    answer = _dynamodb.query(
        TableName=TABLE,
        ConsistentRead=True,
        KeyConditionExpression="ServiceName = :service AND ExpireTimeStampMs > :now",
        ExpressionAttributeValues={
            ":service": {"S": str(event["serviceName"])},
            ":now": {"N": str(int(time.time() * 1000))},
        },
        Limit=1,
    )
    return {"CircuitStatus": "OPEN" if answer["Count"] else "CLOSED"}
