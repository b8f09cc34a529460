"""Patch ``sync_host``: botocore sends StartSyncExecution and TestState to ``sync-states.<region>.amazonaws.com``
(the operations' ``hostPrefix``), a host moto's in-process mock does not route, so an embedded stack's ordinary
client got "Not yet implemented" (HTTP 404) for both. The host is routed to Step Functions, as AWS routes it.
(``local up`` serves one host and tells clients not to add the prefix: ``AWS_DISABLE_HOST_PREFIX_INJECTION``.)
"""

from __future__ import annotations

import re

from moto import backend_index
from moto.stepfunctions import urls as sfn_urls

from breakwater.local.compat.base import Patch

SYNC_HOST = r"https?://sync-states\.(.+)\.amazonaws.com"

PATCH = Patch(
    "sync_host",
    "the sync-states host (StartSyncExecution, TestState) reaches Step Functions in-process",
    [
        (sfn_urls, "url_bases", [*sfn_urls.url_bases, SYNC_HOST]),
        (
            backend_index,
            "backend_url_patterns",
            [*backend_index.backend_url_patterns, ("stepfunctions", re.compile(SYNC_HOST))],
        ),
    ],
)
