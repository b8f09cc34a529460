"""Patch ``execution_output``: DescribeExecution answered a string output without its JSON quotes (``abc`` for
``"abc"``), no output at all for ``null``, and objects with spaces (``{"a": "b"}``); a client that parses the
output as the JSON text AWS sends failed on the first, and saw ``None`` for the second.

AWS's ``output`` is "the JSON output data of the execution" (API reference, DescribeExecution): the same text
as the ``ExecutionSucceeded`` event's, compact. moto's own execution model writes it so
(``Execution.to_describe_output``); its response handler did not use it.

DescribeExecution's handler is ``redrive_execution``'s (it adds the redrive fields to moto's answer); this
patch corrects moto's answer under it, so the two stay apart (patches on one attribute would undo each other).
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from breakwater.local.compat import redrive_execution
from breakwater.local.compat.base import Patch

_original_describe = redrive_execution._original_describe_execution  # moto's handler


def json_output(value: Any) -> str:
    """An execution's output as AWS sends it: compact JSON text."""
    return to_json_str(value, separators=(",", ":"))


def _describe_execution(self: Any) -> Any:
    answer = _original_describe(self)
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    response: Any = answer.result
    if execution.status == "SUCCEEDED":
        response["output"] = json_output(execution.output)
    return answer


PATCH = Patch(
    "execution_output",
    "DescribeExecution answers the output as the JSON text of the history's ExecutionSucceeded",
    [(redrive_execution, "_original_describe_execution", _describe_execution)],
)
