"""`breakwater local up --aws-limits`: AWS's limits served over HTTP, as the SDK meets them."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.conftest import local_up_running

pytestmark = pytest.mark.e2e


def test_local_up_with_aws_limits_throttles_a_hot_key_as_dynamodb_does():
    # A read capacity that refills in 1,000 s: the first read empties it, the second is throttled.
    with local_up_running("--quiet", "--aws-limits", "--quota", "dynamodb.partition_read_units=0.001") as up:
        dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=up.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        table, key = up.outputs()["BreakerTableName"], {"serviceName": {"S": "payment-api"}}
        dynamodb.get_item(TableName=table, Key=key)
        with pytest.raises(ClientError) as throttled:
            dynamodb.get_item(TableName=table, Key=key)

    assert any(
        line.startswith("AWS limits on (docs/SCALING.md): scale 1, dynamodb.partition_read_units=0.001")
        for line in up.lines
    )
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert throttled.value.response["throttlingReasons"][0]["reason"] == "TableReadKeyRangeThroughputExceeded"
