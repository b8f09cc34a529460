"""Patch ``execution_requests``: StartExecution (and StartSyncExecution) accepted what AWS refuses, so a bug
passed locally and failed on AWS: names with spaces, ``<>`` and the like or longer than 80 characters, inputs
over 256 KiB, and input that is not JSON, answered "An error occurred ()" with an empty error code.

AWS (recorded; LocalStack's ``test_sfn_api`` and ``test_sfn_api_activities`` snapshots, and the API reference):

* a name is 1 to 80 characters with no whitespace, no ``< > { } [ ]``, no ``? *``, none of
  ``" # % \\ ^ | ~ ` $ & , ; : /`` and no control character: ``InvalidName`` "Invalid Name: '<name>'";
  longer: ``ValidationException`` "1 validation error detected: Value '<name>' at 'name' failed to satisfy
  constraint: Member must have length less than or equal to 80";
* input that is not JSON: ``InvalidExecutionInput`` "Invalid State Machine Execution Input: '<parser message>'",
  the parser's message worded as AWS's (Jackson's) for the recorded cases, Python's otherwise;
* input longer than 262144 characters (the model's ``max``): ``ValidationException``, worded as the service
  words its constraints (no recording of this one);
* a name used before: on a STANDARD workflow moto's rule (the running execution of the same name and input,
  otherwise ``ExecutionAlreadyExists``); an EXPRESS workflow manages no idempotency, so the name starts another
  execution ("Execution guarantees" in the Step Functions developer guide), where moto refused it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moto.core.exceptions import AWSError
from moto.stepfunctions.models import StateMachine

from breakwater.local.compat.base import Patch

NAME_MAX = 80
INPUT_MAX = 262144
_FORBIDDEN = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")


class InvalidName(AWSError):
    """A name AWS refuses."""

    TYPE = "InvalidName"
    STATUS = 400


class InvalidExecutionInput(AWSError):
    """An execution input that is not JSON."""

    TYPE = "InvalidExecutionInput"
    STATUS = 400


class ValidationException(AWSError):
    """A request member outside the API model's constraints."""

    TYPE = "ValidationException"
    STATUS = 400


def check_name(name: str) -> None:
    if len(name) > NAME_MAX:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
            f"Member must have length less than or equal to {NAME_MAX}"
        )
    if not name or _FORBIDDEN.search(name):
        raise InvalidName(f"Invalid Name: '{name}'")


def parser_message(text: str) -> str:
    """Why ``text`` is not JSON, in the words AWS's JSON parser uses for the cases recorded."""
    if not text.strip():
        return "Invalid execution input."
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        position = error.pos
        rest = text[position:]
        word = re.match(r"[A-Za-z0-9_]+", rest)
        if word and not rest.startswith(('"', "{", "[")):
            return (
                f"Unrecognized token '{word.group(0)}': was expecting (JSON String, Number, Array, Object or token "
                "'null', 'true' or 'false')"
            )
        if error.msg.startswith("Expecting property name") and rest:
            character = rest[0]
            return (
                f"Unexpected character ('{character}' (code {ord(character)})): "
                "was expecting double-quote to start field name"
            )
        return error.msg
    return ""


def check_input(text: Any) -> None:
    if text is None:
        return
    if len(text) > INPUT_MAX:
        raise ValidationException(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {INPUT_MAX}"
        )
    message = parser_message(text)
    if message:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{message}'")


_original_idempotency = StateMachine._handle_name_input_idempotency


def _checked(self: Any, name: Any, execution_input: Any) -> Any:
    """Every StartExecution reaches this first: the request is checked as AWS checks it."""
    if name is not None:
        check_name(str(name))
    check_input(execution_input)
    if getattr(self, "type", None) == "EXPRESS":
        return None
    return _original_idempotency(self, name, execution_input)


PATCH = Patch(
    "execution_requests",
    "StartExecution refuses names, inputs and input sizes as AWS does, with AWS's error codes; EXPRESS reuses names",
    [(StateMachine, "_handle_name_input_idempotency", _checked)],
)
