"""Patch ``timeout_path_failure``: a ``TimeoutSecondsPath`` (or ``HeartbeatSecondsPath``) that finds nothing
failed the execution twice (an ``ExecutionFailed`` event inside the state's error handling, then another) and the
first one's cause had no "An error occurred while executing the state ..." prefix. AWS records one
``ExecutionFailed``, prefixed, right after the state was entered (recorded;
tests/parity/recordings/scenarios.json, ``test_invalid_jsonpath``)::

    States.Runtime  An error occurred while executing the state 'task' (entered at the event id #2). Invalid path
                    '$.NoSuchTimeoutSecondsPath' : No results for path: $['NoSuchTimeoutSecondsPath']

The timeout and the heartbeat are resolved before the state's error handling (retries and catchers never see a
``States.Runtime`` failure: ``states_all_terminal``); a path that finds nothing ends the execution there, once.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.common.timeouts.heartbeat import HeartbeatSecondsPath
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSecondsPath
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

from breakwater.local.compat.base import Patch

_original_eval_state = ExecutionState._eval_state


def _eval_state(self: Any, env: Any) -> None:
    for setting in (getattr(self, "timeout", None), getattr(self, "heartbeat", None)):
        if isinstance(setting, TimeoutSecondsPath | HeartbeatSecondsPath):
            setting.eval(env=env)  # raises the execution's failure where the path finds nothing
            env.stack.pop()
    _original_eval_state(self, env)


PATCH = Patch(
    "timeout_path_failure",
    "a TimeoutSecondsPath or HeartbeatSecondsPath finding nothing fails the execution once, prefixed, as on AWS",
    [(ExecutionState, "_eval_state", _eval_state)],
)
