"""Patch ``wait_timestamps``: a Wait state's JSONata ``Timestamp`` that is not an ISO-8601 date-time failed with
``States.Runtime`` ("The Timestamp parameter does not reference a valid ISO-8601 ... == <value>") and no
``EvaluationFailed`` event; AWS reports it as the field's evaluation failing (recorded;
tests/parity/recordings/scenarios.json, ``test_wait_timestamp_jsonata``)::

    EvaluationFailed  States.QueryEvaluationError, location "Timestamp", cause "... The Timestamp field cannot
                      be parsed as an ISO-8601 extended offset date-time format string: 2016-12-05T21:29:29"
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.string.string_expression import StringJSONata
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

from breakwater.local.compat.base import Patch

_original_failure = Timestamp._create_failure_event


def _failure(self: Any, env: Any, timestamp_str: str) -> FailureEvent:
    if not isinstance(self.string, StringJSONata):
        return _original_failure(self, env, timestamp_str)
    error = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    details = EvaluationFailedEventDetails(
        error=error.error_name,
        cause=f"The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: "
        f"{timestamp_str}",
        location="Timestamp",
    )
    event_details: Any = {"evaluationFailedEventDetails": details}
    return FailureEvent(
        env=env, error_name=error, event_type=HistoryEventType.EvaluationFailed, event_details=event_details
    )


PATCH = Patch(
    "wait_timestamps",
    "a JSONata Timestamp that is not an ISO-8601 date-time fails as AWS reports it (EvaluationFailed, Timestamp)",
    [(Timestamp, "_create_failure_event", _failure)],
)
