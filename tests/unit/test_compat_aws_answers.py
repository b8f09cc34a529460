"""The compatibility patches that make the engine answer as AWS recorded it (issue 22), each shown to be needed.

Each expected value here is AWS's, from the recordings in ``tests/parity/recordings`` (source beside each)
or AWS's documentation; the parity suite replays the recordings themselves.
"""

from __future__ import annotations

import json
import time
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


# -- assign_after_state ------------------------------------------------------------------------------------------

# AWS's recording test_state_assign_evaluation_order[BASE_EVALUATION_ORDER_PASS_STATE] (2024-11-06): 42.
EVALUATION_ORDER = {
    "StartAt": "State0",
    "States": {
        "State0": {"Type": "Pass", "Assign": {"answer": 42}, "Next": "State1"},
        "State1": {
            "Type": "Pass",
            "InputPath": "$answer",
            "ResultPath": "$.theAnswer",
            "OutputPath": "$answer",
            "Assign": {"answer": "<omitted>"},
            "End": True,
        },
    },
}


def test_a_states_own_fields_read_the_variables_from_before_its_assign(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, EVALUATION_ORDER), {})

    assert result.output == 42
    assert result.events[-2]["stateExitedEventDetails"]["assignedVariables"] == {"answer": '"<omitted>"'}


def test_a_jsonata_output_reads_the_variables_from_before_its_assign(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Assign": {"count": 1}, "Next": "Second"},
            "Second": {
                "Type": "Pass",
                "Assign": {"count": "{% $count + 1 %}"},
                "Output": "{% $count %}",
                "Next": "Third",
            },
            "Third": {"Type": "Pass", "Output": "{% [$states.input, $count] %}", "End": True},
        },
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {})

    assert result.output == [1, 2]


def test_without_the_patch_a_states_output_path_reads_its_own_new_value(embedded):
    with compat.disabled("assign_after_state"):
        result = run(embedded.client("stepfunctions"), machine(embedded, EVALUATION_ORDER), {})

    assert result.events[-1]["executionSucceededEventDetails"]["output"] == '"<omitted>"'


# -- assign_literals -------------------------------------------------------------------------------------------

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


def test_without_the_patch_an_assigned_quote_keeps_its_escape(embedded):
    with compat.disabled("assign_literals"):
        result = run(embedded.client("stepfunctions"), machine(embedded, QUOTE_LITERAL), {})

    assert result.output == [False, "a\\\\b"]


# -- execution_output -------------------------------------------------------------------------------------------


def described_output(embedded: Any, output: Any) -> str:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Output": output, "End": True}},
    }
    sfn = embedded.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine(embedded, definition), name=unique_name("e"))["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.01)
    return str(described.get("output"))


def test_described_output_is_the_json_text_of_the_history(embedded):
    answers = {json.dumps(value): described_output(embedded, value) for value in ("abc", None, {"a": "b"}, [1, 2])}

    assert answers == {'"abc"': '"abc"', "null": "null", '{"a": "b"}': '{"a":"b"}', "[1, 2]": "[1,2]"}


def test_without_the_patch_a_string_output_is_described_without_its_quotes(embedded):
    with compat.disabled("execution_output"):
        assert described_output(embedded, "abc") == "abc"
