"""Tests of breakwater/local/compat/events_schedule_rules.py: the behaviour the patch gives the emulator, and that the
patch is needed (the behaviour breaks without it)."""

from __future__ import annotations

import pytest

from breakwater.local import compat

EVENT = {"Source": "breakwater", "DetailType": "Breaker state changed", "Detail": "{}", "EventBusName": "default"}


def test_events_are_published_beside_a_scheduled_lambda_rule(embedded, provider):
    embedded.deploy()  # the transitions function's heartbeat: a schedule-only rule with a Lambda target

    response = embedded.client("events").put_events(Entries=[EVENT])

    assert response["FailedEntryCount"] == 0


def test_without_the_rule_patch_a_scheduled_lambda_rule_breaks_put_events(embedded, provider):
    embedded.deploy()

    with compat.disabled("events_schedule_rules"), pytest.raises(NotImplementedError):
        embedded.client("events").put_events(Entries=[EVENT])
