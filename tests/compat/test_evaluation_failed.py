"""Tests of breakwater/local/compat/evaluation_failed.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import events_of, machine

UNDEFINED_OUTPUT = {
    "QueryLanguage": "JSONata",
    "StartAt": "State0",
    "States": {"State0": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": True}},
}


# AWS's answer (recorded 2024-11-21, test_assign_reference_variables BASE_UNDEFINED_OUTPUT_FIELD).
UNDEFINED_CAUSE = (
    "An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression "
    "'$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
)


def test_an_output_expression_that_fails_reports_evaluation_failed_with_its_field(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, UNDEFINED_OUTPUT), {})

    assert [e["type"] for e in result.events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "EvaluationFailed",
        "ExecutionFailed",
    ]
    failed = events_of(result, "EvaluationFailed")[0]
    assert failed["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": UNDEFINED_CAUSE,
        "location": "Output/result",
        "state": "State0",
    }
    assert failed["previousEventId"] == 0  # AWS links it to the event before the state was entered
    assert (result.error, result.cause) == ("States.QueryEvaluationError", UNDEFINED_CAUSE)


def test_an_assign_expression_that_fails_names_its_variable(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "State0",
        "States": {"State0": {"Type": "Pass", "Assign": {"result": "{% $doesNotExist %}"}, "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    assert events_of(result, "EvaluationFailed")[0]["evaluationFailedEventDetails"]["location"] == "Assign/result"
    assert "specified for the field 'Assign/result' returned nothing" in (result.cause or "")


def test_an_arguments_expression_that_fails_is_reported_once_with_the_state_prefix(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "State0",
        "States": {
            "State0": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "{% $doesNotExist %}"},
                "End": True,
            }
        },
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    (failed,) = events_of(result, "EvaluationFailed")
    assert failed["evaluationFailedEventDetails"]["cause"].startswith(
        "An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression "
        "'$doesNotExist' specified for the field 'Arguments/FunctionName'"
    )


def test_a_jsonata_error_is_worded_as_aws_words_it(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "State_0",
        "States": {"State_0": {"Type": "Pass", "Output": {"FunctionResult": "{% $randomSeeded(3) %}"}, "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    assert result.cause == (
        "An error occurred while executing the state 'State_0' (entered at the event id #2). The JSONata expression "
        "'$randomSeeded(3)' specified for the field 'Output/FunctionResult' threw an error during evaluation. "
        "T1006: Attempted to invoke a non-function"
    )


def test_without_the_patch_a_failing_output_reports_no_evaluation_failed(embedded):
    with compat.disabled("evaluation_failed"):
        result = run(embedded.client("stepfunctions"), machine(embedded, UNDEFINED_OUTPUT), {})

    assert events_of(result, "EvaluationFailed") == []
    assert "specified for the field" not in (result.cause or "")
