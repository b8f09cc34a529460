"""Patch ``stop_execution``: StopExecution drops its ``error`` and ``cause`` and leaves the execution RUNNING until
the state it is in returns (a Lambda task: until the function answers), then ABORTED with an empty error and cause.
AWS aborts the execution at once: it is ABORTED, with the error and cause given, in DescribeExecution and in its
``ExecutionAborted`` event, from the moment StopExecution answers; nothing the stopped state does later is recorded.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from typing import Any

from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.backend import execution as parser_execution

from breakwater.local.compat.base import Patch

_original_add_event = EventManager.add_event
_original_reflect = parser_execution.BaseExecutionWorkerCommunication._reflect_execution_status
_STOP_LOCK = threading.Lock()
_CLOSED = "_breakwater_closed"  # set on an EventManager whose execution was stopped: it records nothing more
_RUNNER = "_breakwater_runner"  # the thread of the run that may end the execution (set by a redrive)
_VARIABLES = "_breakwater_variables"  # the variables when the execution was stopped


def _add_event(self: Any, *args: Any, **kwargs: Any) -> int:
    """Record an event, unless the execution was stopped: AWS records nothing after ``ExecutionAborted``."""
    if getattr(self, _CLOSED, False):
        return -1
    return int(_original_add_event(self, *args, **kwargs))


def _reflect_execution_status(self: Any) -> None:
    """The worker's end: a stopped execution keeps the status, date, error and cause StopExecution gave it, and
    after a redrive only the redriven run ends the execution (the stopped run's thread may end later)."""
    runner = getattr(self.execution, _RUNNER, None)
    if runner is not None and runner is not threading.current_thread():
        return
    if getattr(self.execution, _CLOSED, False):
        return
    _original_reflect(self)


def hand_over(execution: Any, runner: threading.Thread) -> None:
    """From now on only ``runner`` (a redriven run) ends ``execution``; it is no longer stopped."""
    setattr(execution, _RUNNER, runner)
    if hasattr(execution, _CLOSED):
        delattr(execution, _CLOSED)


def variables_at_stop(execution: Any) -> Any:
    """The execution's variables as they were when it was stopped (None if it was not stopped)."""
    return getattr(execution, _VARIABLES, None)


def event_details(key: str, details: dict[str, Any]) -> Any:
    """A history event's details under ``key`` (e.g. ``executionAbortedEventDetails``), as moto's EventDetails."""
    return {key: details}


def stop(execution: Any, error: str | None, cause: str | None) -> dt.datetime:
    """Abort a running execution of the parser backend now; returns its stop date (the existing one if it ended)."""
    with _STOP_LOCK:
        if execution.exec_status != ExecutionStatus.RUNNING or execution.exec_worker is None:
            return execution.stop_date or dt.datetime.now(tz=dt.UTC)
        env = execution.exec_worker.env
        now = dt.datetime.now(tz=dt.UTC)
        if env is not None:
            setattr(execution, _VARIABLES, copy.deepcopy(env.variable_store))
            env.set_stop(stop_date=now, cause=cause, error=error)  # the interpreter leaves at its next step
            env.event_history_context.source_event_id = 0
            aborted = {key: value for key, value in (("error", error), ("cause", cause)) if value is not None}
            env.event_manager.add_event(
                context=env.event_history_context,
                event_type=HistoryEventType.ExecutionAborted,
                event_details=event_details("executionAbortedEventDetails", aborted),
                timestamp=now,
            )
            setattr(env.event_manager, _CLOSED, True)
        setattr(execution, _CLOSED, True)
        # Readers do not take the lock: the status goes last, so whoever sees ABORTED sees its error and cause.
        execution.stop_date = now
        execution.error = error
        execution.cause = cause
        execution.exec_status = ExecutionStatus.ABORTED
        return now


def _stop_execution(self: Any) -> Any:
    """StopExecution: ABORTED now, with the ``error`` and ``cause`` of the request (both optional)."""
    from moto.core.responses import ActionResult

    arn = self._get_param("executionArn")
    backend = self.stepfunction_backend
    execution = backend.describe_execution(arn)  # ExecutionDoesNotExist / InvalidArn as moto answers them
    if not hasattr(execution, "exec_worker"):  # the non-executing backend: moto's own answer
        execution = backend.stop_execution(arn)
        return ActionResult({"stopDate": execution.stop_date})
    stopped_at = stop(execution, self._get_param("error"), self._get_param("cause"))
    return ActionResult({"stopDate": stopped_at})


PATCH = Patch(
    "stop_execution",
    "StopExecution aborts at once and keeps its error and cause; nothing is recorded after ExecutionAborted",
    [
        (sfn_responses.StepFunctionResponse, "stop_execution", _stop_execution),
        (EventManager, "add_event", _add_event),
        (parser_execution.BaseExecutionWorkerCommunication, "_reflect_execution_status", _reflect_execution_status),
    ],
)
