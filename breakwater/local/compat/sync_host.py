"""Patch ``sync_host``: botocore sends StartSyncExecution and TestState to ``sync-states.<region>.amazonaws.com``
(the operations' ``hostPrefix``), a host moto's in-process mock does not route, so an embedded stack's ordinary
client got "Not yet implemented" (HTTP 404) for both. The in-process mock now takes that host for Step
Functions', as AWS serves both at it. (``local up`` serves one host and tells clients not to add the prefix:
``AWS_DISABLE_HOST_PREFIX_INJECTION``.)
"""

from __future__ import annotations

from typing import Any

from moto.core.botocore_stubber import BotocoreStubber

from breakwater.local.compat.base import Patch

SYNC_HOST, STATES_HOST = "://sync-states.", "://states."

_original_process_request = BotocoreStubber.process_request


def _process_request(self: Any, request: Any) -> Any:
    if SYNC_HOST in request.url:
        request.url = request.url.replace(SYNC_HOST, STATES_HOST, 1)
    return _original_process_request(self, request)


PATCH = Patch(
    "sync_host",
    "the sync-states host (StartSyncExecution, TestState) reaches Step Functions in-process",
    [(BotocoreStubber, "process_request", _process_request)],
)
