"""Tests of breakwater/local/compat/sqs_event_source.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any

from breakwater.local import compat
from tests.workflow.helpers import order


def queued_now(embedded: Any, url: str) -> int:
    attributes = embedded.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_queued_order_waits_on_the_queue_for_the_poller(embedded, provider):
    stack = embedded.deploy()
    provider.configure(mode="down")

    result = embedded.run(stack, order())

    assert result.output["status"] == "queued"
    assert queued_now(embedded, stack.queue_url) == 1  # nobody consumed it inside SendMessage


def test_without_the_event_source_patch_moto_consumes_the_order_inside_send_message(embedded, provider):
    with compat.disabled("sqs_event_source"):
        stack = embedded.deploy()
    provider.configure(mode="down")

    embedded.run(stack, order())

    assert queued_now(embedded, stack.queue_url) == 0
