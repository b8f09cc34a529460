"""Tests of breakwater/local/compat/assign_after_state.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

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
