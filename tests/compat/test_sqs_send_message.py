"""Tests of breakwater/local/compat/sqs_send_message.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import re

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import SDK_CAUSE, SEND_MESSAGE, machine, queue


def test_a_message_without_a_body_is_refused_as_sqs_refuses_it(embedded):
    # AWS (recorded 2023-06-22, test_send_message_empty_body): SQS.AmazonSQSException, MissingParameter.
    result = run(
        embedded.client("stepfunctions"),
        machine(embedded, SEND_MESSAGE),
        {"QueueUrl": queue(embedded), "MessageBody": None},
    )

    assert result.error == "SQS.AmazonSQSException"
    assert re.fullmatch(
        re.escape("The request must contain the parameter MessageBody.")
        + SDK_CAUSE.format(service="AmazonSQS", status=400, code="MissingParameter"),
        result.cause or "",
    ), result.cause


def test_without_the_send_message_patch_a_message_without_a_body_crashes_the_emulator(embedded):
    with compat.disabled("sqs_send_message"):
        result = run(
            embedded.client("stepfunctions"),
            machine(embedded, SEND_MESSAGE),
            {"QueueUrl": queue(embedded), "MessageBody": None},
        )

    assert "NoneType" in (result.cause or "")
