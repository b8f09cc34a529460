"""Tests of breakwater/local/compat/redrive_count.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from breakwater.executions import run
from breakwater.local import compat
from tests.compat.helpers import machine

CONTEXT = {"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$$.Execution", "End": True}}}


def test_the_context_objects_execution_has_redrive_count_zero(embedded):
    result = run(embedded.client("stepfunctions"), machine(embedded, CONTEXT), {})

    assert result.output["RedriveCount"] == 0


def test_without_the_patch_the_execution_has_no_redrive_count(embedded):
    with compat.disabled("redrive_count"):
        result = run(embedded.client("stepfunctions"), machine(embedded, CONTEXT), {})

    assert "RedriveCount" not in result.output
