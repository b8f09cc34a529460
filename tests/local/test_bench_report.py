"""The benchmark report's cross-checks on the embedded stack's queue (issue 23, item 11; the rest:
tests/unit/test_bench_report.py)."""

from __future__ import annotations

from typing import Any

from breakwater.bench.policies import queue_depth


def test_an_order_a_replay_deferred_is_still_counted_on_the_queue(embedded: Any) -> None:
    sqs = embedded.client("sqs")
    url = sqs.create_queue(QueueName="bench-depth")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="visible")
    sqs.send_message(QueueUrl=url, MessageBody="deferred")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=received["ReceiptHandle"], VisibilityTimeout=900)
    assert queue_depth(sqs, url) == 2
