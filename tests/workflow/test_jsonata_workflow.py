"""The workflow answers as on AWS where the local JSONata used to differ (issue 9)."""

from __future__ import annotations

import pytest

from breakwater.local.stack import EmbeddedStack
from tests.workflow.helpers import order

EMOJI = "\U0001f600"


@pytest.fixture
def stack(embedded: EmbeddedStack, provider):  # type: ignore[no-untyped-def]
    return embedded.deploy(FailureThreshold=5)


def test_a_customer_id_of_100_emoji_is_100_characters_and_charged(embedded, stack, provider, clock):
    result = embedded.run(stack, order(customerId=EMOJI * 100))

    assert result.output["status"] == "charged"


def test_a_customer_id_of_129_emoji_is_too_long(embedded, stack, provider, clock):
    result = embedded.run(stack, order(customerId=EMOJI * 129))

    assert result.error == "InvalidOrder"
    assert result.cause.startswith("customerId:")


def test_the_unexpected_field_named_is_the_integer_like_one_as_javascript_lists_it_first(
    embedded, stack, provider, clock
):
    result = embedded.run(stack, {**order(), "zzz": 1, "1": 2})

    assert result.error == "InvalidOrder"
    assert result.cause == "input: unexpected field 1"


def test_a_queued_order_is_written_in_utf_8_not_escaped(embedded, stack, provider, clock):
    provider.configure(mode="down")

    result = embedded.run(stack, order(orderId="ord-jurgen", customerId="Jürgen\u2028"))

    assert result.output["status"] == "queued"
    raw = embedded.client("sqs").receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = [message["Body"] for message in raw]
    assert any('"customerId":"Jürgen\u2028"' in body for body in bodies), bodies
