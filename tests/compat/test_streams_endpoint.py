"""Tests of breakwater/local/compat/streams_endpoint.py: the DynamoDB Streams API answers in process, and the patch is
needed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from breakwater.local import compat
from breakwater.local.stack import EmbeddedStack


def test_the_streams_api_answers_in_process(embedded: EmbeddedStack, provider: Any) -> None:
    stack = embedded.deploy()
    arn = embedded.client("dynamodb").describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
    streams = embedded.client("dynamodbstreams")
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamArn"] == arn
    with compat.disabled("streams_endpoint"), pytest.raises(ClientError, match="Not yet implemented"):
        streams.describe_stream(StreamArn=arn)
