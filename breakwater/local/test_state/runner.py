"""Run one state as TestState does: once, with what the request gives it, answering what happened at each step.

The state is parsed and evaluated by the same interpreter (moto's, with the compatibility layer) that runs the
local stack's executions, one processing step at a time, so that each step's data can be reported
(``inspectionData``). A Task calls its service, or answers its mock. A failure is not retried or caught: the
answer says what the state's ``Retry`` or ``Catch`` would do (``RETRIABLE``, ``CAUGHT_ERROR``), as AWS's
does (API reference, TestState; the developer guide's "Using TestState API to test a state").
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.stepfunctions.parser.api import HistoryEventType, StateMachineType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.catch.catcher_outcome import CatcherOutcomeCaught
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
from moto.stepfunctions.parser.asl.eval.variable_store import VariableStore
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.mocking.mock_config import MockedResponseReturn

from breakwater.local.compat.assign_after_state import PENDING
from breakwater.local.test_state.errors import InvalidDefinition
from breakwater.local.test_state.request import SINGLE_STATE_NAME, TestStateRequest

SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR = "SUCCEEDED", "FAILED", "RETRIABLE", "CAUGHT_ERROR"


@dataclass
class Answer:
    """What TestState answers: the API's ``TestStateOutput``."""

    status: str = SUCCEEDED
    output: Any = None
    has_output: bool = False
    error: str | None = None
    cause: str | None = None
    next_state: str | None = None
    inspection: dict[str, Any] = field(default_factory=dict)
    error_details: dict[str, Any] = field(default_factory=dict)


class _Inspection:
    """The data after each processing step, in the order AWS's steps come."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    def record(self, key: str, value: Any) -> None:
        self.answer.inspection[key] = value


# -- the environment -------------------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_context(request: TestStateRequest, account: str, region: str) -> dict[str, Any]:
    """The context object AWS gives a tested state when the request gives none (recorded: an EXPRESS-like
    execution of a state machine of a random name, the state named "StateName" whatever its name)."""
    machine = str(uuid.uuid4())
    execution = str(uuid.uuid4())
    state: dict[str, Any] = {"Name": SINGLE_STATE_NAME, "EnteredTime": _now()}
    if request.state_type in ("Task", "Map", "Parallel"):  # the states that retry
        state["RetryCount"] = request.retry_count
    return {
        "Execution": {
            "Id": f"arn:aws:states:{region}:{account}:express:{machine}:{execution}",
            "Input": request.input,
            "Name": execution,
            "RoleArn": request.role_arn,
            "StartTime": _now(),
        },
        "StateMachine": {"Id": f"arn:aws:states:{region}:{account}:stateMachine:{machine}", "Name": machine},
        "State": state,
    }


def _environment(request: TestStateRequest, account: str, region: str) -> Environment:
    context = request.context if request.context is not None else default_context(request, account, region)
    variables = VariableStore()
    for name, value in request.variables.items():
        variables.set(variable_identifier=name, variable_value=value)
    variables.reset_tracing()
    bootstrap = {"Execution": {"Input": request.input}, "StateMachine": {}}
    env = Environment(
        aws_execution_details=AWSExecutionDetails(account=account, region=region, role_arn=request.role_arn or ""),
        execution_type=StateMachineType.EXPRESS,
        context=bootstrap,  # type: ignore[arg-type]
        event_history_context=EventHistoryContext.of_program_start(),
        cloud_watch_logging_session=None,
        activity_store={},
        variable_store=variables,
    )
    if request.mock is not None and not request.mock.fails:
        response = MockedResponseReturn(0, 0, payload=request.mock.result)
        # The tested Task answers its mock in place of its service (a mocked failure: ``_run_task``).
        env.is_mocked_mode = lambda: True  # type: ignore[method-assign]
        env.get_current_mocked_response = lambda: response  # type: ignore[method-assign]
    # The context object is the one given, as given (AWS adds nothing to it), or AWS's default.
    states: Any = env.states
    states._states_data["context"] = context
    states.context_object.context_object_data = context
    env.states.reset(input_value=request.input)
    env.next_state_name = request.state_name
    return env


@functools.lru_cache(maxsize=32)
def _parsed(definition: str) -> Any:
    """A definition parsed once (parsed components hold no run's data: executions share them, ``parse_once``)."""
    try:
        return AmazonStateLanguageParser.parse(definition)[0]
    except ASLParserException as refused:
        raise InvalidDefinition(f"Invalid State Machine Definition: '{refused}'") from None
    except Exception as refused:  # the parser refuses what AWS's schema validation refuses
        raise InvalidDefinition(f"Invalid State Machine Definition: '{refused}'") from None


def parse_state(request: TestStateRequest) -> Any:
    """The tested state, parsed by the interpreter from the definition that holds it."""
    return _parsed(json.dumps(request.definition)).states.states[request.state_name]


# -- running -------------------------------------------------------------------------------------------------


def run(request: TestStateRequest, account: str, region: str) -> Answer:
    state = parse_state(request)
    env = _environment(request, account, region)
    answer = Answer()
    inspection = _Inspection(answer)
    inspection.record("input", request.input)
    jsonpath = request.query_language == "JSONPath"
    try:
        if request.state_type != "Task":
            state._eval_state_input(env)
            if jsonpath and not _has_result(request) and request.state_type != "Parallel":
                inspection.record("afterInputPath", env.stack[-1])
        runner = _RUNNERS.get(request.state_type, _run_other)
        runner(state, env, request, inspection)
    except FailureEventException as failure:
        _failed(state, env, request, answer, failure.failure_event)
    except Exception as error:  # the interpreter's own failure: States.Runtime, as in an execution
        answer.status = FAILED
        answer.error = StatesErrorName(typ=StatesErrorNameType.StatesRuntime).error_name
        answer.cause = f"{type(error).__name__}({error})"
    _variables(env, request, inspection)
    return answer


def _has_result(request: TestStateRequest) -> bool:
    return request.state_type == "Pass" and "Result" in request.state


def _finish(state: Any, env: Any, answer: Answer) -> None:
    state._eval_state_output(env=env)
    answer.output = env.states.get_input()
    answer.has_output = True


def _variables(env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    """The variables after the state (its own Assign included), when there are any."""
    pending = env.variable_store.__dict__.get(PENDING) or {}
    for name, value in pending.items():
        env.variable_store.set(variable_identifier=name, variable_value=value)
    pending.clear()
    names = set(request.variables) | set(env.variable_store._inner_scope)
    if names:
        inspection.record("variables", {name: env.variable_store.get(name) for name in sorted(names)})


def _run_pass(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    jsonpath = request.query_language == "JSONPath"
    if jsonpath:
        if state.parameters:
            state.parameters.eval(env=env)
        if not _has_result(request):
            inspection.record("afterParameters", env.stack[-1])
        if state.result:
            state.result.eval(env=env)
            inspection.record("result", env.stack[-1])
        inspection.record("afterResultSelector", env.stack[-1])
    if state.assign_decl:
        state.assign_decl.eval(env=env)
    if jsonpath:
        _result_path(state, env, inspection)
    _finish(state, env, inspection.answer)
    inspection.answer.next_state = _next_of(request)


def _result_path(state: Any, env: Any, inspection: _Inspection) -> None:
    if state.result_path:
        state.result_path.eval(env)
    inspection.record("afterResultPath", env.stack[-1])


def _run_choice(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    state._eval_state(env)
    next_state = env.stack[-1]
    state._eval_state_output(env=env)
    answer = inspection.answer
    answer.output = env.states.get_input()
    answer.has_output = True
    answer.next_state = next_state


def _run_wait(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    # TestState does not wait: it answers what the state would output after its wait.
    if state.assign_decl:
        state.assign_decl.eval(env=env)
    _finish(state, env, inspection.answer)
    inspection.answer.next_state = _next_of(request)


def _run_fail(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    state._eval_state(env)


def _run_other(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    """Succeed, and Map or Parallel answering their mock."""
    if request.state_type in ("Map", "Parallel") and request.mock is not None:
        _run_mocked_collection(state, env, request, inspection)
        return
    _finish(state, env, inspection.answer)


THRESHOLD_ERROR = "States.ExceedToleratedFailureThreshold"
THRESHOLD_CAUSE = "The specified tolerated failure threshold was exceeded"


def _map_inspection(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    """What AWS reports of a Map's own settings (recorded): its items, concurrency and tolerance."""
    spec = request.state
    if "ItemsPath" in spec:
        path = str(spec["ItemsPath"])
        source = env.states.context_object.context_object_data if path.startswith("$$") else env.stack[-1]
        from moto.stepfunctions.parser.asl.utils.json_path import extract_json

        items = extract_json(path[1:] if path.startswith("$$") else path, source)
        if not isinstance(items, list):
            raise FailureEventException(
                _runtime_failure(
                    env, f'Reference path "{path[1:] if path.startswith("$$") else path}" must point to array.'
                )
            )
        inspection.record("afterItemsPath", items)
    inspection.answer.inspection["maxConcurrency"] = int(_setting(env, spec.get("MaxConcurrency")) or 0)
    if "ToleratedFailureCount" in spec:
        inspection.answer.inspection["toleratedFailureCount"] = int(_setting(env, spec["ToleratedFailureCount"]))
    if "ToleratedFailurePercentage" in spec:
        value = _setting(env, spec["ToleratedFailurePercentage"])
        inspection.answer.inspection["toleratedFailurePercentage"] = float(value)


def _setting(env: Any, value: Any) -> Any:
    """A Map setting as written, or what its JSONata expression (``{% ... %}``) evaluates to."""
    if isinstance(value, str) and value.startswith("{%") and value.endswith("%}"):
        from breakwater.local.compat.jsonata_evaluator import evaluate_jsonata

        return evaluate_jsonata(env, value[2:-2].strip())
    return value


def _exceeds_tolerance(env: Any, request: TestStateRequest) -> bool:
    spec = request.state
    failures = request.map_failures
    if failures is None or not isinstance(request.mock and request.mock.result, list):
        return False
    total = len(request.mock.result) if request.mock else 0
    if "ToleratedFailureCount" in spec and failures > int(_setting(env, spec["ToleratedFailureCount"])):
        return True
    return bool(
        "ToleratedFailurePercentage" in spec
        and total
        and 100 * failures / total > float(_setting(env, spec["ToleratedFailurePercentage"]))
    )


def _runtime_failure(env: Any, cause: str) -> FailureEvent:
    details: Any = {"executionFailedEventDetails": {"error": "States.Runtime", "cause": cause}}
    return FailureEvent(
        env, StatesErrorName(typ=StatesErrorNameType.StatesRuntime), HistoryEventType.ExecutionFailed, details
    )


def _run_mocked_collection(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    mock = request.mock
    assert mock is not None
    if request.state_type == "Map":
        _map_inspection(state, env, request, inspection)
    if mock.fails:
        raise FailureEventException(_mock_failure(env, mock.error or "", mock.cause or ""))
    if request.state_type == "Map" and _exceeds_tolerance(env, request):
        raise FailureEventException(_mock_failure(env, THRESHOLD_ERROR, THRESHOLD_CAUSE))
    env.stack.append(mock.result)
    if request.query_language != "JSONPath":
        env.states.set_result(mock.result)
    if state.assign_decl:
        state.assign_decl.eval(env=env)
    if request.query_language == "JSONPath":
        if getattr(state, "result_selector", None):
            state.result_selector.eval(env=env)
        inspection.record("afterResultSelector", env.stack[-1])
        _result_path(state, env, inspection)
    _finish(state, env, inspection.answer)
    inspection.answer.next_state = _next_of(request)


def _error_name_of(error: str) -> Any:
    """The interpreter's name for ``error``: one of the ``States.`` errors, or a custom one."""
    for kind in StatesErrorNameType:
        if kind.to_name() == error:
            return StatesErrorName(typ=kind)
    return CustomErrorName(error)


def _mock_failure(env: Any, error: str, cause: str) -> FailureEvent:
    details: Any = {"taskFailedEventDetails": TaskFailedEventDetails(error=error, cause=cause)}
    return FailureEvent(env, _error_name_of(error), HistoryEventType.TaskFailed, details)


def _run_task(state: Any, env: Any, request: TestStateRequest, inspection: _Inspection) -> None:
    jsonpath = request.query_language == "JSONPath"
    key = "afterParameters" if jsonpath else "afterArguments"
    state._eval_state_input(env)
    if jsonpath:
        inspection.record("afterInputPath", env.stack[-1])
    parargs = getattr(state, "parargs", None)
    if parargs is not None:
        evaluate = parargs._eval_body

        def recorded(env: Any) -> None:  # the parameters as written, before the integration drops any
            evaluate(env)
            inspection.record(key, env.stack[-1])

        parargs._eval_body = recorded
    elif jsonpath or isinstance(state, StateTaskLambda):
        inspection.record(key, env.stack[-1])
    mock = request.mock
    if mock is not None and mock.fails:
        if parargs is not None:
            parargs.eval(env=env)
        raise FailureEventException(_mock_failure(env, mock.error or "", mock.cause or ""))
    try:
        state._eval_execution(env)
    except Exception as error:
        raise FailureEventException(state._from_error(env=env, ex=error)) from error
    result = env.stack[-1]
    inspection.record("result", result)
    if not jsonpath:
        env.states.set_result(result)
    if state.assign_decl:
        state.assign_decl.eval(env=env)
    if jsonpath:
        if state.result_selector:
            state.result_selector.eval(env=env)
        inspection.record("afterResultSelector", env.stack[-1])
        _result_path(state, env, inspection)
    _finish(state, env, inspection.answer)
    inspection.answer.next_state = _next_of(request)


_RUNNERS = {"Task": _run_task, "Pass": _run_pass, "Choice": _run_choice, "Wait": _run_wait, "Fail": _run_fail}


def _next_of(request: TestStateRequest) -> str | None:
    next_state = request.state.get("Next")
    return str(next_state) if next_state else None


# -- failures: what Retry and Catch would do -------------------------------------------------------------------


def _error_name(failure_event: FailureEvent) -> Any:
    if failure_event.error_name is not None:
        return failure_event.error_name
    return StatesErrorName(typ=StatesErrorNameType.StatesRuntime)


def _matches(env: Any, error_equals: Any, failure_event: FailureEvent) -> bool:
    env.stack.append(_error_name(failure_event))
    error_equals.eval(env)
    return bool(env.stack.pop())


def _backoff(retrier: Any, retry_count: int) -> int:
    interval = float(retrier.interval_seconds.seconds) * float(retrier.backoff_rate.rate) ** retry_count
    interval = min(interval, float(retrier.max_delay_seconds.max_delays_seconds))
    return int(interval)


def _failed(state: Any, env: Any, request: TestStateRequest, answer: Answer, failure_event: FailureEvent) -> None:
    details: dict[str, Any] = dict(failure_event.event_details or {})
    spec: dict[str, Any] = next(iter(details.values()), {}) or {}
    answer.error = spec.get("error")
    answer.cause = spec.get("cause")
    answer.status = FAILED
    if not isinstance(state, ExecutionState):
        return
    env.next_state_name = request.state_name
    for index, retrier in enumerate(state.retry.retriers if state.retry else []):
        if _matches(env, retrier.error_equals, failure_event):
            answer.error_details["retryIndex"] = index
            if request.retry_count < int(retrier.max_attempts.attempts):
                answer.error_details["retryBackoffIntervalSeconds"] = _backoff(retrier, request.retry_count)
                answer.status = RETRIABLE
                return
            break
    # A catcher sees the error output, and no result (recorded: ``$states`` in a Catch's Output).
    env.states.set_error_output({"Error": answer.error or "", "Cause": answer.cause or ""})
    env.states._states_data.pop("result", None)
    for index, catcher in enumerate(state.catch.catchers if state.catch else []):
        env.stack.append(failure_event)
        catcher.eval(env)
        outcome = env.stack.pop()
        if isinstance(outcome, CatcherOutcomeCaught):
            answer.status = CAUGHT_ERROR
            answer.error_details["catchIndex"] = index
            answer.next_state = catcher.next_decl.name
            answer.output = env.states.get_input()
            answer.has_output = True
            return
        env.stack.pop()  # the failure event the catcher handed back


def to_api(answer: Answer, request: TestStateRequest) -> dict[str, Any]:
    """The answer in the API's shape: JSON documents as text, inspection data only for DEBUG and TRACE."""

    def key(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str)

    # A value the request gave and the state left as it was is answered in the request's own words.
    texts = {key(request.input): request.input_text}
    if request.mock is not None and request.mock.result_text is not None:
        texts.setdefault(key(request.mock.result), request.mock.result_text)

    def text(value: Any) -> str:
        return texts.get(key(value), to_json_str(value, separators=(",", ":")))

    def spaced(value: Any) -> str:
        """The items as AWS writes afterItemsPath, a space after each comma (recorded, from input and context)."""
        return json.dumps(value, ensure_ascii=False)

    response: dict[str, Any] = {"status": answer.status}
    if answer.has_output:
        response["output"] = text(answer.output)
    if answer.error is not None:
        response["error"] = answer.error
    if answer.cause is not None:
        response["cause"] = answer.cause
    if answer.next_state is not None and answer.status in (SUCCEEDED, CAUGHT_ERROR):
        response["nextState"] = answer.next_state
    if request.inspection_level in ("DEBUG", "TRACE"):
        inspection: dict[str, Any] = {
            name: spaced(value) if name == "afterItemsPath" else text(value)
            for name, value in answer.inspection.items()
        }
        if answer.error_details:
            inspection["errorDetails"] = dict(answer.error_details)
        response["inspectionData"] = inspection
    return response
