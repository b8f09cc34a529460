"""Tests of breakwater/local/compat/jsonata_evaluator.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from unittest import mock

import pytest

from breakwater.executions import run
from breakwater.local import compat, jsonata
from tests.compat.helpers import JSONATA, machine


def test_jsonatas_context_dollar_is_evaluated_in_a_predicate(embedded):
    # AWS's answer, recorded (TestState test_map_state_failure_count[*-MAP_TASK_STATE]): the count of ones.
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Count",
        "States": {"Count": {"Type": "Pass", "Output": "{% $count($states.input.values[$ = 1]) %}", "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"values": [1, 0, 1]})

    assert (result.status, result.output) == ("SUCCEEDED", 2)


def test_jsonata_is_evaluated(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, JSONATA), {"a": 2, "b": 3})

    assert result.output == {"total": 5}


def test_without_the_evaluator_jsonata_fails(embedded):
    arn = machine(embedded, JSONATA)
    with compat.disabled("jsonata_evaluator"):
        result = run(embedded.client("stepfunctions"), arn, {"a": 2, "b": 3})

    assert result.status == "FAILED"


def test_jsonata_errors_use_the_aws_error_name(embedded):
    broken = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": "{% $number('abc') + {} %}", "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, broken), {})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"


QUOTED = {
    "QueryLanguage": "JSONata",
    "StartAt": "Remember",
    "States": {
        "Remember": {"Type": "Pass", "Assign": {"said": "{% $states.input.text %}"}, "Next": "Repeat"},
        "Repeat": {"Type": "Pass", "Output": "{% {'said': $said, 'length': $length($said)} %}", "End": True},
    },
}


def test_string_variables_with_quotes_and_backslashes_survive(embedded):
    text = 'she said "hi" \\ bye'

    result = run(embedded.client("stepfunctions"), machine(embedded, QUOTED), {"text": text})

    assert result.output == {"said": text, "length": len(text)}


def test_an_astral_character_in_a_variable_counts_once(embedded):
    # moto wrote variables into the expression as JSON text: an emoji became two escaped UTF-16 halves.
    text = "\U0001f600" * 100

    result = run(embedded.client("stepfunctions"), machine(embedded, QUOTED), {"text": text})

    assert result.output == {"said": text, "length": 100}


def test_a_variable_read_by_a_jsonpath_state_survives_quotes_and_astral_characters(embedded):
    definition = {
        "StartAt": "Remember",
        "States": {
            "Remember": {"Type": "Pass", "Assign": {"said.$": "$.text"}, "Next": "Repeat"},
            "Repeat": {"Type": "Pass", "Parameters": {"said.$": "$said"}, "End": True},
        },
    }
    text = 'she said "hi" \\U0001f600'

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"text": text})

    assert result.output == {"said": text}


def test_each_expression_is_parsed_once_for_many_executions(embedded):
    arn = machine(embedded, QUOTED)
    sfn = embedded.client("stepfunctions")
    run(sfn, arn, {"text": "warm"})
    with mock.patch.object(jsonata.jsonata_lib.Jsonata, "__init__", autospec=True) as parse:
        results = [run(sfn, arn, {"text": f"text {i}"}) for i in range(3)]

    assert [r.output["said"] for r in results] == ["text 0", "text 1", "text 2"]
    assert parse.call_count == 0


@pytest.mark.parametrize("expression", ["{% $states.input.a ?? 1 %}", "{% $states.input.a ?: 1 %}", "{% $eval('1') %}"])
def test_what_aws_does_not_have_fails_with_the_aws_error_name(embedded, expression):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": expression, "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"a": 2})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"


def test_an_expression_that_returns_nothing_fails_with_the_aws_error_name(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": "{% $states.input.missing %}", "End": True}},
    }

    result = run(embedded.client("stepfunctions"), machine(embedded, definition), {"a": 2})

    assert result.status == "FAILED"
    assert result.error == "States.QueryEvaluationError"
    assert "returned nothing" in (result.cause or "")


def test_parse_is_json_parsing_and_fails_on_text_that_is_not_json(embedded):
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Shape",
        "States": {"Shape": {"Type": "Pass", "Output": "{% $parse($states.input.text) %}", "End": True}},
    }
    arn = machine(embedded, definition)
    sfn = embedded.client("stepfunctions")

    parsed = run(sfn, arn, {"text": '{"a": [1, null]}'})
    expression = run(sfn, arn, {"text": "1 + 1"})

    assert parsed.output == {"a": [1, None]}
    assert expression.status == "FAILED"
    assert expression.error == "States.QueryEvaluationError"
