"""Tests of breakwater/local/compat/branch_error_names.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import re

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

MAP_FAILING_INSIDE = {
    "QueryLanguage": "JSONata",
    "StartAt": "ProcessItems",
    "States": {
        "ProcessItems": {
            "Type": "Map",
            "Items": "{% $states.input.items %}",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Fallback",
                "States": {"Fallback": {"Type": "Pass", "Output": {"error": "{% $stateError %}"}, "End": True}},
            },
            "End": True,
        }
    },
}


def test_an_iteration_failing_with_a_states_error_fails_the_map_with_it(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, MAP_FAILING_INSIDE), {"items": [1]})

    # As AWS recorded it, 2024-11-12 (test_map_catch_error[MAP_CATCH_ERROR_OUTPUT_WITH_RETRY]): the iteration's
    # error, and its cause with the iteration state's prefix alone.
    assert result.error == "States.QueryEvaluationError"
    assert re.fullmatch(
        r"An error occurred while executing the state 'Fallback' \(entered at the event id #\d+\)\. The JSONata "
        r"expression '\$stateError' specified for the field 'Output/error' returned nothing \(undefined\)\.",
        result.cause or "",
    )


def test_without_the_patch_a_states_error_in_an_iteration_is_a_custom_name_refused(embedded):
    with compat.disabled("branch_error_names"):
        result = run(embedded.client("stepfunctions"), machine(embedded, MAP_FAILING_INSIDE), {"items": [1]})

    assert result.error == "States.Runtime"
    assert "Custom Error Names MUST NOT begin with the prefix 'States.'" in (result.cause or "")
