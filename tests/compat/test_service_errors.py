"""Tests of breakwater/local/compat/service_errors.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import re

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import PUT_ITEM, SDK_CAUSE, SEND_MESSAGE, machine, queue


def test_a_dynamodb_validation_error_is_the_sdks_base_exception_with_the_sdks_cause(embedded):
    # AWS (recorded 2023-05-12, test_put_item_invalid_table_name): DynamoDB.AmazonDynamoDBException.
    item = {"id": {"S": "id1"}}
    result = run(embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": "/bad", "Item": item})

    assert result.error == "DynamoDB.AmazonDynamoDBException"
    assert re.fullmatch(
        re.escape(
            "1 validation error detected: Value '/bad' at 'tableName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
        + SDK_CAUSE.format(service="AmazonDynamoDBv2", status=400, code="ValidationException"),
        result.cause or "",
    ), result.cause


def test_without_the_errors_patch_a_validation_error_is_named_after_its_code(embedded):
    item = {"id": {"S": "id1"}}
    with compat.disabled("service_errors"):
        result = run(embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": "/bad", "Item": item})

    assert result.error == "DynamoDB.ValidationException"


def test_an_sqs_error_the_model_declares_is_named_by_its_class(embedded):
    url = queue(embedded)
    embedded.client("sqs").delete_queue(QueueUrl=url)

    result = run(
        embedded.client("stepfunctions"), machine(embedded, SEND_MESSAGE), {"QueueUrl": url, "MessageBody": "x"}
    )

    assert result.error == "SQS.QueueDoesNotExistException"
    assert (result.cause or "").startswith("The specified queue does not exist. (Service: AmazonSQS; Status Code: 400;")


def test_without_the_errors_patch_every_sqs_error_is_a_client_exception(embedded):
    with compat.disabled("service_errors"):
        result = run(
            embedded.client("stepfunctions"),
            machine(embedded, SEND_MESSAGE),
            {"QueueUrl": queue(embedded), "MessageBody": None},
        )

    assert result.error == "SQS.SdkClientException"
