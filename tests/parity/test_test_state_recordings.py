"""The local stack's TestState answers as AWS's did: requests recorded against AWS, replayed and compared."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.parity.replay import Difference, Resources, assert_as_known
from tests.parity.test_state_replay import differences, load_known, load_test_state_recordings

RECORDINGS = load_test_state_recordings()
KNOWN = load_known()


@pytest.fixture(scope="module")
def answered(embedded: Any) -> dict[str, list[Difference]]:
    resources = Resources(embedded.client)
    client = embedded.client("stepfunctions")
    found: dict[str, list[Difference]] = {}
    for recording in RECORDINGS:
        try:
            found[recording.id] = differences(client, resources, recording)
        except Exception as crash:  # an answer the client cannot read is a difference like any other
            found[recording.id] = [Difference("(answer)", "an answer", f"{type(crash).__name__}: {crash}")]
    return found


@pytest.mark.parametrize("recording", RECORDINGS, ids=[r.id for r in RECORDINGS])
def test_test_state_answers_as_aws_recorded(answered, recording):
    found = answered[recording.id]
    assert_as_known(found, KNOWN.get(recording.id))


def test_test_state_report(answered):
    exact = sum(1 for found in answered.values() if not found)
    if os.environ.get("PARITY_REPORT"):
        print(f"\ntest state parity: {exact} of {len(answered)} exact")
        for name, found in sorted(answered.items()):
            for difference in found:
                print(f"  {name}: {difference}")
    assert exact + len(KNOWN) >= len(answered)
