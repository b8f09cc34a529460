"""A source of `local up`'s that cannot start is reported in one line and left out, never stopping the others or
the server (issue 23, item 10). (Every stack's sources found and run: tests/local/test_event_sources.py.)"""

from __future__ import annotations

import json
from typing import Any

from breakwater.local.event_sources import AccountEventSources


class _Paginator:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self.pages


class _Lambda:
    def __init__(self, mappings: list[dict[str, Any]]) -> None:
        self.mappings = mappings
        self.invoked: list[str] = []

    def get_paginator(self, name: str) -> _Paginator:
        return _Paginator([{"EventSourceMappings": self.mappings}])

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.invoked.append(FunctionName)
        return {"Payload": _Body(json.dumps({"batchItemFailures": []}).encode())}


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class _Sqs:
    def get_queue_url(self, QueueName: str) -> dict[str, str]:  # noqa: N803
        if QueueName == "gone":
            raise RuntimeError("AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.")
        return {"QueueUrl": f"http://127.0.0.1/123456789012/{QueueName}"}

    def receive_message(self, **_: Any) -> dict[str, Any]:
        return {"Messages": [{"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}"}]}

    def delete_message(self, **_: Any) -> None:
        return None


class _Events:
    def get_paginator(self, name: str) -> _Paginator:
        return _Paginator([{"Rules": []}])


def _mapping(uuid: str, queue: str, function: str) -> dict[str, Any]:
    return {
        "UUID": uuid,
        "EventSourceArn": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
        "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        "State": "Enabled",
    }


def test_a_source_that_cannot_start_is_reported_once_and_the_others_run() -> None:
    lambda_client = _Lambda([_mapping("broken", "gone", "a"), _mapping("fine", "orders", "b")])
    clients = {"lambda": lambda_client, "sqs": _Sqs(), "events": _Events()}
    reported: list[str] = []
    sources = AccountEventSources(clients.__getitem__, report=reported.append, refresh_seconds=0)
    for _ in range(3):
        assert sources.poll_once() == 1
    assert lambda_client.invoked == ["arn:aws:lambda:us-east-1:123456789012:function:b"] * 3
    assert reported == [
        "event source mapping:broken not started: AWS.SimpleQueueService.NonExistentQueue: The specified queue does"
        " not exist."
    ]
