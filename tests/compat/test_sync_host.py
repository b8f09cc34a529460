"""Tests of breakwater/local/compat/sync_host.py: the patch is needed for an in-process client to reach the APIs AWS
serves on a ``sync-`` host (TestState's answers themselves: test_test_state_api.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from breakwater.local import compat


def test_without_the_sync_host_an_in_process_client_cannot_reach_test_state(embedded: Any) -> None:
    sfn = embedded.client("stepfunctions")
    with compat.disabled("sync_host"), pytest.raises(ClientError) as missing:
        sfn.test_state(definition=json.dumps({"Type": "Pass", "End": True}))

    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
