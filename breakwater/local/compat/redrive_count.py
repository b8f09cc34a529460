"""Patch ``redrive_count``: the context object's ``Execution`` lacked ``RedriveCount``; AWS writes it, 0 for an
execution never redriven (recorded: ``$$`` in tests/parity/recordings/context_object.json, and the developer
guide's "Context object": ``Execution.RedriveCount``, "the number of times this execution has been redriven").
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.eval.states import States

from breakwater.local.compat.base import Patch

_original_init = States.__init__


def _states_init(self: Any, context: Any) -> None:
    execution = context.get("Execution")
    if isinstance(execution, dict):
        execution.setdefault("RedriveCount", 0)
    _original_init(self, context)


PATCH = Patch(
    "redrive_count",
    "the context object's Execution has RedriveCount (0 for an execution never redriven)",
    [(States, "__init__", _states_init)],
)
