"""Patch ``map_items_cause``: a Map whose items are not an array failed with a cause naming a Python class
("Map state input must be an array but was: <class 'bool'>"); AWS writes the value, as compact JSON (recorded;
tests/parity/recordings/scenarios.json, ``test_map_state_items_input_types``)::

    ... Map state input must be an array but was: true        (null, 1, "string", {"foo":"bar"})
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEventException
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

from breakwater.local.compat.base import Patch

_MESSAGE = "Map state input must be an array but was: "
_original_eval_execution = StateMap._eval_execution


def _items(state: Any, env: Any) -> Any:
    """The Map's items, evaluated again as the state evaluated them (``Items``, ``ItemsPath`` or its input)."""
    if state.items:
        state.items.eval(env=env)
        return env.stack.pop()
    value = env.states.get_input()
    if state.items_path:
        env.stack.append(value)
        state.items_path.eval(env=env)
        value = env.stack.pop()
    return value


def _eval_execution(self: Any, env: Any) -> None:
    try:
        _original_eval_execution(self, env)
    except FailureEventException as failure:
        event_details: dict[str, Any] = dict(failure.failure_event.event_details or {})
        details = event_details.get("evaluationFailedEventDetails")
        if isinstance(details, dict) and str(details.get("cause", "")).startswith(_MESSAGE + "<class"):
            with contextlib.suppress(Exception):  # a value that cannot be had again keeps moto's words
                written = json.dumps(_items(self, env), separators=(",", ":"), ensure_ascii=False)
                details["cause"] = _MESSAGE + written
        raise


PATCH = Patch(
    "map_items_cause",
    "a Map whose items are not an array names the value, as AWS does, not a Python class",
    [(StateMap, "_eval_execution", _eval_execution)],
)
