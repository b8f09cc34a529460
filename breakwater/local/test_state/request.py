"""A TestState request, read and checked as AWS checks it (API reference, TestState; recorded refusals in
tests/parity/test_state_recordings).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from breakwater.local.test_state import mock_schema
from breakwater.local.test_state.errors import (
    InvalidDefinition,
    InvalidExecutionInput,
    ValidationException,
)

SINGLE_STATE_NAME = "StateName"
"""The name AWS gives the state of a definition that is one state alone."""

STATE_TYPES = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map")
WITHOUT_MOCK = ("Task", "Wait", "Pass", "Succeed", "Fail", "Choice")
NEEDS_MOCK = ("Map", "Parallel")
REFUSE_MOCK = ("Pass", "Succeed", "Fail")
INSPECTION_LEVELS = ("INFO", "DEBUG", "TRACE")
CONTEXT_FIELDS = {
    "Execution": {"Id", "Input", "Name", "RoleArn", "StartTime", "RedriveCount", "RedriveTime"},
    "State": {"EnteredTime", "Name", "RetryCount"},
    "StateMachine": {"Id", "Name"},
    "Task": {"Token"},
}


@dataclass
class Mock:
    """What a Task is made to answer instead of calling its service."""

    result: Any = None
    result_text: str | None = None
    error: str | None = None
    cause: str | None = None
    validation: str = mock_schema.STRICT

    @property
    def fails(self) -> bool:
        return self.result_text is None


@dataclass
class TestStateRequest:
    """A request TestState accepted: the state to test, in the definition that holds it, and what it is given."""

    __test__ = False  # not a test class

    state_name: str
    state: dict[str, Any]
    definition: dict[str, Any]
    input: Any
    input_text: str
    inspection_level: str = "INFO"
    role_arn: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] | None = None
    mock: Mock | None = None
    retry_count: int = 0
    map_failures: int | None = None
    reveal_secrets: bool = False

    @property
    def state_type(self) -> str:
        return str(self.state.get("Type"))

    @property
    def query_language(self) -> str:
        return str(self.state.get("QueryLanguage") or self.definition.get("QueryLanguage") or "JSONPath")


def _json(text: Any, refusal: Exception) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        raise refusal from None


def _scope_of(machine: Any, name: str) -> dict[str, Any] | None:
    """The (sub-)machine whose ``States`` hold ``name``: the definition's own, or a Map's or a Parallel's."""
    states = machine.get("States") if isinstance(machine, dict) else None
    if not isinstance(states, dict):
        return None
    if name in states:
        return machine  # type: ignore[no-any-return]
    for state in states.values():
        if not isinstance(state, dict):
            continue
        inner = [state.get("ItemProcessor"), state.get("Iterator"), *(state.get("Branches") or [])]
        for scope in inner:
            found = _scope_of(scope, name)
            if found is not None:
                return found
    return None


def _definition(params: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The state to test, its name and the whole definition that holds it."""
    text = params.get("definition")
    if not isinstance(text, str) or not text:
        raise ValidationException(
            "1 validation error detected: Value null at 'definition' failed to satisfy "
            "constraint: Member must not be null"
        )
    document = _json(text, InvalidDefinition("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION'"))
    if not isinstance(document, dict):
        raise InvalidDefinition("Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION'")
    state_name = params.get("stateName")
    if state_name is not None:
        scope = _scope_of(document, str(state_name))
        if scope is None:
            raise ValidationException("State not found in definition")
        if scope is not document:  # a state inside a Map or a Parallel: tested in its own scope (recorded)
            language = {"QueryLanguage": document["QueryLanguage"]} if "QueryLanguage" in document else {}
            scope = {**language, "StartAt": scope.get("StartAt"), "States": scope["States"]}
        return str(state_name), dict(scope["States"][state_name]), scope
    state = dict(document)
    single = {"StartAt": SINGLE_STATE_NAME, "States": {SINGLE_STATE_NAME: state}}
    return SINGLE_STATE_NAME, state, single


def _mock(params: dict[str, Any]) -> Mock | None:
    given = params.get("mock")
    if not given:
        return None
    has_result, has_error = "result" in given, "errorOutput" in given
    if has_result == has_error:
        raise ValidationException("A test mock should have only one of the following fields: [result, errorOutput].")
    mode = str(given.get("fieldValidationMode") or mock_schema.STRICT)
    if has_error:
        error_output = given.get("errorOutput") or {}
        return Mock(error=error_output.get("error"), cause=error_output.get("cause"), validation=mode)
    text = given.get("result")
    result = _json(text, ValidationException("Mocked result must be valid JSON"))
    return Mock(result=result, result_text=str(text), validation=mode)


def _context(params: dict[str, Any]) -> dict[str, Any] | None:
    text = params.get("context")
    if text is None:
        return None
    context = _json(text, ValidationException("Invalid Context object provided: the context is not valid JSON"))
    if not isinstance(context, dict):
        raise ValidationException("Invalid Context object provided: the context must be a JSON object")
    for name, value in context.items():
        if name == "Map":
            raise ValidationException(
                "Invalid Context object provided: 'Map' field is not supported when mocking a Context object"
            )
        if name not in CONTEXT_FIELDS:
            raise ValidationException(f"Invalid Context object provided: Field '{name}' is not allowed")
        for member, member_value in (value or {}).items():
            if member not in CONTEXT_FIELDS[name]:
                raise ValidationException(f"Invalid Context object provided: Field '{member}' is not allowed")
            if member in ("Id", "Name", "RoleArn", "Token") and not isinstance(member_value, str):
                raise ValidationException(f"Invalid Context object provided: {name}.{member} must be a string")
    return context


def _check_state(request: TestStateRequest, params: dict[str, Any]) -> None:
    kind = request.state_type
    if kind not in STATE_TYPES:
        where = f"/States/{request.state_name}/Type"
        raise InvalidDefinition(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of "
            f"these values: [{', '.join(STATE_TYPES)}] at {where}'"
        )
    if kind == "Parallel" and request.state.get("Branches") == []:
        raise InvalidDefinition(
            "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Value cannot be empty at "
            f"/States/{request.state_name}/Branches'"
        )
    mock = request.mock
    configuration = params.get("stateConfiguration") or {}
    if "mapIterationFailureCount" in configuration and mock is None:
        raise ValidationException("TestState does not support MapIterationFailureCount when a mock is not specified.")
    if kind in NEEDS_MOCK and mock is None:
        raise InvalidDefinition(
            "TestState API does not support Map or Parallel states. Supported state types include: "
            f"[{', '.join(WITHOUT_MOCK)}]"
        )
    if mock is not None and kind in REFUSE_MOCK:
        raise ValidationException(f"State type '{kind}' is not supported when a mock is specified")
    if mock is not None and request.reveal_secrets:
        raise ValidationException("TestState does not support RevealSecrets when a mock is specified.")
    if kind == "Task" and mock is None and not request.role_arn:
        raise ValidationException("RoleArn must be specified when testing a Task state")
    resource = str(request.state.get("Resource", ""))
    if request.context and "Task" in request.context and not (".sync" in resource or ".waitForTaskToken" in resource):
        raise ValidationException(
            "Invalid Context object provided: Context object contains 'Task' when state is not a Task state with "
            "a '.sync' or '.waitForTaskToken' service integration pattern"
        )
    if mock is not None and not mock.fails:
        _check_mocked_result(request, mock, configuration)


def _check_mocked_result(request: TestStateRequest, mock: Mock, configuration: dict[str, Any]) -> None:
    kind = request.state_type
    if kind == "Parallel":
        branches = request.state.get("Branches") or []
        if not isinstance(mock.result, list):
            raise ValidationException("Mocked result must be an array.")
        if len(mock.result) != len(branches):
            raise ValidationException(
                "Mocked result must contain the same number of items as number of Parallel branches."
            )
    if kind == "Map":
        if "ResultWriter" in request.state and not isinstance(mock.result, dict):
            raise ValidationException("Mocked result must be a JSON object.")
        if "ResultWriter" not in request.state and not isinstance(mock.result, list):
            raise ValidationException("Mocked result must be an array.")
        failures = configuration.get("mapIterationFailureCount")
        if isinstance(mock.result, list) and failures is not None and failures > len(mock.result):
            raise ValidationException(
                "Map iteration failure count must be less than or equal to the number of Map iterations"
            )
    if kind == "Task":
        mock_schema.check(mock.result, str(request.state.get("Resource", "")), mock.validation)


def read_request(params: dict[str, Any]) -> TestStateRequest:
    """The TestState request ``params`` (the API's JSON body), or AWS's refusal of it."""
    state_name, state, definition = _definition(params)
    input_text = params.get("input")
    input_text = "{}" if input_text is None else str(input_text)
    value = _json(
        input_text, InvalidExecutionInput("Invalid State Machine Execution Input: 'Invalid execution input.'")
    )
    variables_text = params.get("variables")
    variables = _json(variables_text, ValidationException("Variables must be a JSON object")) if variables_text else {}
    if not isinstance(variables, dict):
        raise ValidationException("Variables must be a JSON object")
    level = str(params.get("inspectionLevel") or "INFO")
    if level not in INSPECTION_LEVELS:
        raise ValidationException(
            f"1 validation error detected: Value '{level}' at 'inspectionLevel' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(INSPECTION_LEVELS)}]"
        )
    configuration = params.get("stateConfiguration") or {}
    request = TestStateRequest(
        state_name=state_name,
        state=state,
        definition=definition,
        input=value,
        input_text=input_text,
        inspection_level=level,
        role_arn=params.get("roleArn"),
        variables=variables,
        context=_context(params),
        mock=_mock(params),
        retry_count=int(configuration.get("retrierRetryCount") or 0),
        map_failures=configuration.get("mapIterationFailureCount"),
        reveal_secrets=bool(params.get("revealSecrets")),
    )
    _check_state(request, params)
    return request
