"""TestState, served by the local stack: one state run with its mock, variables and context, answered in the
shape AWS's TestState API answers (``status``, ``output``, ``error``, ``cause``, ``nextState``,
``inspectionData``), and requests AWS refuses refused with AWS's error codes and messages.

``request`` reads and checks a request, ``mock_schema`` checks a mocked result against its API's shape,
``runner`` runs the state. ``compat.test_state_api`` serves it (``local up`` and the embedded stack).
See docs/testing.md, "Testing with TestState".
"""

from __future__ import annotations

from typing import Any

from breakwater.local.test_state.request import read_request
from breakwater.local.test_state.runner import run, to_api


def answer(params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """TestState's answer to ``params`` (the API's JSON request); raises its refusal (an AWS error)."""
    request = read_request(params)
    return to_api(run(request, account, region), request)


__all__ = ["answer"]
