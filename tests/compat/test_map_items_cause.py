"""Tests of breakwater/local/compat/map_items_cause.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import pytest

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

MAP_OF_INPUT = {
    "QueryLanguage": "JSONata",
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Output": "{% $states.input.items %}", "Next": "MapIterateState"},
        "MapIterateState": {
            "Type": "Map",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Pass",
                "States": {"Pass": {"Type": "Pass", "End": True}},
            },
            "End": True,
        },
    },
}


@pytest.mark.parametrize(("items", "written"), [(True, "true"), (None, "null"), ({"foo": "bar"}, '{"foo":"bar"}')])
def test_a_map_of_something_else_than_an_array_names_the_value(embedded, items, written):
    result = run(embedded.client("stepfunctions"), machine(embedded, MAP_OF_INPUT), {"items": items})

    # AWS's answer, recorded 2024-11-19 (test_map_state_items_input_types)
    assert (result.error, result.cause) == (
        "States.QueryEvaluationError",
        "An error occurred while executing the state 'MapIterateState' (entered at the event id #4). Map state "
        f"input must be an array but was: {written}",
    )


def test_without_the_patch_the_cause_names_a_python_class(embedded):
    with compat.disabled("map_items_cause"):
        result = run(embedded.client("stepfunctions"), machine(embedded, MAP_OF_INPUT), {"items": True})

    assert (result.cause or "").endswith("<class 'bool'>")
