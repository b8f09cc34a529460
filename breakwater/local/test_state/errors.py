"""The errors TestState answers for a request it refuses, with AWS's codes (API reference, TestState: Errors)."""

from __future__ import annotations

from moto.core.exceptions import AWSError


class TestStateRequestError(AWSError):
    """A TestState request AWS refuses (HTTP 400)."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    STATUS = 400


class ValidationException(TestStateRequestError):
    """A request that does not satisfy the API's constraints."""

    TYPE = "ValidationException"


class InvalidDefinition(TestStateRequestError):
    """A definition that is not valid Amazon States Language, or not one TestState accepts."""

    TYPE = "InvalidDefinition"


class InvalidExecutionInput(TestStateRequestError):
    """An input that is not JSON."""

    TYPE = "InvalidExecutionInput"


class InvalidArn(TestStateRequestError):
    """A role ARN that is not an ARN."""

    TYPE = "InvalidArn"
