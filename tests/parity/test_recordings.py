"""The local stack answers as AWS answered: executions recorded against AWS, replayed and compared."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.parity.replay import Difference, assert_as_known, load_known, load_recordings, replay_all

RECORDINGS = load_recordings()
KNOWN = load_known()


@pytest.fixture(scope="module")
def replayed(embedded: Any) -> dict[str, list[Difference]]:
    return {recording.id: found for recording, found in replay_all(embedded.client, RECORDINGS)}


@pytest.mark.parametrize("recording", RECORDINGS, ids=[r.id for r in RECORDINGS])
def test_the_local_stack_answers_as_aws_recorded(replayed, recording):
    found = replayed[recording.id]
    assert_as_known(found, KNOWN.get(recording.id))


def test_report(replayed):
    exact = sum(1 for found in replayed.values() if not found)
    substance = sum(1 for found in replayed.values() if all(d.cosmetic for d in found))
    if os.environ.get("PARITY_REPORT"):
        print(f"\nparity: {exact} of {len(replayed)} exact, {substance} after forgiving cosmetic fields")
        for name, found in sorted(replayed.items()):
            for difference in found:
                print(f"  {name}: {difference}")
    assert exact + len(KNOWN) >= len(replayed)
