"""Patch ``redrive_execution``: RedriveExecution is not implemented (moto answers an HTML 500 and logs
``NotImplementedError``), and DescribeExecution has no ``redriveCount``/``redriveStatus``. AWS redrives a FAILED,
ABORTED or TIMED_OUT STANDARD execution under the same ARN: an ``ExecutionRedriven`` event, then the state that did
not succeed runs again with the input it had and the variables as they were, and the execution goes on from there.

Not modelled: the 14-day redrivable period (a local stack does not live that long), Map and Parallel iterations
(this workflow has none: such an execution is redriven from the Map or Parallel state as a whole).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from typing import Any

from moto.core.exceptions import AWSError
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.api import ExecutionStatus, HistoryEventType
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.eval.program_state import ProgramRunning
from moto.stepfunctions.parser.utils import TMP_THREADS

from breakwater.local.compat import stop_execution
from breakwater.local.compat.base import Patch
from breakwater.local.compat.stop_execution import event_details as _details

_original_describe_execution = sfn_responses.StepFunctionResponse.describe_execution
REDRIVABLE = frozenset({"FAILED", "ABORTED", "TIMED_OUT"})
_ENTERED_SUFFIX = "StateEntered"
_REDRIVE_LOCK = threading.Lock()


class ExecutionNotRedrivable(AWSError):
    """The execution cannot be redriven (it succeeded, still runs, or is EXPRESS)."""

    TYPE = "ExecutionNotRedrivable"
    STATUS = 400


def _status(execution: Any) -> str:
    status = execution.exec_status
    return str(getattr(status, "value", status))


def not_redrivable_reason(execution: Any) -> str | None:
    """Why AWS would refuse to redrive ``execution``; None when it may be redriven."""
    if str(getattr(execution.sm_type, "value", execution.sm_type)) == "EXPRESS":
        return "This API action is not supported by EXPRESS state machines."
    status = _status(execution)
    if status not in REDRIVABLE:
        return f"Execution is {status} and cannot be redriven."
    if execution.exec_worker is None or execution.exec_worker.env is None:
        return "Execution never started and cannot be redriven."
    return None


def _failed_state(events: list[dict[str, Any]]) -> tuple[str, Any]:
    """The last state entered (the one that did not succeed) and the input it entered with."""
    for event in reversed(events):
        details = event.get("stateEnteredEventDetails")
        if str(event.get("type", "")).endswith(_ENTERED_SUFFIX) and details:
            raw = details.get("input")
            return str(details["name"]), json.loads(raw) if isinstance(raw, str) else raw
    raise ExecutionNotRedrivable("Execution never entered a state and cannot be redriven")


def redrive(execution: Any) -> dt.datetime:
    """Run ``execution`` again from the state it failed in, under the same ARN; returns the redrive date.

    The run gets an environment of its own: the stopped run's thread may still be inside its state (a Lambda
    that answers after the stop), and whatever it does there must touch neither the new run nor its history.
    """
    with _REDRIVE_LOCK:
        reason = not_redrivable_reason(execution)
        if reason is not None:
            raise ExecutionNotRedrivable(f"{reason} ({execution.exec_arn})")
        worker = execution.exec_worker
        old = worker.env
        history = old.event_manager.get_event_history()
        state_name, state_input = _failed_state(history)
        count = int(getattr(execution, "redrive_count", 0)) + 1
        now = dt.datetime.now(tz=dt.UTC)
        env = worker._get_evaluation_environment()
        # The variables as the failed state found them (a stopped run's were kept when it was stopped).
        env.variable_store = copy.deepcopy(stop_execution.variables_at_stop(execution) or old.variable_store)
        env.event_manager = _continued(old.event_manager, history)
        running = ProgramRunning()
        running.next_state_name = state_name
        env._program_state = running
        env.states.reset(input_value=state_input)
        env.states.context_object.context_object_data["Execution"]["RedriveCount"] = count  # type: ignore[typeddict-unknown-key]
        env.event_manager.add_event(
            context=env.event_history_context,
            event_type=HistoryEventType.ExecutionRedriven,
            event_details=_details("executionRedrivenEventDetails", {"redriveCount": count}),
            timestamp=now,
        )
        program = worker._get_evaluation_entrypoint()  # the definition the execution started with
        worker.env = env
        execution.redrive_count = count
        execution.redrive_date = now
        execution.exec_status = ExecutionStatus.RUNNING
        execution.stop_date = None
        execution.error = None
        execution.cause = None
        execution.output = None

        def run() -> None:
            _eval_from(program, env)
            worker._execution_communication.terminated()

        thread = threading.Thread(target=run, name="redrive", daemon=True)
        stop_execution.hand_over(execution, thread)  # only this run may now end the execution
        TMP_THREADS.append(thread)
        thread.start()
        return now


def _continued(previous: EventManager, history: list[dict[str, Any]]) -> EventManager:
    """An event manager holding ``history`` that numbers new events after it, logging as ``previous`` did."""
    manager = EventManager(cloud_watch_logging_session=previous._cloud_watch_logging_session)
    manager._history_event_list.extend(history)  # type: ignore[arg-type]
    manager._event_id_gen._next_id = previous._event_id_gen._next_id
    return manager


def _eval_from(program: Any, env: Any) -> None:
    """What ``Program.eval`` does, from the state already set as next (the state machine timeout starts again)."""
    timeout = program.timeout_seconds.timeout_seconds if program.timeout_seconds else None
    body = threading.Thread(target=program._eval_body, args=(env,), name="redrive-body", daemon=True)
    TMP_THREADS.append(body)
    body.start()
    body.join(timeout=timeout)
    if body.is_alive():
        env.set_timed_out()


def _redrive_execution(self: Any) -> Any:
    """RedriveExecution: ``redriveDate``; ExecutionNotRedrivable for what AWS refuses."""
    from moto.core.responses import ActionResult

    arn = self._get_param("executionArn")
    execution = self.stepfunction_backend.describe_execution(arn)  # ExecutionDoesNotExist / InvalidArn
    if not hasattr(execution, "exec_worker"):
        raise ExecutionNotRedrivable(f"Execution cannot be redriven by this backend: '{arn}'")
    return ActionResult({"redriveDate": redrive(execution)})


def _describe_execution(self: Any) -> Any:
    """DescribeExecution with the redrive fields: ``redriveCount``, ``redriveStatus`` (and reason), ``redriveDate``."""
    result = _original_describe_execution(self)
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    response = result.result if hasattr(result, "result") else None
    if not isinstance(response, dict) or not hasattr(execution, "exec_worker"):
        return result
    response["redriveCount"] = int(getattr(execution, "redrive_count", 0))
    if getattr(execution, "redrive_date", None) is not None:
        response["redriveDate"] = execution.redrive_date
    reason = not_redrivable_reason(execution)
    response["redriveStatus"] = "REDRIVABLE" if reason is None else "NOT_REDRIVABLE"
    if reason is not None:
        response["redriveStatusReason"] = reason
    return result


PATCH = Patch(
    "redrive_execution",
    "RedriveExecution runs a failed, aborted or timed-out STANDARD execution again from the state that failed",
    [
        (sfn_responses.StepFunctionResponse, "redrive_execution", _redrive_execution),
        (sfn_responses.StepFunctionResponse, "describe_execution", _describe_execution),
    ],
)
