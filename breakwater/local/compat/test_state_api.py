"""Patch ``test_state_api``: moto does not serve TestState (its own port of it is unreachable and has no mocks,
variables, context or ``stateName``); the local stack serves it from ``breakwater.local.test_state``, with AWS's
request and response shapes (API reference, TestState). Clients reach it at the same endpoint as every other
API (``local up`` disables the ``sync-`` host prefix, as for StartSyncExecution).
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions import responses as sfn_responses

from breakwater.local.compat.base import Patch


def _test_state(self: Any) -> Any:
    from breakwater.local.test_state import answer

    params = json.loads(self.body or "{}")
    return ActionResult(answer(params, self.current_account, self.region))


PATCH = Patch(
    "test_state_api",
    "TestState, served by the local stack with AWS's shapes (breakwater.local.test_state)",
    [(sfn_responses.StepFunctionResponse, "test_state", _test_state)],
)
