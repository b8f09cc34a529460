"""Tests of breakwater/local/compat/dynamodb_item_api.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine, one_task, table


def test_a_table_name_outside_the_pattern_is_refused_before_any_lookup(embedded):
    with pytest.raises(ClientError) as refused:
        embedded.client("dynamodb").get_item(TableName="ab", Key={"id": {"S": "a"}})

    assert refused.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )
    with compat.disabled("dynamodb_item_api"), pytest.raises(ClientError) as looked_up:
        embedded.client("dynamodb").get_item(TableName="ab", Key={"id": {"S": "a"}})
    assert looked_up.value.response["Error"]["Code"] == "ResourceNotFoundException"


UPDATE_ITEM = one_task(
    "arn:aws:states:::dynamodb:updateItem",
    {
        "TableName": "{% $states.input.TableName %}",
        "Key": {"id": {"S": "a"}},
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
        "ReturnValues": "UPDATED_NEW",
    },
)


def test_update_item_answers_no_consumed_capacity_unless_asked(embedded):
    name = table(embedded)
    result = run(embedded.client("stepfunctions"), machine(embedded, UPDATE_ITEM), {"TableName": name})
    asked = embedded.client("dynamodb").update_item(
        TableName=name,
        Key={"id": {"S": "a"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
        ReturnConsumedCapacity="TOTAL",
    )

    assert {k: v for k, v in result.output.items() if not k.startswith("Sdk")} == {"Attributes": {"n": {"N": "1"}}}
    assert asked["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 1.0}


def test_without_the_patch_update_item_answers_consumed_capacity_and_the_new_items_key(embedded):
    with compat.disabled("dynamodb_item_api"):
        result = run(embedded.client("stepfunctions"), machine(embedded, UPDATE_ITEM), {"TableName": table(embedded)})

    assert "ConsumedCapacity" in result.output
    assert result.output["Attributes"] == {"id": {"S": "a"}, "n": {"N": "1"}}
