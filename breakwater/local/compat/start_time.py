"""Patch ``start_time``: ``$$.Execution.StartTime`` is a Python datetime; as on AWS it must be an ISO-8601 string."""

from __future__ import annotations

import datetime as dt
from typing import Any

from moto.stepfunctions.parser.backend import execution_worker

from breakwater.local.compat.base import Patch
from breakwater.local.compat.timestamps import iso_timestamp

_original_environment = execution_worker.ExecutionWorker._get_evaluation_environment


def _environment_with_string_start_time(self: Any) -> Any:
    env = _original_environment(self)
    execution = env.states._states_data["context"]["Execution"]
    start = execution.get("StartTime")
    if isinstance(start, dt.datetime):
        execution["StartTime"] = iso_timestamp(start)
    return env


PATCH = Patch(
    "start_time",
    "$$.Execution.StartTime as an ISO-8601 string",
    [(execution_worker.ExecutionWorker, "_get_evaluation_environment", _environment_with_string_start_time)],
)
