"""Patch ``execution_type``: moto runs every execution as STANDARD (``StateMachine.sm_type`` is set to
"STANDARD" whatever the machine's type); an EXPRESS machine's executions are EXPRESS, as on AWS, so what
depends on the type (STANDARD's state-transition quota under ``aws_limits``) sees the right one.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.models import StateMachine

from breakwater.local.compat.base import Patch


def _type_of(self: Any) -> str:
    return str(self.type or "STANDARD")


def _keep_assignment(self: Any, value: Any) -> None:
    """moto's constructor assigns "STANDARD": kept aside (what moto reads once the patch is removed)."""
    self.__dict__["sm_type"] = value


PATCH = Patch(
    "execution_type",
    "an EXPRESS state machine's executions run as EXPRESS, not STANDARD",
    [(StateMachine, "sm_type", property(_type_of, _keep_assignment))],
)
