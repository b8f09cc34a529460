"""Patch ``express_names``: moto holds every workflow to STANDARD's name rule (a name used before raises
ExecutionAlreadyExists); on AWS an EXPRESS workflow does not manage idempotency, and a name used again starts
another execution ("Execution guarantees" in the Step Functions developer guide).
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions import models as sfn_models

from breakwater.local.compat.base import Patch

EXPRESS = "EXPRESS"
_original = sfn_models.StateMachine._handle_name_input_idempotency


def _idempotent_for_standard_only(self: Any, name: str, execution_input: str) -> Any:
    """STANDARD: moto's rule (same name and input while running: that execution; otherwise refused). EXPRESS: none."""
    if getattr(self, "type", None) == EXPRESS:
        return None
    return _original(self, name, execution_input)


PATCH = Patch(
    "express_names",
    "an EXPRESS workflow starts another execution under a name used before, as on AWS",
    [(sfn_models.StateMachine, "_handle_name_input_idempotency", _idempotent_for_standard_only)],
)
