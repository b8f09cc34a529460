"""Patch ``streams_endpoint``: botocore sends the DynamoDB Streams API (DescribeStream, GetShardIterator,
GetRecords) of a stream ARN to the account's endpoint, ``https://ACCOUNT.streams-ddb.REGION.amazonaws.com``;
moto's in-process mock knows only ``streams.dynamodb.REGION.amazonaws.com`` and answers "Not yet implemented".
The account's host reaches moto's DynamoDB Streams too. (``local up`` routes by the request's target already.)
"""

from __future__ import annotations

import re

from moto import backend_index
from moto.dynamodbstreams import urls as streams_urls

from breakwater.local.compat.base import Patch

ACCOUNT_ENDPOINT = r"https?://\d{12}\.streams-ddb\.(.+)\.amazonaws\.com"

PATCH = Patch(
    "streams_endpoint",
    "the DynamoDB Streams API at botocore's account endpoint reaches moto's streams",
    [
        (streams_urls, "url_bases", [*streams_urls.url_bases, ACCOUNT_ENDPOINT]),
        (
            backend_index,
            "backend_url_patterns",
            [*backend_index.backend_url_patterns, ("dynamodbstreams", re.compile(ACCOUNT_ENDPOINT))],
        ),
    ],
)
