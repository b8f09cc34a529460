"""Tests of breakwater/local/compat/timestamps.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import pytest

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

TIMESTAMP = {
    "StartAt": "Is it earlier?",
    "States": {
        "Is it earlier?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.t", "TimestampLessThan": "2026-01-01T00:00:00Z", "Next": "Earlier"}],
            "Default": "Not earlier",
        },
        "Earlier": {"Type": "Succeed"},
        "Not earlier": {"Type": "Succeed"},
    },
}


@pytest.mark.parametrize(
    "stamp", ["2025-06-01T12:00:00.123Z", "2025-12-31T23:30:00-00:15", "2026-01-01T00:30:00+01:00"]
)
def test_timestamps_with_fractions_and_offsets_compare(embedded, stamp):
    result = run(embedded.client("stepfunctions"), machine(embedded, TIMESTAMP), {"t": stamp})

    assert result.path[-1] == "Earlier"


def test_without_the_timestamp_patch_fractional_timestamps_never_match(embedded):
    arn = machine(embedded, TIMESTAMP)
    with compat.disabled("timestamps"):
        result = run(embedded.client("stepfunctions"), arn, {"t": "2025-06-01T12:00:00.123Z"})

    assert result.path[-1] == "Not earlier"


def test_rfc3339_parser_rejects_what_aws_rejects():
    assert compat.parse_rfc3339("2025-06-01 12:00:00Z") is None
    assert compat.parse_rfc3339("2025-06-01T12:00:00") is None
    assert compat.parse_rfc3339("yesterday") is None
    assert compat.parse_rfc3339("2025-06-01T12:00:00+02:00").hour == 10
