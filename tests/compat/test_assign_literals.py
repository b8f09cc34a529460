"""Tests of breakwater/local/compat/assign_literals.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

# AWS's recording test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONATA_COMPARISON_ASSIGN] (true).
QUOTE_LITERAL = {
    "QueryLanguage": "JSONata",
    "StartAt": "Pass",
    "States": {
        "Pass": {"Type": "Pass", "Assign": {"var": '"', "path": "a\\b"}, "Next": "Check"},
        "Check": {"Type": "Pass", "Output": "{% [$var = '\"', $path] %}", "End": True},
    },
}


def test_an_assigned_string_with_a_quote_is_the_string_written(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, QUOTE_LITERAL), {})

    assert result.output == [True, "a\\b"]
    assigned = result.events[2]["stateExitedEventDetails"]["assignedVariables"]
    assert assigned == {"var": '"\\""', "path": '"a\\\\b"'}


INTRINSICS_OF_VARIABLES = {
    "StartAt": "Assign",
    "States": {
        "Assign": {
            "Type": "Pass",
            "Assign": {"jsonString": '{"key":"value"}', "name": "John", "place": "LocalStack"},
            "Next": "Use",
        },
        "Use": {
            "Type": "Pass",
            "Parameters": {
                "parsed.$": "States.StringToJson($jsonString)",
                "formatted.$": "States.Format('Hello {}, welcome to {}!', $name, $place)",
            },
            "End": True,
        },
    },
}


def test_intrinsic_functions_read_assigned_variables_in_jsonpath_parameters(embedded):
    # AWS's recording test_reference_assign[BASE_REFERENCE_IN_INTRINSIC_FUNCTION] (2024-11-06).
    result = run(embedded.client("stepfunctions"), machine(embedded, INTRINSICS_OF_VARIABLES), {})

    assert result.output == {"parsed": {"key": "value"}, "formatted": "Hello John, welcome to LocalStack!"}


def test_without_the_literals_patch_an_intrinsic_cannot_parse_an_assigned_json_string(embedded):
    with compat.disabled("assign_literals"):
        result = run(embedded.client("stepfunctions"), machine(embedded, INTRINSICS_OF_VARIABLES), {})

    assert (result.error, "JSONDecodeError" in (result.cause or "")) == ("States.Runtime", True)


def test_without_the_patch_an_assigned_quote_keeps_its_escape(embedded):
    with compat.disabled("assign_literals"):
        result = run(embedded.client("stepfunctions"), machine(embedded, QUOTE_LITERAL), {})

    assert result.output == [False, "a\\\\b"]
