"""Patch ``execution_names``: an execution started without ``name`` gets the ARN ``...:None`` (a second one fails
with ExecutionAlreadyExists); AWS names it with a UUID.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.stepfunctions.parser import models as sfn_parser_models

from breakwater.local.compat.base import Patch

_original_parser_start_execution = sfn_parser_models.StepFunctionsParserBackend.start_execution


def _start_execution_named(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
    """StartExecution without a name: the execution is named with a UUID, as on AWS."""
    return _original_parser_start_execution(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


PATCH = Patch(
    "execution_names",
    "an execution started without a name is named with a UUID",
    [(sfn_parser_models.StepFunctionsParserBackend, "start_execution", _start_execution_named)],
)
