"""The transitions function's stream path: events with a deduplication key, and partial PutEvents failures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import function_modules


@pytest.fixture(scope="module")
def transitions() -> Any:
    return function_modules.load("transitions")


class Events:
    """PutEvents that fails the entries at ``failing`` (0-based), answering 200 as EventBridge does."""

    def __init__(self, failing: frozenset[int] = frozenset()) -> None:
        self.failing, self.calls = failing, []

    def put_events(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        entries = [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"} if i in self.failing else {"EventId": f"e{i}"}
            for i in range(len(request["Entries"]))
        ]
        return {"FailedEntryCount": len(self.failing), "Entries": entries}


class CloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def put_metric_data(self, **request: Any) -> None:
        self.calls.append(request)


def stream_record(service: str, before: str, after: str, version: int) -> dict[str, Any]:
    return {
        "eventName": "MODIFY",
        "dynamodb": {
            "OldImage": {"serviceName": {"S": service}, "state": {"S": before}, "version": {"N": str(version - 1)}},
            "NewImage": {
                "serviceName": {"S": service},
                "state": {"S": after},
                "version": {"N": str(version)},
                "lastTransitionMs": {"N": "1772442000000"},
            },
        },
    }


@pytest.fixture
def clients(transitions, monkeypatch) -> tuple[Events, CloudWatch]:
    events, cloudwatch = Events(), CloudWatch()
    monkeypatch.setattr(transitions, "_clients", {"events": events, "cloudwatch": cloudwatch})
    monkeypatch.setenv(transitions.NAMESPACE_ENV, "Team/Payments")
    return events, cloudwatch


def test_each_event_carries_a_deduplication_key_of_service_and_version(transitions, clients):
    events, _ = clients

    transitions.handler({"Records": [stream_record("payment-api", "CLOSED", "OPEN", 7)]}, None)

    detail = json.loads(events.calls[0]["Entries"][0]["Detail"])
    assert detail["dedupKey"] == "payment-api#7"
    assert (detail["from"], detail["to"], detail["version"]) == ("CLOSED", "OPEN", 7)


def test_a_partial_put_events_failure_fails_the_batch_so_the_stream_retries_it(transitions, monkeypatch):
    events, cloudwatch = Events(failing=frozenset({1})), CloudWatch()
    monkeypatch.setattr(transitions, "_clients", {"events": events, "cloudwatch": cloudwatch})
    batch = {"Records": [stream_record("a", "CLOSED", "OPEN", 1), stream_record("b", "OPEN", "HALF_OPEN", 4)]}

    with pytest.raises(transitions.EventsNotPublished, match=r"1 of 2 entries.*b#4"):
        transitions.handler(batch, None)

    assert len(events.calls) == 1
    assert cloudwatch.calls == []  # published together with the events, once the batch goes through


def test_metrics_go_to_the_namespace_the_template_gives(transitions, clients):
    _, cloudwatch = clients

    transitions.handler({"Records": [stream_record("payment-api", "OPEN", "CLOSED", 3)]}, None)

    assert [c["Namespace"] for c in cloudwatch.calls] == ["Team/Payments"]
    assert cloudwatch.calls[0]["MetricData"][0]["Value"] == 0


def test_transitions_and_their_metric_carry_the_breakers_mode(transitions, monkeypatch):
    record = stream_record("svc", "CLOSED", "OPEN", 3)
    record["dynamodb"]["NewImage"]["mode"] = {"S": "SHADOW"}
    events, cloudwatch = Events(), CloudWatch()
    monkeypatch.setattr(transitions, "_clients", {"events": events, "cloudwatch": cloudwatch})
    monkeypatch.setenv("BREAKER_MODE", "ENFORCE")

    transitions.publish_transitions({"Records": [record, stream_record("other", "OPEN", "HALF_OPEN", 2)]})

    details = [json.loads(e["Detail"]) for e in events.calls[0]["Entries"]]
    assert [d["mode"] for d in details] == ["SHADOW", "ENFORCE"]  # a record without one: the template's
    metrics = [
        (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
        for m in cloudwatch.calls[0]["MetricData"]
    ]
    assert ("CircuitState", (("ServiceName", "svc"),)) in metrics  # what the open-circuit alarm watches
    assert ("CircuitStateByMode", (("ServiceName", "svc"), ("Mode", "SHADOW"))) in metrics
