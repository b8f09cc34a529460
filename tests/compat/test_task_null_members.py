"""Tests of breakwater/local/compat/task_null_members.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import PUT_ITEM, machine, table


def test_a_null_item_is_refused_as_dynamodb_refuses_it(embedded):
    result = run(
        embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": table(embedded), "Item": None}
    )

    assert result.error == "DynamoDB.AmazonDynamoDBException"
    assert (result.cause or "").startswith(
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null "
    )


def test_without_the_null_members_patch_a_null_item_fails_inside_boto3(embedded):
    with compat.disabled("task_null_members"):
        result = run(
            embedded.client("stepfunctions"), machine(embedded, PUT_ITEM), {"TableName": table(embedded), "Item": None}
        )

    assert "NoneType" in (result.cause or "")
