"""Patch ``assign_after_state``: a state's ``Assign`` took effect at once, so the state's own later fields
(``ResultPath``, ``OutputPath``, ``Output``) read the new values; on AWS they read the values from before the
state, and the new ones reach the states that follow.

AWS: "the variable values are assigned ... after the state completes"; every reference inside a state uses
the values it had when the state was entered (Step Functions developer guide, "Passing data between states
with variables", and the recording ``test_state_assign_evaluation_order``: with ``answer`` = 42 assigned
earlier, ``"OutputPath": "$answer"`` beside ``"Assign": {"answer": "<omitted>"}`` outputs 42).
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.common.assign.assign_decl import AssignDecl
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField

from breakwater.local.compat.base import Patch

PENDING = "_breakwater_pending_assignments"


def _pending(store: Any) -> dict[str, Any]:
    pending: dict[str, Any] = store.__dict__.setdefault(PENDING, {})
    return pending


def _assign_on_exit(self: Any, env: Any) -> None:
    """Evaluate the bindings (with the variables as they are) and keep the values for the state's exit."""
    declarations: dict[str, Any] = {}
    for declaration_binding in self.declaration_bindings:
        declaration_binding.eval(env=env)
        declarations.update(env.stack.pop())
    _pending(env.variable_store).update(declarations)


_original_entered = CommonStateField._get_state_entered_event_details
_original_exited = CommonStateField._get_state_exited_event_details


def _entered(self: Any, env: Any) -> Any:
    _pending(env.variable_store).clear()  # what a state that failed had assigned never took effect
    return _original_entered(self, env)


def _exited(self: Any, env: Any) -> Any:
    pending = _pending(env.variable_store)
    for identifier, value in pending.items():
        env.variable_store.set(variable_identifier=identifier, variable_value=value)
    pending.clear()
    return _original_exited(self, env)


PATCH = Patch(
    "assign_after_state",
    "a state's Assign takes effect when the state exits: its own fields read the values from before it",
    [
        (AssignDecl, "_eval_body", _assign_on_exit),
        (CommonStateField, "_get_state_entered_event_details", _entered),
        (CommonStateField, "_get_state_exited_event_details", _exited),
    ],
)
