"""Patch ``branch_error_names``: a Map iteration or a Parallel branch that failed with one of the ``States.``
errors (``States.QueryEvaluationError`` from an expression inside it, ``States.Timeout``) failed its parent with
``States.Runtime`` "Custom Error Names MUST NOT begin with the prefix 'States.'": moto named the branch's error
as a custom one (and would have put the parent's prefix before the branch state's). AWS fails the parent with
the branch's own error and cause (recorded;
tests/parity/recordings/error_output.json, ``test_map_catch_error[MAP_CATCH_ERROR_OUTPUT_WITH_RETRY]``)::

    ExecutionFailed  States.QueryEvaluationError  An error occurred while executing the state 'Fallback' (entered
                     at the event id #13). The JSONata expression '$stateError' specified for the field
                     'Output/error' returned nothing (undefined).
"""

from __future__ import annotations

import re
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

from breakwater.local.compat.base import Patch

_STATES_ERRORS = {kind.to_name(): kind for kind in StatesErrorNameType}


def error_name(error_name: str | None) -> Any:
    """The interpreter's name for a branch's error: one of the ``States.`` errors, or a custom one."""
    kind = _STATES_ERRORS.get(error_name or "")
    return StatesErrorName(typ=kind) if kind is not None else CustomErrorName(error_name=error_name)


# The state's prefix in front of a cause that already has its own state's prefix (the branch's).
_PREFIXED_TWICE = re.compile(
    r"An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. "
    r"(?=An error occurred while executing the state )"
)
_original_execution_failed = FailureEventException.get_execution_failed_event_details


def _execution_failed(self: Any) -> Any:
    """As moto words it, but a branch's cause keeps the branch state's prefix alone, as AWS writes it."""
    details: Any = _original_execution_failed(self)
    if details and details.get("cause"):
        details["cause"] = _PREFIXED_TWICE.sub("", str(details["cause"]), count=1)
    return details


PATCH = Patch(
    "branch_error_names",
    "a Map iteration or Parallel branch failing with a States. error fails its parent with that error",
    [
        (iteration_worker, "CustomErrorName", error_name),
        (branches_decl, "CustomErrorName", error_name),
        (FailureEventException, "get_execution_failed_event_details", _execution_failed),
    ],
)
