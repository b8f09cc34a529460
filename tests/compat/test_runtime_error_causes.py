"""Tests of breakwater/local/compat/runtime_error_causes.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

MISSING_OUTPUT_PATH = {
    "StartAt": "Shape",
    "States": {
        "Shape": {"Type": "Pass", "Result": {"a": 1}, "Next": "Pick"},
        "Pick": {"Type": "Pass", "OutputPath": "$.no.such.result.path", "End": True},
    },
}


def test_a_path_that_finds_nothing_is_worded_as_aws_words_it_with_the_states_entered_event(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, MISSING_OUTPUT_PATH), {})

    assert (result.error, result.cause) == (
        "States.Runtime",
        "An error occurred while executing the state 'Pick' (entered at the event id #4). "
        "Invalid path '$.no.such.result.path' : Missing property in path $['no']",
    )


def test_a_missing_last_member_is_no_results(embedded):
    definition = {"StartAt": "Pick", "States": {"Pick": {"Type": "Pass", "InputPath": "$.a['b']", "End": True}}}

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"a": {}})

    assert (result.cause or "").endswith("Invalid path '$.a['b']' : No results for path: $['a']['b']")


def test_without_the_patch_the_cause_names_moto_words(embedded):
    with compat.disabled("runtime_error_causes"):
        result = run(embedded.client("stepfunctions"), machine(embedded, MISSING_OUTPUT_PATH), {})

    assert (result.cause or "").endswith("No results for path: $['no.such.result.path']")
