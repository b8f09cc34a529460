"""Tests of breakwater/local/compat/execution_names.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import re

from breakwater.local import compat
from tests.compat.helpers import JSONATA, machine


def test_unnamed_executions_get_distinct_uuid_names(embedded):
    sfn = embedded.client("stepfunctions")
    arn = machine(embedded, JSONATA)

    first = sfn.start_execution(stateMachineArn=arn, input='{"a": 1, "b": 2}')["executionArn"]
    second = sfn.start_execution(stateMachineArn=arn, input='{"a": 1, "b": 2}')["executionArn"]

    names = [a.rsplit(":", 1)[-1] for a in (first, second)]
    assert names[0] != names[1]
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", n) for n in names)
    assert sfn.describe_execution(executionArn=first)["name"] == names[0]


def test_without_the_name_patch_an_unnamed_execution_is_called_none(embedded):
    sfn = embedded.client("stepfunctions")
    arn = machine(embedded, JSONATA)

    with compat.disabled("execution_names"):
        started = sfn.start_execution(stateMachineArn=arn, input='{"a": 1, "b": 2}')["executionArn"]

    assert started.endswith(":None")
