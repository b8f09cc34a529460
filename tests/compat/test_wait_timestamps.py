"""Tests of breakwater/local/compat/wait_timestamps.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import events_of, machine

WAIT_UNTIL = {
    "QueryLanguage": "JSONata",
    "StartAt": "WaitState",
    "States": {"WaitState": {"Type": "Wait", "Timestamp": "{% $states.input.TimestampValue %}", "End": True}},
}


def test_a_jsonata_timestamp_that_is_not_iso_8601_fails_its_evaluation(embedded):
    result = run(
        embedded.client("stepfunctions"), machine(embedded, WAIT_UNTIL), {"TimestampValue": "2016-12-05T21:29:29"}
    )

    # AWS's answer, recorded 2024-12-27 (test_wait_timestamp_jsonata[NO_Z])
    cause = (
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). The Timestamp field "
        "cannot be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T21:29:29"
    )
    assert events_of(result, "EvaluationFailed")[0]["evaluationFailedEventDetails"] == {
        "error": "States.QueryEvaluationError",
        "cause": cause,
        "location": "Timestamp",
        "state": "WaitState",
    }
    assert (result.error, result.cause) == ("States.QueryEvaluationError", cause)


def test_without_the_patch_a_bad_timestamp_is_a_runtime_error(embedded):
    with compat.disabled("wait_timestamps"):
        result = run(
            embedded.client("stepfunctions"), machine(embedded, WAIT_UNTIL), {"TimestampValue": "2016-12-05T21:29:29"}
        )

    assert result.error == "States.Runtime"
    assert events_of(result, "EvaluationFailed") == []
