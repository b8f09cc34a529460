"""Patch ``runtime_error_causes``: a ``States.Runtime`` failure named the wrong event as the one its state was
entered at, and a path that found nothing was worded otherwise than AWS words it.

AWS (recorded; tests/parity/recordings/scenarios.json, ``test_catch_states_runtime``), for ``"OutputPath":
"$.no.such.result.path"`` after a Lambda task::

    An error occurred while executing the state 'RaiseRuntime' (entered at the event id #2). Invalid path
    '$.no.such.result.path' : Missing property in path $['no']

moto said "entered at the event id #5" (the last event, not the state's ``TaskStateEntered``) and "No results
for path: $['no.such.result.path']". AWS words a path that stops at a missing member as its JSONPath library
does: "Missing property in path $['a']" where a member before the last is missing, "No results for path:
$['a']['b']" where the last one is (recorded: ``test_invalid_jsonpath``).
"""

from __future__ import annotations

import re
from typing import Any

from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.path.input_path import InputPath
from moto.stepfunctions.parser.asl.component.common.path.output_path import OutputPath
from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

from breakwater.local.compat.base import Patch
from breakwater.local.compat.history import entered_event_of

_SEGMENT = re.compile(r"\.([A-Za-z0-9_$\-]+)|\['([^']*)'\]|\[(\d+)\]")


def _segments(path: str) -> list[str | int] | None:
    """The members of a plain JSONPath (``$.a['b'][0]``), or None for one with wildcards, filters and the like."""
    if not path.startswith("$"):
        return None
    segments: list[str | int] = []
    position = 1
    for found in _SEGMENT.finditer(path, 1):
        if found.start() != position:
            return None
        name, quoted, index = found.groups()
        segments.append(int(index) if index is not None else (name if name is not None else quoted))
        position = found.end()
    return segments if position == len(path) and segments else None


def _written(segments: list[str | int]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f"['{s}']" for s in segments)


def missing_path_message(path: str, data: Any) -> str | None:
    """What AWS says of a plain path that finds nothing in ``data`` (None: a path this does not word)."""
    segments = _segments(path)
    if segments is None:
        return None
    node = data
    for position, segment in enumerate(segments):
        present = (isinstance(segment, int) and isinstance(node, list) and segment < len(node)) or (
            isinstance(segment, str) and isinstance(node, dict) and segment in node
        )
        if not present:
            if position == len(segments) - 1:
                return f"No results for path: {_written(segments)}"
            return f"Missing property in path {_written(segments[: position + 1])}"
        node = node[segment]  # type: ignore[index]
    return None


def _worded(original: Any) -> Any:
    def body(self: Any, env: Any) -> None:
        try:
            original(self, env)
        except FailureEventException as failure:
            missing = failure.__context__
            details: Any = failure.failure_event.event_details or {}
            if isinstance(missing, NoSuchJsonPathError):
                message = missing_path_message(missing.json_path, missing.data)
                for spec in details.values():
                    if message and isinstance(spec, dict) and "cause" in spec:
                        spec["cause"] = f"Invalid path '{missing.json_path}' : {message}"
            raise

    return body


_original_failure_event_init = FailureEvent.__init__


def _failure_event_init(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
    """As moto makes it, its source the event its state was entered at (which AWS names in causes)."""
    _original_failure_event_init(self, env, *args, **kwargs)
    entered = entered_event_of(env)
    if entered is not None:
        self.source_event_id = entered["id"]


PATCH = Patch(
    "runtime_error_causes",
    "States.Runtime causes name the event the state was entered at, and word a missing path as AWS does",
    [
        (InputPath, "_eval_body", _worded(InputPath._eval_body)),
        (OutputPath, "_eval_body", _worded(OutputPath._eval_body)),
        (FailureEvent, "__init__", _failure_event_init),
    ],
)
