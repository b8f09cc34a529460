"""A mocked result checked against the output shape of the API its Task calls (``mock.fieldValidationMode``).

AWS (API reference, ``MockInput``; recorded answers in tests/parity/test_state_recordings): ``STRICT`` (the
default) checks the type of every field the API declares and requires the fields the API requires; ``PRESENT``
checks only the fields the mock has; ``NONE`` checks nothing. A field the API does not declare is accepted in
every mode. A failure is a ``ValidationException`` "Mock result schema validation error: <why>".
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.model import Shape

from breakwater.local.test_state.errors import ValidationException

STRICT, PRESENT, NONE = "STRICT", "PRESENT", "NONE"
_PREFIX = "Mock result schema validation error: "
# Step Functions' optimized integrations: resource service -> botocore service model.
_SERVICES = {
    "lambda": "lambda",
    "dynamodb": "dynamodb",
    "sqs": "sqs",
    "sns": "sns",
    "events": "events",
    "states": "stepfunctions",
}
# AWS SDK integrations (``aws-sdk:<service>:<action>``) name a few services otherwise than botocore.
_SDK_SERVICES = {"sfn": "stepfunctions"}


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def output_shape(resource: str) -> tuple[Shape, bool] | None:
    """The output shape of the API a Task ``resource`` calls, and whether its fields are camelCase in the
    model (Step Functions' own API) so that the result writes them PascalCase. None: no known API."""
    parts = resource.split(":")
    if len(parts) < 7 or parts[2] != "states":
        return None
    if parts[5] == "aws-sdk":
        service, action = _SDK_SERVICES.get(parts[6], parts[6]), parts[7] if len(parts) > 7 else ""
    else:
        service, action = _SERVICES.get(parts[5], ""), parts[6]
    action = action.split(".")[0]
    if not service or not action:
        return None
    try:
        model = _model(service)
        operation = model.operation_model(action[0].upper() + action[1:])
    except Exception:  # an API the SDK does not know: nothing to check against
        return None
    shape = operation.output_shape
    return (shape, service == "stepfunctions") if shape is not None else None


def _field(name: str, pascal: bool) -> str:
    return name[0].upper() + name[1:] if pascal and name else name


def check(result: Any, resource: str, mode: str) -> None:
    """Refuse ``result`` as AWS does in ``mode``; nothing to do for a resource with no known API."""
    if mode == NONE:
        return
    found = output_shape(resource)
    if found is None or not isinstance(result, dict):
        return
    shape, pascal = found
    if resource.split(":")[5:6] == ["lambda"]:
        # The optimized integration answers the function's Payload as the JSON it returned, not as the API's
        # blob: any JSON value (AWS's Lambda integration guide shows it as an object).
        result = {name: value for name, value in result.items() if name != "Payload"}
    _check_structure(result, shape, pascal, strict=mode == STRICT)


def _refuse(why: str) -> ValidationException:
    return ValidationException(_PREFIX + why)


def _check_structure(value: dict[str, Any], shape: Any, pascal: bool, strict: bool) -> None:
    if strict:
        for required in shape.required_members:
            if _field(required, pascal) not in value:
                raise _refuse(f"Required field '{_field(required, pascal)}' is missing")
    for name, member in shape.members.items():
        field = _field(name, pascal)
        if field in value and value[field] is not None:
            _check_value(field, value[field], member, pascal, strict)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_value(field: str, value: Any, shape: Any, pascal: bool, strict: bool) -> None:  # noqa: C901
    kind = shape.type_name
    metadata = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            raise _refuse(f"Field '{field}' must be an object")
        _check_structure(value, shape, pascal, strict)
    elif kind == "list":
        if not isinstance(value, list):
            raise _refuse(f"Field '{field}' must be an array")
        for item in value:
            _check_value(field, item, shape.member, pascal, strict)
    elif kind == "map":
        if not isinstance(value, dict):
            raise _refuse(f"Field '{field}' must be an object")
    elif kind in ("string", "timestamp", "blob"):
        if not isinstance(value, str):
            raise _refuse(f"Field '{field}' must be a string")
        if kind == "string" and shape.enum and value not in shape.enum:
            raise _refuse(f"Field '{field}' is not an expected value")
        if "min" in metadata and len(value) < metadata["min"]:
            raise _refuse(f"Field '{field}' is smaller than the minimum length")
        if "max" in metadata and len(value) > metadata["max"]:
            raise _refuse(f"Field '{field}' is larger than the maximum length")
    elif kind in ("integer", "long", "float", "double"):
        if not _is_number(value):
            raise _refuse(f"Field '{field}' must be a number")
        if "min" in metadata and value < metadata["min"]:
            raise _refuse(f"Field '{field}' is less than the minimum value")
        if "max" in metadata and value > metadata["max"]:
            raise _refuse(f"Field '{field}' exceeds the maximum value")
    elif kind == "boolean" and not isinstance(value, bool):
        raise _refuse(f"Field '{field}' must be a boolean")
