"""Tests of breakwater/local/compat/start_time.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

START_TIME = {
    "StartAt": "Echo",
    "States": {"Echo": {"Type": "Pass", "Parameters": {"started.$": "$$.Execution.StartTime"}, "End": True}},
}


def test_execution_start_time_is_an_iso_string(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, START_TIME), {})

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result.output["started"])


def test_without_the_patch_start_time_cannot_be_described(embedded):
    arn = machine(embedded, START_TIME)
    with compat.disabled("start_time"), pytest.raises((ClientError, TypeError, ValueError)):
        run(embedded.client("stepfunctions"), arn, {}, timeout=10)
