"""Patch ``lambda_not_found``: Invoke of a function that does not exist answered "Function not found: <arn>";
Lambda names the version it looked for, ``$LATEST`` when the call names none.

Recorded (a ``lambda:invoke`` Task's cause, tests/parity/recordings/lambda_service_errors.json, 2025-11-25)::

    Function not found: arn:aws:lambda:<region>:<account>:function:no_such_fn:$LATEST (Service: AWSLambda;
    Status Code: 404; Error Code: ResourceNotFoundException; ...)
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaBackend

from breakwater.local.compat.base import Patch

_PREFIX = "Function not found: "
_original_invoke = LambdaBackend.invoke


def _invoke(self: Any, function_name: str, qualifier: str | None, *args: Any, **kwargs: Any) -> Any:
    try:
        return _original_invoke(self, function_name, qualifier, *args, **kwargs)
    except UnknownFunctionException as missing:
        message = str(getattr(missing, "message", "") or "")
        arn = message[len(_PREFIX) :] if message.startswith(_PREFIX) else ""
        if qualifier or not arn.startswith("arn:") or arn.count(":") > 6:
            raise
        raise UnknownFunctionException(f"{arn}:$LATEST") from None


PATCH = Patch(
    "lambda_not_found",
    "Invoke of a missing function names the version looked for ($LATEST), as Lambda does",
    [(LambdaBackend, "invoke", _invoke)],
)
