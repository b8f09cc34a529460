"""Tests of breakwater/local/compat/sdk_http_metadata.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine, one_task, table


def test_a_dynamodb_task_result_carries_the_services_http_metadata(embedded):
    # The headers AWS recorded for putItem (tests/parity/recordings/dynamodb.json, 2025-11-06).
    definition = one_task(
        "arn:aws:states:::dynamodb:putItem", {"TableName": "{% $states.input.TableName %}", "Item": {"id": {"S": "a"}}}
    )

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"TableName": table(embedded)})

    metadata = result.output["SdkHttpMetadata"]
    assert sorted(metadata["HttpHeaders"]) == [
        "Connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "Server",
        "x-amz-crc32",
        "x-amzn-RequestId",
    ]
    assert (metadata["HttpHeaders"]["Content-Length"], metadata["HttpStatusCode"]) == ("2", 200)
    assert metadata["AllHttpHeaders"]["Content-Type"] == ["application/x-amz-json-1.0"]
    assert result.output["SdkResponseMetadata"]["RequestId"] == metadata["HttpHeaders"]["x-amzn-RequestId"]


def test_without_the_patch_a_task_result_has_no_http_metadata(embedded):
    definition = one_task(
        "arn:aws:states:::dynamodb:putItem", {"TableName": "{% $states.input.TableName %}", "Item": {"id": {"S": "a"}}}
    )
    with compat.disabled("sdk_http_metadata"):
        result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"TableName": table(embedded)})

    assert result.output == {}
