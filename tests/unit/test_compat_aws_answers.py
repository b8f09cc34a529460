"""The compatibility patches that make the engine answer as AWS recorded it (issue 22), each shown to be needed.

Each expected value here is AWS's, from the recordings in ``tests/parity/recordings`` (source beside each)
or AWS's documentation; the parity suite replays the recordings themselves.
"""

from __future__ import annotations

import json
from typing import Any

from breakwater.executions import run, unique_name
from breakwater.local import compat

ROLE = "arn:aws:iam::123456789012:role/breakwater-test"


def machine(embedded: Any, definition: dict[str, Any]) -> str:
    # A definition of its own each time: a parse made with a patch disabled is not shared with one made with it.
    definition = {**definition, "Comment": unique_name("c")}
    sfn = embedded.client("stepfunctions")
    return sfn.create_state_machine(name=unique_name("m"), definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]


def events_of(result: Any, kind: str) -> list[dict[str, Any]]:
    return [event for event in result.events if event["type"] == kind]


# -- evaluation_failed -----------------------------------------------------------------------------------------

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
