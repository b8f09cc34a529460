"""Tests of breakwater/local/compat/execution_output.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import json
from typing import Any

from breakwater.executions import unique_name
from breakwater.local import compat
from tests.compat.helpers import machine
from tests.eventually import eventually


def described_output(embedded: Any, output: Any) -> str:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": output, "End": True}},
    }
    sfn = embedded.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine(embedded, definition), name=unique_name("e"))["executionArn"]
    described = eventually(
        lambda: sfn.describe_execution(executionArn=arn),
        "the execution to end",
        until=lambda execution: execution["status"] != "RUNNING",
    )
    return str(described.get("output"))


def test_described_output_is_the_json_text_of_the_history(embedded):
    answers = {json.dumps(value): described_output(embedded, value) for value in ("abc", None, {"a": "b"}, [1, 2])}

    assert answers == {'"abc"': '"abc"', "null": "null", '{"a": "b"}': '{"a":"b"}', "[1, 2]": "[1,2]"}


def test_without_the_patch_a_string_output_is_described_without_its_quotes(embedded):
    with compat.disabled("execution_output"):
        assert described_output(embedded, "abc") == "abc"
