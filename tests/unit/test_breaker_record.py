"""The breaker record, decoded once for the CLI and the console."""

from __future__ import annotations

from breakwater.breaker import Breaker


def test_the_failure_rate_is_failures_per_counted_call():
    item = {"state": {"S": "CLOSED"}, "failureCount": {"N": "3"}, "callCount": {"N": "12"}, "mode": {"S": "SHADOW"}}

    breaker = Breaker.from_item("payment-api", item)

    assert (breaker.failure_count, breaker.call_count, breaker.mode) == (3, 12, "SHADOW")
    assert breaker.failure_rate == "25%"


def test_a_breaker_without_counted_calls_has_no_rate():
    assert Breaker.from_item("payment-api", None).failure_rate == "-"
