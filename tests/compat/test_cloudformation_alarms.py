"""Tests of breakwater/local/compat/cloudformation_alarms.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

from typing import Any

import pytest

from breakwater.local import compat


def open_circuit_alarms(embedded: Any, stack_name: str) -> list[dict[str, Any]]:
    alarms = embedded.client("cloudwatch").describe_alarms()["MetricAlarms"]
    return [a for a in alarms if a["AlarmName"].startswith(f"{stack_name}-CircuitOpenAlarm-")]


def test_the_stack_creates_and_deletes_its_open_circuit_alarm(embedded, provider):
    stack = embedded.deploy(ServiceName="alarmed-api")

    (alarm,) = open_circuit_alarms(embedded, stack.name)
    # every page: SNS answers 100 topics a page, and the session's embedded stack holds every earlier test's stacks
    pages = embedded.client("sns").get_paginator("list_topics").paginate()
    topic = [listed for page in pages for listed in page["Topics"]]
    embedded.client("cloudformation").delete_stack(StackName=stack.name)

    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("Breakwater", "CircuitState", "Maximum")
    assert alarm["Dimensions"] == [{"Name": "ServiceName", "Value": "alarmed-api"}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["Period"]) == (
        "GreaterThanOrEqualToThreshold",
        2,
        60,
    )
    assert alarm["TreatMissingData"] == "ignore"
    assert alarm["AlarmActions"] == alarm["OKActions"]
    assert alarm["AlarmActions"][0] in {t["TopicArn"] for t in topic}
    assert open_circuit_alarms(embedded, stack.name) == []


def test_without_the_alarm_patch_the_stack_has_no_alarm(embedded, provider):
    with compat.disabled("cloudformation_alarms"), pytest.warns(UserWarning, match="AWS::CloudWatch::Alarm"):
        stack = embedded.deploy()

    assert open_circuit_alarms(embedded, stack.name) == []
