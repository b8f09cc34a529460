"""TestState of the workflow's own states: on the local stack by default, on AWS with ``--teststate-aws``.

Each test names one state of ``statemachine/circuit_breaker.asl.json`` (``stateName`` within the whole
definition, as deployed with the template's defaults), gives it the variables and input the states before it
would leave, mocks its service call, and checks the state's answer: ``status``, ``nextState``, ``output``,
``error``/``cause`` and the variables it assigns (``inspectionData``, DEBUG). Every service call is mocked, so
on AWS the suite needs only ``states:TestState`` (no stack, no role). docs/testing.md, "Testing with TestState".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from breakwater.local.compat import substitute_definition
from breakwater.template import ASL_PATH, parameters

# What CloudFormation fills from the stack's resources: stand-ins shaped like the real values (every call to
# them is mocked).
RESOURCES = {
    "Partition": "aws",
    "BreakerTableName": "breakwater-BreakerTable-EXAMPLE",
    "FallbackQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/breakwater-FallbackQueue-EXAMPLE",
    "PaymentFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:breakwater-PaymentFunction-EXAMPLE",
}


def definition(**overrides: Any) -> str:
    """The workflow's definition as deployed with the template's parameter defaults and ``overrides``."""
    values = {name: spec.default for name, spec in parameters().items() if spec.default is not None}
    values.update({name: str(value) for name, value in overrides.items()})
    values.update(RESOURCES)
    return substitute_definition(ASL_PATH.read_text(), values)


@dataclass
class Answer:
    """One TestState answer, its JSON documents parsed."""

    status: str
    next_state: str | None
    output: Any
    error: str | None
    cause: str | None
    inspection: dict[str, Any] = field(default_factory=dict)

    @property
    def variables(self) -> dict[str, Any]:
        """The state's variables after it ran (``inspectionData.variables``)."""
        return dict(self.inspection.get("variables") or {})


def _parsed(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class TestState:
    """Calls TestState on one state of the workflow."""

    __test__ = False  # not a test class

    def __init__(self, client: Any, on_aws: bool) -> None:
        self.client = client
        self.on_aws = on_aws
        self._definitions: dict[tuple[tuple[str, str], ...], str] = {}

    def __call__(
        self,
        state: str,
        *,
        input: Any = None,  # noqa: A002 - the API's name
        variables: dict[str, Any] | None = None,
        result: Any = None,
        error: str | None = None,
        cause: str = "",
        validation: str = "STRICT",
        retry_count: int | None = None,
        context: dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> Answer:
        """Run ``state`` with a mocked ``result``, or a mocked ``error`` (and ``cause``), at DEBUG."""
        key = tuple(sorted((name, str(value)) for name, value in (parameters or {}).items()))
        if key not in self._definitions:
            self._definitions[key] = definition(**(parameters or {}))
        request: dict[str, Any] = {
            "definition": self._definitions[key],
            "stateName": state,
            "input": json.dumps({} if input is None else input),
            "inspectionLevel": "DEBUG",
        }
        if variables:
            request["variables"] = json.dumps(variables)
        if error is not None:
            request["mock"] = {"errorOutput": {"error": error, "cause": cause}}
        elif result is not None:
            request["mock"] = {"result": json.dumps(result), "fieldValidationMode": validation}
        if retry_count is not None:
            request["stateConfiguration"] = {"retrierRetryCount": retry_count}
        if context is not None:
            request["context"] = json.dumps(context)
        answer = self.client.test_state(**request)
        inspection = {name: _parsed(value) for name, value in (answer.get("inspectionData") or {}).items()}
        return Answer(
            status=answer["status"],
            next_state=answer.get("nextState"),
            output=_parsed(answer.get("output")),
            error=answer.get("error"),
            cause=answer.get("cause"),
            inspection=inspection,
        )


@pytest.fixture(scope="session")
def test_state(request: pytest.FixtureRequest) -> Iterator[TestState]:
    config = request.config
    if config.getoption("--teststate-aws"):
        session = boto3.Session(profile_name=config.getoption("--aws-profile"))  # a profile skips the fake env keys
        yield TestState(session.client("stepfunctions", region_name=config.getoption("--aws-region")), on_aws=True)
    else:
        embedded = request.getfixturevalue("embedded")
        yield TestState(embedded.client("stepfunctions"), on_aws=False)
