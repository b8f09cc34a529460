"""The transitions function's heartbeat and the local schedule it runs on, without AWS."""

from __future__ import annotations

from typing import Any

import pytest

from breakwater.local.event_source import rate_seconds
from tests import function_modules


@pytest.fixture(scope="module")
def transitions() -> Any:
    return function_modules.load("transitions")


class Table:
    """Answers Scan in pages of ``page`` items, as DynamoDB does past 1 MB."""

    def __init__(self, items: list[dict[str, Any]], page: int) -> None:
        self.items, self.page, self.scans = items, page, []

    def scan(self, **request: Any) -> dict[str, Any]:
        self.scans.append(request)
        start = int(request.get("ExclusiveStartKey", {}).get("at", {}).get("N", "0"))
        answer: dict[str, Any] = {"Items": self.items[start : start + self.page]}
        if start + self.page < len(self.items):
            answer["LastEvaluatedKey"] = {"at": {"N": str(start + self.page)}}
        return answer


class CloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def put_metric_data(self, **request: Any) -> None:
        assert len(request["MetricData"]) <= 1000  # the API's limit per request
        self.calls.append(request)


def record(service: str, state: str | None) -> dict[str, Any]:
    item = {"serviceName": {"S": service}}
    if state:
        item["state"] = {"S": state}
    return item


def test_every_page_of_the_table_is_read(transitions):
    table = Table([record(f"svc-{i}", "OPEN") for i in range(7)], page=3)

    states = transitions.current_states(table, "breakers", "default-api")

    assert len(table.scans) == 3
    # `state` and `mode` are reserved words
    assert table.scans[0]["ExpressionAttributeNames"] == {"#state": "state", "#mode": "mode"}
    assert states == {"default-api": "CLOSED", **{f"svc-{i}": "OPEN" for i in range(7)}}


def test_a_record_without_a_state_is_closed_and_the_default_service_is_not_overwritten(transitions):
    table = Table([record("fresh-api", None), record("default-api", "HALF_OPEN")], page=10)

    assert transitions.current_states(table, "breakers", "default-api") == {
        "default-api": "HALF_OPEN",
        "fresh-api": "CLOSED",
    }


def test_many_breakers_are_published_in_requests_within_the_api_limit(transitions, monkeypatch):
    table, cloudwatch = Table([record(f"svc-{i:04d}", "HALF_OPEN") for i in range(1200)], page=1000), CloudWatch()
    monkeypatch.setattr(transitions, "_clients", {"dynamodb": table, "cloudwatch": cloudwatch})
    monkeypatch.setenv("BREAKER_TABLE", "breakers")
    monkeypatch.setenv("SERVICE_NAME", "default-api")
    monkeypatch.setenv(transitions.NAMESPACE_ENV, "Team/Payments")

    result = transitions.handler({"detail-type": "Scheduled Event", "source": "aws.events"}, None)

    published = [d for call in cloudwatch.calls for d in call["MetricData"]]
    assert result == {"published": 1201}
    # Two datums per breaker (by service, and by service and mode): 2,402 in requests of at most 500.
    assert [len(call["MetricData"]) for call in cloudwatch.calls] == [500, 500, 500, 500, 402]
    assert {call["Namespace"] for call in cloudwatch.calls} == {"Team/Payments"}
    assert {d["Dimensions"][0]["Value"] for d in published} == {"default-api", *(f"svc-{i:04d}" for i in range(1200))}
    assert {d["Value"] for d in published if d["Dimensions"][0]["Value"] != "default-api"} == {1}


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)],
)
def test_rate_expressions(expression, seconds):
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize(
    "expression", ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "cron(0 12 * * ? *)", "rate(1 week)"]
)
def test_expressions_eventbridge_rejects_or_the_local_stack_cannot_run_are_refused(expression):
    with pytest.raises(ValueError, match="schedule expression"):
        rate_seconds(expression)
